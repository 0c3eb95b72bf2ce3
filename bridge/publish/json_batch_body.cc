#include "bridge/publish/json_batch_body.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace ssebridge {
namespace {

// A JSON syntax checker over one span (RFC 8259 grammar; strings are not
// checked for UTF-8 here, protobuf's parser does that per event). It only
// moves forward: each byte is looked at once.
class JsonScanner {
 public:
  explicit JsonScanner(absl::string_view text)
      : begin_(text.data()), p_(text.data()), end_(text.data() + text.size()) {}

  void SkipSpace() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) ++p_;
  }
  bool AtEnd() const { return p_ == end_; }
  // The next byte, or '\0' at the end.
  char Peek() const { return p_ < end_ ? *p_ : '\0'; }
  void Advance() { ++p_; }
  const char* pos() const { return p_; }
  size_t offset() const { return static_cast<size_t>(p_ - begin_); }
  const char* error() const { return error_; }

  // Consumes one value that starts at the current byte; false (error() says
  // why, offset() where) on a syntax error.
  bool Value(int depth) {
    switch (Peek()) {
      case '{':
        return Container(depth, '}');
      case '[':
        return Container(depth, ']');
      case '"':
        return String();
      case 't':
        return Word("true");
      case 'f':
        return Word("false");
      case 'n':
        return Word("null");
      default:
        return Number();
    }
  }

 private:
  bool Fail(const char* why) {
    error_ = why;
    return false;
  }

  // An object (close '}') or array (close ']') at the current '{' or '['.
  bool Container(int depth, char close) {
    if (depth > kMaxBatchJsonDepth) return Fail("nested too deep");
    ++p_;
    SkipSpace();
    if (Peek() == close) {
      ++p_;
      return true;
    }
    while (true) {
      if (close == '}') {
        if (Peek() != '"') return Fail("expected a member name");
        if (!String()) return false;
        SkipSpace();
        if (Peek() != ':') return Fail("expected ':'");
        ++p_;
        SkipSpace();
      }
      if (!Value(depth + 1)) return false;
      SkipSpace();
      if (Peek() == ',') {
        ++p_;
        SkipSpace();
        continue;
      }
      if (Peek() == close) {
        ++p_;
        return true;
      }
      return Fail(close == '}' ? "expected ',' or '}'" : "expected ',' or ']'");
    }
  }

  bool String() {
    ++p_;  // the opening quote
    while (p_ < end_) {
      const unsigned char c = static_cast<unsigned char>(*p_);
      if (c == '"') {
        ++p_;
        return true;
      }
      if (c < 0x20) return Fail("control character in a string");
      if (c != '\\') {
        ++p_;
        continue;
      }
      if (end_ - p_ < 2) break;
      const char e = p_[1];
      if (e == 'u') {
        if (end_ - p_ < 6) break;
        for (int i = 2; i < 6; ++i) {
          if (!absl::ascii_isxdigit(static_cast<unsigned char>(p_[i]))) {
            return Fail("bad \\u escape");
          }
        }
        p_ += 6;
      } else if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' ||
                 e == 'r' || e == 't') {
        p_ += 2;
      } else {
        return Fail("bad escape");
      }
    }
    return Fail("unterminated string");
  }

  bool Digits() {
    if (!(p_ < end_ && absl::ascii_isdigit(static_cast<unsigned char>(*p_)))) return false;
    while (p_ < end_ && absl::ascii_isdigit(static_cast<unsigned char>(*p_))) ++p_;
    return true;
  }

  bool Number() {
    if (Peek() == '-') ++p_;
    if (Peek() == '0') {
      ++p_;
    } else if (!Digits()) {
      return Fail("expected a value");
    }
    if (Peek() == '.') {
      ++p_;
      if (!Digits()) return Fail("bad number");
    }
    if (Peek() == 'e' || Peek() == 'E') {
      ++p_;
      if (Peek() == '+' || Peek() == '-') ++p_;
      if (!Digits()) return Fail("bad number");
    }
    return true;
  }

  bool Word(absl::string_view word) {
    if (static_cast<size_t>(end_ - p_) < word.size() ||
        absl::string_view(p_, word.size()) != word) {
      return Fail("expected a value");
    }
    p_ += word.size();
    return true;
  }

  const char* begin_;
  const char* p_;
  const char* end_;
  const char* error_ = "";
};

