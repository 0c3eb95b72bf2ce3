// RequestFraming: decides, from the bytes of one HTTP/1.1 request read so
// far, whether its head (request line and headers) is complete, and whether
// it breaks a size limit. It does not parse the request for use (cpp-httplib
// does that afterwards, from the same bytes); it only measures, so a request
// that is too large is refused before it is buffered whole, and a request is
// handed to a thread only once it is all there.
//
// Over the limits: request line -> 414, header section (one line, all
// lines, or the number of lines) -> 431, a Content-Length above the body
// limit -> 413. A malformed Content-Length is left to cpp-httplib (400).
#ifndef SSEBRIDGE_SSE_REQUEST_FRAMING_H_
#define SSEBRIDGE_SSE_REQUEST_FRAMING_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace ssebridge {

struct RequestLimits {
  // The request line with its CRLF. cpp-httplib refuses more than 8192
  // bytes itself (a compiled-in limit), so larger values do not help.
  size_t max_request_line_bytes = 8192;
  // All header lines together, CRLFs and the blank line included.
  size_t max_header_bytes = 16 * 1024;
  size_t max_header_count = 100;
  size_t max_body_bytes = 1 << 20;
};

// cpp-httplib's compiled-in limit on one header line (CPPHTTPLIB_HEADER_MAX_LENGTH
// of the Debian build); a longer line would make it answer 400.
inline constexpr size_t kMaxHeaderLineBytes = 8192;

class RequestFraming {
 public:
  enum class State { kNeedMore, kHeadComplete, kRejected };

  explicit RequestFraming(const RequestLimits& limits) : limits_(limits) {}

  // `request` holds every byte of this request read so far, from its first
  // byte (it may hold bytes past the head). Scanning resumes where the last
  // call stopped, so each byte is looked at once.
  State Scan(absl::string_view request);

  State state() const { return state_; }
  // Once rejected: the HTTP status and a message naming what was too large.
  int reject_status() const { return reject_status_; }
  const std::string& reject_message() const { return reject_message_; }
  // Once complete: bytes of the head, and the announced body length (0 when
  // absent; chunked bodies are not measured here).
  size_t head_bytes() const { return head_bytes_; }
  uint64_t content_length() const { return content_length_; }
  bool chunked() const { return chunked_; }
  // "Expect: 100-continue": the client sends its body only once answered.
  bool expect_continue() const { return expect_continue_; }

 private:
  State Reject(int status, std::string message);
  // One complete header line (without its line end).
  State HeaderLine(absl::string_view line);

  RequestLimits limits_;
  State state_ = State::kNeedMore;
  size_t scanned_ = 0;     // bytes looked at
  size_t line_start_ = 0;  // offset of the line being read
  bool in_headers_ = false;
  size_t headers_start_ = 0;  // offset of the first header line
  size_t header_count_ = 0;
  size_t head_bytes_ = 0;
  uint64_t content_length_ = 0;
  bool chunked_ = false;
  bool expect_continue_ = false;
  int reject_status_ = 0;
  std::string reject_message_;
};

}  // namespace ssebridge

#endif  // SSEBRIDGE_SSE_REQUEST_FRAMING_H_
