// The status page (GET /ui): one HTML document with its style and script
// inline, no external asset, so it works on an air-gapped cluster and under
// a strict CSP. It opens EventSource("/ui/events") relative to itself and
// renders each `snapshot` event (see status_feed.h for the fields).
#ifndef SSEBRIDGE_HTTP_STATUS_PAGE_HTML_H_
#define SSEBRIDGE_HTTP_STATUS_PAGE_HTML_H_

#include "absl/strings/string_view.h"

namespace ssebridge {

absl::string_view StatusPageHtml();

}  // namespace ssebridge

#endif  // SSEBRIDGE_HTTP_STATUS_PAGE_HTML_H_
