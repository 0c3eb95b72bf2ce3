#include "bridge/http/request_assembler.h"

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace ssebridge {

RequestAssembler::RequestAssembler(const RequestLimits& limits)
    : limits_(limits), framing_(limits) {}

RequestAssembler::State RequestAssembler::Feed(absl::string_view bytes) {
  switch (state_) {
    case State::kRejected:
      return state_;
    case State::kComplete:
      rest_.append(bytes.data(), bytes.size());
      return state_;
    case State::kNeedBody:
      FeedBody(bytes);
      return state_;
    case State::kNeedHead:
      break;
  }
  head_bytes_.append(bytes.data(), bytes.size());
  switch (framing_.Scan(head_bytes_)) {
    case RequestFraming::State::kNeedMore:
      return state_;
    case RequestFraming::State::kRejected:
      head_bytes_.clear();
      return state_ = State::kRejected;
    case RequestFraming::State::kHeadComplete:
      break;
  }
  // What came after the head is the body's (or the next request's).
  const std::string after = head_bytes_.substr(framing_.head_bytes());
  parsed_head_bytes_ = framing_.head_bytes();
  head_bytes_.clear();
  head_bytes_.shrink_to_fit();
  if (framing_.chunked()) {
    chunked_.emplace(limits_.max_body_bytes, limits_.max_header_bytes);
  }
  state_ = State::kNeedBody;
  FeedBody(after);
  return state_;
}

void RequestAssembler::FeedBody(absl::string_view bytes) {
  if (!bytes.empty()) body_started_ = true;
  if (chunked_) {
    const size_t used = chunked_->Feed(bytes, &body_);
    switch (chunked_->state()) {
      case ChunkedBody::State::kNeedMore:
        return;
      case ChunkedBody::State::kRejected:
        body_.clear();
        body_.shrink_to_fit();
        state_ = State::kRejected;
        return;
      case ChunkedBody::State::kComplete:
        Complete(bytes.substr(used));
        return;
    }
  }
  const size_t want = static_cast<size_t>(framing_.content_length()) - body_.size();
  const size_t take = std::min(want, bytes.size());
  body_.append(bytes.data(), take);
  if (body_.size() == framing_.content_length()) Complete(bytes.substr(take));
}

void RequestAssembler::Complete(absl::string_view after) {
  state_ = State::kComplete;
  rest_.append(after.data(), after.size());
}

bool RequestAssembler::awaits_continue() const {
  return state_ == State::kNeedBody && framing_.expect_continue() && !body_started_;
}

int RequestAssembler::reject_status() const {
  return chunked_ && chunked_->state() == ChunkedBody::State::kRejected ? chunked_->reject_status()
                                                                        : framing_.reject_status();
}

const std::string& RequestAssembler::reject_message() const {
  return chunked_ && chunked_->state() == ChunkedBody::State::kRejected ? chunked_->reject_message()
                                                                        : framing_.reject_message();
}

std::string RequestAssembler::TakeRequest() {
  const RequestHead& parsed = framing_.head();
  std::string out = absl::StrCat(parsed.method, " ", parsed.target, " ", parsed.version, "\r\n");
  for (const auto& [name, value] : parsed.headers) {
    if (absl::EqualsIgnoreCase(name, "Content-Length") ||
        absl::EqualsIgnoreCase(name, "Transfer-Encoding") ||
        (absl::EqualsIgnoreCase(name, "Expect") && absl::EqualsIgnoreCase(value, "100-continue"))) {
      continue;
    }
    absl::StrAppend(&out, name, ": ", value, "\r\n");
  }
  if (framing_.body() != RequestFraming::Body::kNone) {
    absl::StrAppend(&out, "Content-Length: ", body_.size(), "\r\n");
  }
  out.append("\r\n");
  out.append(body_);
  body_.clear();
  body_.shrink_to_fit();
  return out;
}

}  // namespace ssebridge
