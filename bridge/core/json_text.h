// JSON text helpers for the few fixed-shape JSON documents the bridge writes
// itself (reset notices, HTTP errors, log lines). Full JSON goes through
// protobuf's JSON util at the edge.
#ifndef SSEBRIDGE_CORE_JSON_TEXT_H_
#define SSEBRIDGE_CORE_JSON_TEXT_H_

#include <string>

#include "absl/strings/string_view.h"

namespace ssebridge {

// `text` as a JSON string literal, quotes included. Bytes >= 0x80 pass
// through unchanged (callers hand in UTF-8).
std::string JsonQuote(absl::string_view text);

}  // namespace ssebridge

#endif  // SSEBRIDGE_CORE_JSON_TEXT_H_
