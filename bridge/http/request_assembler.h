// RequestAssembler: gathers one whole HTTP/1.1 request from the bytes of a
// connection as they arrive: the head (RequestFraming) and then its body,
// Content-Length or chunked (ChunkedBody), never more than max_body_bytes of
// it. The complete request comes out normalized: the head rebuilt from what
// the framing recorded, with CRLF line ends, without Transfer-Encoding,
// Content-Length and "Expect: 100-continue", and with "Content-Length: <n>"
// of the decoded body when the request had a body; then the body. Whoever
// parses it next (cpp-httplib) therefore sees only a framing the bridge
// chose, and a body already within its limit.
//
// Bytes after the request (a pipelined next request) are kept apart: rest().
// A refusal (RequestFraming's or ChunkedBody's status and message) is final.
//
// Holds at most the head, the body so far and a chunk line; owns nothing else.
#ifndef SSEBRIDGE_HTTP_REQUEST_ASSEMBLER_H_
#define SSEBRIDGE_HTTP_REQUEST_ASSEMBLER_H_

#include <cstddef>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "bridge/http/chunked_body.h"
#include "bridge/http/request_framing.h"

namespace ssebridge {

class RequestAssembler {
 public:
  enum class State { kNeedHead, kNeedBody, kComplete, kRejected };

  explicit RequestAssembler(const RequestLimits& limits);

  // Takes the next bytes of the connection; returns the new state. Once
  // complete, further bytes go to rest().
  State Feed(absl::string_view bytes);

  State state() const { return state_; }
  // From kNeedBody on.
  const RequestHead& head() const { return framing_.head(); }
  // The client asked to be told to go on ("Expect: 100-continue") and has
  // sent no body byte yet.
  bool awaits_continue() const;

  // Bytes held now: the head being read, the body so far, what came after.
  // Once the head is parsed it is held as the RequestHead, counted at its
  // size on the wire.
  size_t buffered_bytes() const {
    return head_bytes_.size() + parsed_head_bytes_ + body_.size() + rest_.size();
  }

  int reject_status() const;
  const std::string& reject_message() const;

  // The decoded body so far (all of it once complete).
  absl::string_view body() const { return body_; }

  // Once complete: the normalized request, and what came after it.
  std::string TakeRequest();
  std::string TakeRest() { return std::move(rest_); }
  const std::string& rest() const { return rest_; }

 private:
  void FeedBody(absl::string_view bytes);
  void Complete(absl::string_view after);

  RequestLimits limits_;
  RequestFraming framing_;
  std::optional<ChunkedBody> chunked_;
  State state_ = State::kNeedHead;
  std::string head_bytes_;        // the raw head while it is being read
  size_t parsed_head_bytes_ = 0;  // the head's wire size, once parsed
  std::string body_;              // the decoded body so far
  bool body_started_ = false;
  std::string rest_;
};

}  // namespace ssebridge

#endif  // SSEBRIDGE_HTTP_REQUEST_ASSEMBLER_H_
