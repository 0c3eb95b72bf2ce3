#include "bridge/http/request_framing.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace ssebridge {
namespace {

// A field value may hold visible ASCII, obs-text, space and tab; never NUL
// or another control character (RFC 9110 5.5).
bool IsFieldValue(absl::string_view s) {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7f) return false;
  }
  return true;
}

// Quoted for a message, cut short: the client's bytes, not ours.
std::string Shown(absl::string_view value) {
  std::string out;
  for (char c : value.substr(0, 40)) {
    const auto u = static_cast<unsigned char>(c);
    out.push_back(u < 0x20 || u >= 0x7f ? '?' : c);
  }
  return absl::StrCat("\"", out, value.size() > 40 ? "...\"" : "\"");
}

}  // namespace

bool IsHttpToken(absl::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (absl::ascii_isalnum(static_cast<unsigned char>(c))) continue;
    if (absl::string_view("!#$%&'*+-.^_`|~").find(c) == absl::string_view::npos) return false;
  }
  return true;
}

absl::string_view RequestHead::Header(absl::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (absl::EqualsIgnoreCase(k, name)) return v;
  }
  return "";
}

RequestFraming::State RequestFraming::Reject(int status, std::string message) {
  reject_status_ = status;
  reject_message_ = std::move(message);
  return state_ = State::kRejected;
}

RequestFraming::State RequestFraming::RequestLine(absl::string_view line) {
  // Exactly one space between the parts, as cpp-httplib splits them.
  const size_t sp1 = line.find(' ');
  const size_t sp2 = sp1 == absl::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == absl::string_view::npos || line.find(' ', sp2 + 1) != absl::string_view::npos ||
      sp2 == sp1 + 1 || !IsHttpToken(line.substr(0, sp1)) ||
      !IsFieldValue(line.substr(sp1 + 1, sp2 - sp1 - 1)) ||
      line.find('\t') != absl::string_view::npos) {
    return Reject(400, "request line: expected 'METHOD target HTTP/1.1'");
  }
  head_.method = std::string(line.substr(0, sp1));
  head_.target = std::string(line.substr(sp1 + 1, sp2 - sp1 - 1));
  head_.version = std::string(line.substr(sp2 + 1));
  if (head_.version != "HTTP/1.1" && head_.version != "HTTP/1.0") {
    return Reject(400, absl::StrCat("request line: version ", Shown(head_.version),
                                    " is not HTTP/1.1 or HTTP/1.0"));
  }
  return state_;
}

RequestFraming::State RequestFraming::HeaderLine(absl::string_view line) {
  if (++header_count_ > limits_.max_header_count) {
    return Reject(431, absl::StrCat("headers: more than ", limits_.max_header_count,
                                    " header lines (--max_header_count)"));
  }
  const size_t colon = line.find(':');
  // A name that is not a token: a space before the colon, a folded
  // continuation line (leading space), no colon at all. RFC 9112 5.1 and 5.2
  // ask for a 400; a lenient reading is how framing gets smuggled.
  if (colon == absl::string_view::npos || !IsHttpToken(line.substr(0, colon))) {
    return Reject(400, absl::StrCat("header: line ", Shown(line),
                                    " is not 'name: value' (no space before the "
                                    "colon, no folded lines)"));
  }
  const absl::string_view name = line.substr(0, colon);
  const absl::string_view value = absl::StripAsciiWhitespace(line.substr(colon + 1));
  if (!IsFieldValue(value)) {
    return Reject(400, absl::StrCat("header ", name, ": a control character in its value"));
  }
  head_.headers.emplace_back(std::string(name), std::string(value));
  if (absl::EqualsIgnoreCase(name, "Content-Length")) {
    uint64_t n = 0;
    const bool digits = !value.empty() && value.size() <= 19 &&
                        std::all_of(value.begin(), value.end(), absl::ascii_isdigit);
    if (!digits || !absl::SimpleAtoi(value, &n)) {
      return Reject(
          400, absl::StrCat("Content-Length: ", Shown(value), " is not a decimal number of bytes"));
    }
    if (has_length_ && n != content_length_) {
      return Reject(
          400, absl::StrCat("Content-Length: two different values, ", content_length_, " and ", n));
    }
    if (n > limits_.max_body_bytes) {
      return Reject(413, absl::StrCat("body: Content-Length ", n, " is larger than ",
                                      limits_.max_body_bytes, " bytes (--max_body_bytes)"));
    }
    has_length_ = true;
    content_length_ = n;
  } else if (absl::EqualsIgnoreCase(name, "Transfer-Encoding")) {
    if (has_transfer_encoding_) {
      return Reject(400, "Transfer-Encoding: sent more than once");
    }
    has_transfer_encoding_ = true;
    // "gzip, chunked" and the like: the bridge decodes no other coding, and
    // "chunked, identity" does not even end in chunked (RFC 9112 6.3).
    if (!absl::EqualsIgnoreCase(value, "chunked")) {
      return Reject(400, absl::StrCat("Transfer-Encoding: ", Shown(value),
                                      " is not supported; only \"chunked\" is"));
    }
  } else if (absl::EqualsIgnoreCase(name, "Expect")) {
    expect_continue_ = absl::EqualsIgnoreCase(value, "100-continue");
  }
  return state_;
}

