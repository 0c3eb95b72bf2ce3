// Http2Preface: tells an HTTP/2 connection from an HTTP/1 one by its first
// bytes. A gRPC client speaking plaintext HTTP/2 opens with the fixed
// client connection preface (RFC 9113, section 3.4); no HTTP/1 request
// starts with it (its "PRI" method exists only to fail on HTTP/1 servers).
// That lets the internal port serve both the HTTP routes and the gRPC Admin
// service: the request reader looks before it reads.
#ifndef SSEBRIDGE_HTTP_HTTP2_PREFACE_H_
#define SSEBRIDGE_HTTP_HTTP2_PREFACE_H_

#include <cstddef>

#include "absl/strings/string_view.h"

namespace ssebridge {

// "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
inline constexpr absl::string_view kHttp2ClientPreface("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24);

enum class ProtocolGuess {
  kHttp1,      // the bytes are not (a start of) the preface
  kHttp2,      // the whole preface came
  kUndecided,  // a proper start of the preface: wait for more
};

// `first_bytes`: what a fresh connection has sent so far (only the first
// kHttp2ClientPreface.size() bytes matter). Empty: undecided.
ProtocolGuess GuessProtocol(absl::string_view first_bytes);

}  // namespace ssebridge

#endif  // SSEBRIDGE_HTTP_HTTP2_PREFACE_H_
