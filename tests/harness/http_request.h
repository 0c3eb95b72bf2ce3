// http_request: one-shot raw-socket HTTP/1.1 request to the bridge
// (127.0.0.1 only), returning status, headers and body.
#ifndef SSEBRIDGE_TESTS_HARNESS_HTTP_REQUEST_H_
#define SSEBRIDGE_TESTS_HARNESS_HTTP_REQUEST_H_

#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "tests/harness/http_wire.h"

namespace ssebridge_it {

struct HttpResponse {
  std::string error;  // empty when a complete response was read
  int status = 0;
  HeaderList headers;
  std::string body;

  bool ok() const { return error.empty(); }
  std::optional<std::string> Header(absl::string_view name) const {
    return FindHeader(headers, name);
  }
};

// Sends `method target` with `body` (Content-Length set when non-empty or
// when the method is POST/PUT) and "Connection: close", then reads the whole
// response (Content-Length, chunked, or until EOF).
HttpResponse HttpRequest(int port, absl::string_view method, absl::string_view target,
                         absl::string_view body = "", const HeaderList& extra_headers = {},
                         absl::Duration timeout = absl::Seconds(15));

inline HttpResponse HttpGet(int port, absl::string_view target) {
  return HttpRequest(port, "GET", target);
}

inline HttpResponse HttpPostJson(int port, absl::string_view target, absl::string_view json) {
  return HttpRequest(port, "POST", target, json, {{"Content-Type", "application/json"}});
}

// Sends `raw` bytes as-is and reads whatever comes back until EOF or
// timeout. For malformed-request tests. Returns the bytes read; *closed tells
// whether the server closed the connection.
std::string SendRawHttp(int port, absl::string_view raw, absl::Duration timeout, bool* closed,
                        std::string* error);

}  // namespace ssebridge_it

#endif  // SSEBRIDGE_TESTS_HARNESS_HTTP_REQUEST_H_
