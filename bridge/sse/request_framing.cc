#include "bridge/sse/request_framing.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace ssebridge {

RequestFraming::State RequestFraming::Reject(int status, std::string message) {
  reject_status_ = status;
  reject_message_ = std::move(message);
  return state_ = State::kRejected;
}

RequestFraming::State RequestFraming::HeaderLine(absl::string_view line) {
  if (++header_count_ > limits_.max_header_count) {
    return Reject(431, absl::StrCat("headers: more than ", limits_.max_header_count,
                                    " header lines (--max_header_count)"));
  }
  const size_t colon = line.find(':');
  if (colon == absl::string_view::npos) return state_;
  const absl::string_view name = absl::StripAsciiWhitespace(line.substr(0, colon));
  const absl::string_view value = absl::StripAsciiWhitespace(line.substr(colon + 1));
  if (absl::EqualsIgnoreCase(name, "Content-Length")) {
    uint64_t n = 0;
    // Unparsable: cpp-httplib answers 400 for it.
    if (absl::SimpleAtoi(value, &n) && n > limits_.max_body_bytes) {
      return Reject(413, absl::StrCat("body: Content-Length ", n, " is larger than ",
                                      limits_.max_body_bytes, " bytes"));
    }
    content_length_ = n;
  } else if (absl::EqualsIgnoreCase(name, "Expect")) {
    expect_continue_ = absl::EqualsIgnoreCase(value, "100-continue");
  } else if (absl::EqualsIgnoreCase(name, "Transfer-Encoding")) {
    chunked_ = absl::StrContains(absl::AsciiStrToLower(value), "chunked");
  }
  return state_;
}

RequestFraming::State RequestFraming::Scan(absl::string_view request) {
  while (state_ == State::kNeedMore) {
    const size_t lf = request.find('\n', scanned_);
    const size_t end = lf == absl::string_view::npos ? request.size() : lf + 1;
    const size_t line_bytes = end - line_start_;
    // Limits first, so an endless line is refused before it is buffered.
    if (!in_headers_ && line_bytes > limits_.max_request_line_bytes) {
      return Reject(414, absl::StrCat("request line: longer than ",
                                      limits_.max_request_line_bytes,
                                      " bytes (--max_request_line_bytes)"));
    }
    if (in_headers_ && line_bytes > kMaxHeaderLineBytes) {
      return Reject(431, absl::StrCat("headers: a header line is longer than ",
                                      kMaxHeaderLineBytes, " bytes"));
    }
    if (in_headers_ && end - headers_start_ > limits_.max_header_bytes) {
      return Reject(431, absl::StrCat("headers: more than ", limits_.max_header_bytes,
                                      " bytes (--max_header_bytes)"));
    }
    scanned_ = end;
    if (lf == absl::string_view::npos) return state_;
    absl::string_view line = request.substr(line_start_, lf - line_start_);
    if (absl::EndsWith(line, "\r")) line.remove_suffix(1);
    line_start_ = end;
    if (!in_headers_) {
      in_headers_ = true;
      headers_start_ = end;
      continue;
    }
    if (line.empty()) {
      head_bytes_ = end;
      return state_ = State::kHeadComplete;
    }
    HeaderLine(line);
  }
  return state_;
}

}  // namespace ssebridge