RequestFraming::State RequestFraming::HeadEnd() {
  if (has_transfer_encoding_ && has_length_) {
    return Reject(400,
                  "Transfer-Encoding together with Content-Length: the body's end "
                  "would be ambiguous (RFC 9112 6.3)");
  }
  if (has_transfer_encoding_ && head_.version == "HTTP/1.0") {
    return Reject(400, "Transfer-Encoding: not allowed in an HTTP/1.0 request");
  }
  if (head_.version == "HTTP/1.0") expect_continue_ = false;
  body_ = has_transfer_encoding_ ? Body::kChunked : has_length_ ? Body::kLength : Body::kNone;
  return state_ = State::kHeadComplete;
}

RequestFraming::State RequestFraming::Scan(absl::string_view request) {
  while (state_ == State::kNeedMore) {
    const size_t lf = request.find('\n', scanned_);
    const size_t end = lf == absl::string_view::npos ? request.size() : lf + 1;
    const size_t line_bytes = end - line_start_;
    // Limits first, so an endless line is refused before it is buffered.
    if (!in_headers_ && line_bytes > limits_.max_request_line_bytes) {
      return Reject(414, absl::StrCat("request line: longer than ", limits_.max_request_line_bytes,
                                      " bytes (--max_request_line_bytes)"));
    }
    if (in_headers_ && line_bytes > kMaxHeaderLineBytes) {
      return Reject(431, absl::StrCat("headers: a header line is longer than ", kMaxHeaderLineBytes,
                                      " bytes"));
    }
    if (in_headers_ && end - headers_start_ > limits_.max_header_bytes) {
      return Reject(431, absl::StrCat("headers: more than ", limits_.max_header_bytes,
                                      " bytes (--max_header_bytes)"));
    }
    scanned_ = end;
    if (lf == absl::string_view::npos) return state_;
    absl::string_view line = request.substr(line_start_, lf - line_start_);
    if (!absl::EndsWith(line, "\r")) {
      return Reject(400, "request head: a line ends in a bare LF; HTTP needs CRLF");
    }
    line.remove_suffix(1);
    // RFC 9112 2.2: a bare CR is read as a space (so it can end nothing).
    std::string spaced;
    if (line.find('\r') != absl::string_view::npos) {
      spaced = std::string(line);
      std::replace(spaced.begin(), spaced.end(), '\r', ' ');
      line = spaced;
    }
    line_start_ = end;
    if (!in_headers_) {
      in_headers_ = true;
      headers_start_ = end;
      if (RequestLine(line) == State::kRejected) return state_;
      continue;
    }
    if (line.empty()) {
      head_bytes_ = end;
      return HeadEnd();
    }
    HeaderLine(line);
  }
  return state_;
}

}  // namespace ssebridge
