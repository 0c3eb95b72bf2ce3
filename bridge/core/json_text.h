// JSON text helpers for the few fixed-shape JSON documents the bridge writes
// itself (reset notices, HTTP errors, log lines). Full JSON goes through
// protobuf's JSON util at the edge.
#ifndef SSEBRIDGE_CORE_JSON_TEXT_H_
#define SSEBRIDGE_CORE_JSON_TEXT_H_

#include <string>

#include "absl/strings/string_view.h"

namespace ssebridge {

// `text` as a JSON string literal, quotes included. Valid UTF-8 passes
// through; a byte that is not part of valid UTF-8 becomes \ufffd.
std::string JsonQuote(absl::string_view text);

}  // namespace ssebridge

#endif  // SSEBRIDGE_CORE_JSON_TEXT_H_
