// RequestFraming: decides, from the bytes of one HTTP/1.1 request read so
// far, whether its head (request line and headers) is complete, whether it
// breaks a size limit, and how its body is framed. It is the bridge's one
// reading of where a request ends: cpp-httplib later parses a head rebuilt
// from what this class recorded (see RequestAssembler), so the two can never
// disagree about framing (RFC 9112 section 6.3; request smuggling).
//
// Strict where a lenient reading could differ from another parser's:
//   400: a line ending in a bare LF (a bare CR inside one is read as a
//        space, as RFC 9112 2.2 allows); a request line
//        that is not "METHOD target HTTP/1.x"; a header line that is not
//        "token: value" (space before the colon, a folded line); a
//        Content-Length that is not a plain decimal number, or two different
//        ones; a Transfer-Encoding other than exactly "chunked", or more than
//        one; Transfer-Encoding together with Content-Length, or in HTTP/1.0.
//   414: the request line over its limit; 431: a header line, all header
//        lines, or their number over the limits; 413: a Content-Length above
//        the body limit.
// Each message names the header or the limit (and its flag).
#ifndef SSEBRIDGE_HTTP_REQUEST_FRAMING_H_
#define SSEBRIDGE_HTTP_REQUEST_FRAMING_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

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

// A complete request head as the framing read it.
struct RequestHead {
  std::string method;
  std::string target;   // as sent: path and query, not decoded
  std::string version;  // "HTTP/1.1" or "HTTP/1.0"
  // In order, names as sent, values without surrounding whitespace.
  std::vector<std::pair<std::string, std::string>> headers;

  // The first value of header `name` (case-insensitive); "" when absent.
  absl::string_view Header(absl::string_view name) const;
};

// RFC 9110 tchar+: what a method, a header name and a chunk extension name
// are made of.
bool IsHttpToken(absl::string_view s);

class RequestFraming {
 public:
  enum class State { kNeedMore, kHeadComplete, kRejected };
  enum class Body { kNone, kLength, kChunked };

  explicit RequestFraming(const RequestLimits& limits) : limits_(limits) {}

  // `request` holds every byte of this request read so far, from its first
  // byte (it may hold bytes past the head). Scanning resumes where the last
  // call stopped, so each byte is looked at once.
  State Scan(absl::string_view request);

  State state() const { return state_; }
  // Once rejected: the HTTP status and a message naming what was wrong.
  int reject_status() const { return reject_status_; }
  const std::string& reject_message() const { return reject_message_; }
  // Once complete: bytes of the head, its fields, and how the body is framed
  // (kLength: content_length() bytes, which may be 0).
  size_t head_bytes() const { return head_bytes_; }
  const RequestHead& head() const { return head_; }
  Body body() const { return body_; }
  uint64_t content_length() const { return content_length_; }
  bool chunked() const { return body_ == Body::kChunked; }
  // "Expect: 100-continue" on an HTTP/1.1 request: the client may wait for
  // an interim answer before it sends the body.
  bool expect_continue() const { return expect_continue_; }

 private:
  State Reject(int status, std::string message);
  State RequestLine(absl::string_view line);
  // One complete header line (without its line end).
  State HeaderLine(absl::string_view line);
  // After the blank line: the checks that need every header.
  State HeadEnd();

  RequestLimits limits_;
  State state_ = State::kNeedMore;
  size_t scanned_ = 0;     // bytes looked at
  size_t line_start_ = 0;  // offset of the line being read
  bool in_headers_ = false;
  size_t headers_start_ = 0;  // offset of the first header line
  size_t header_count_ = 0;
  size_t head_bytes_ = 0;
  RequestHead head_;
  Body body_ = Body::kNone;
  bool has_length_ = false;
  bool has_transfer_encoding_ = false;
  uint64_t content_length_ = 0;
  bool expect_continue_ = false;
  int reject_status_ = 0;
  std::string reject_message_;
};

}  // namespace ssebridge

#endif  // SSEBRIDGE_HTTP_REQUEST_FRAMING_H_
