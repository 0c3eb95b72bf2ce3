// ChunkedBody: decodes an HTTP/1.1 chunked request body (RFC 9112 section 7.1)
// as its bytes arrive, so a body sent as chunks is measured against the body
// limit while it comes in, never buffered whole first. Strict, because the
// bridge's reading of where a request ends must be the only one: a chunk-size
// line is hex digits, an optional extension and CRLF; chunk data is followed
// by CRLF; trailer lines are header lines. Anything else is refused.
//
// Refusals: 400 for a malformed or overflowing chunk line or a missing CRLF;
// 413 once the decoded body would pass max_body_bytes (at the chunk-size line
// that announces it, before its data comes); 431 for trailers over
// max_trailer_bytes. Trailers are dropped (RFC 9112 7.1.2 allows it).
//
// Owns nothing but its small line buffer; the decoded bytes go to the
// caller's string.
#ifndef SSEBRIDGE_HTTP_CHUNKED_BODY_H_
#define SSEBRIDGE_HTTP_CHUNKED_BODY_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace ssebridge {

class ChunkedBody {
 public:
  enum class State { kNeedMore, kComplete, kRejected };

  // A chunk-size line (with its extension) longer than this is refused:
  // nobody needs it, and it would be buffered.
  static constexpr size_t kMaxChunkLineBytes = 4096;

  ChunkedBody(size_t max_body_bytes, size_t max_trailer_bytes)
      : max_body_bytes_(max_body_bytes), max_trailer_bytes_(max_trailer_bytes) {}

  // Decodes from the start of `in`, appending chunk data to *body. Returns
  // how many bytes of `in` it consumed: all of them unless the body ended
  // (kComplete) inside `in`, whose rest is the next request's; nothing more
  // is consumed once complete or rejected.
  size_t Feed(absl::string_view in, std::string* body);

  State state() const { return state_; }
  int reject_status() const { return reject_status_; }
  const std::string& reject_message() const { return reject_message_; }

 private:
  enum class Part { kSizeLine, kData, kDataEnd, kTrailer };
  // One complete line (without its CRLF) of the current line-shaped part.
  void Line(absl::string_view line, size_t body_size);
  void Reject(int status, std::string message);

  size_t max_body_bytes_;
  size_t max_trailer_bytes_;
  State state_ = State::kNeedMore;
  Part part_ = Part::kSizeLine;
  std::string line_;        // the line being read, CR LF excluded
  bool saw_cr_ = false;     // the last byte of line_'s input was CR
  uint64_t remaining_ = 0;  // data bytes left in this chunk
  size_t trailer_bytes_ = 0;
  int reject_status_ = 0;
  std::string reject_message_;
};

}  // namespace ssebridge

#endif  // SSEBRIDGE_HTTP_CHUNKED_BODY_H_