absl::Status TooMany(size_t max_events) {
  return absl::OutOfRangeError(absl::StrCat("body: more than ", max_events, " events"));
}

absl::Status SplitArray(absl::string_view body, size_t max_events,
                        std::vector<absl::string_view>* events) {
  JsonScanner s(body);
  auto not_json = [&s](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(
        "body: not a JSON array of PublishRequest objects (", why, " at byte ", s.offset(), ")"));
  };
  s.SkipSpace();
  if (s.Peek() != '[') return not_json("expected '['");
  s.Advance();
  s.SkipSpace();
  if (s.Peek() == ']') {
    s.Advance();
  } else {
    while (true) {
      if (s.Peek() != '{') {
        return not_json(absl::StrCat("event ", events->size(), " is not an object"));
      }
      if (events->size() == max_events) return TooMany(max_events);
      const char* start = s.pos();
      if (!s.Value(1)) return not_json(s.error());
      events->emplace_back(start, static_cast<size_t>(s.pos() - start));
      s.SkipSpace();
      if (s.Peek() == ',') {
        s.Advance();
        s.SkipSpace();
        continue;
      }
      if (s.Peek() == ']') {
        s.Advance();
        break;
      }
      return not_json("expected ',' or ']'");
    }
  }
  s.SkipSpace();
  if (!s.AtEnd()) return not_json("text after the array");
  return absl::OkStatus();
}

absl::Status SplitLines(absl::string_view body, size_t max_events,
                        std::vector<absl::string_view>* events) {
  size_t line_no = 0;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t nl = body.find('\n', pos);
    if (nl == absl::string_view::npos) nl = body.size();
    const absl::string_view line = body.substr(pos, nl - pos);
    pos = nl + 1;
    ++line_no;
    JsonScanner s(line);
    s.SkipSpace();
    if (s.AtEnd()) continue;  // a blank line
    auto not_object = [&](absl::string_view why) {
      return absl::InvalidArgumentError(absl::StrCat("line ", line_no,
                                                     ": not one PublishRequest JSON object (", why,
                                                     " at byte ", s.offset(), " of the line)"));
    };
    if (s.Peek() != '{') return not_object("expected '{'");
    if (events->size() == max_events) return TooMany(max_events);
    const char* start = s.pos();
    if (!s.Value(1)) return not_object(s.error());
    events->emplace_back(start, static_cast<size_t>(s.pos() - start));
    s.SkipSpace();
    if (!s.AtEnd()) return not_object("text after the object");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status SplitBatchBody(absl::string_view body, BatchFormat format, size_t max_events,
                            std::vector<absl::string_view>* events) {
  events->clear();
  absl::Status s = format == BatchFormat::kJsonArray ? SplitArray(body, max_events, events)
                                                     : SplitLines(body, max_events, events);
  if (!s.ok()) return s;
  if (events->empty()) {
    return absl::InvalidArgumentError("body: an empty batch; send at least one event");
  }
  return absl::OkStatus();
}

bool LooksLikeJsonArray(absl::string_view body) {
  JsonScanner s(body);
  s.SkipSpace();
  return s.Peek() == '[';
}

bool IsShortSinglePublish(absl::string_view body, absl::string_view content_type) {
  return body.size() <= kShortPublishBytes && !IsNdjsonContentType(content_type) &&
         !LooksLikeJsonArray(body);
}

bool IsNdjsonContentType(absl::string_view content_type) {
  const absl::string_view media = content_type.substr(0, content_type.find(';'));
  return absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(media), "application/x-ndjson");
}

}  // namespace ssebridge
