#include "bridge/http/chunked_body.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "bridge/http/request_framing.h"

namespace ssebridge {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Header-field characters: visible ASCII, obs-text, space and tab.
bool IsFieldText(absl::string_view s) {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7f) return false;
  }
  return true;
}

}  // namespace

void ChunkedBody::Reject(int status, std::string message) {
  state_ = State::kRejected;
  reject_status_ = status;
  reject_message_ = std::move(message);
}

size_t ChunkedBody::Feed(absl::string_view in, std::string* body) {
  size_t i = 0;
  while (i < in.size() && state_ == State::kNeedMore) {
    if (part_ == Part::kData) {
      const size_t take = static_cast<size_t>(std::min<uint64_t>(remaining_, in.size() - i));
      body->append(in.data() + i, take);
      i += take;
      remaining_ -= take;
      if (remaining_ == 0) part_ = Part::kDataEnd;
      continue;
    }
    const char c = in[i++];
    if (saw_cr_) {
      saw_cr_ = false;
      if (c != '\n') {
        Reject(400, "chunk: a CR not followed by LF");
        break;
      }
      const std::string line = std::exchange(line_, {});
      Line(line, body->size());
      continue;
    }
    if (c == '\r') {
      saw_cr_ = true;
      continue;
    }
    if (part_ == Part::kDataEnd) {
      Reject(400, "chunk: its data is not followed by CRLF (the chunk size is wrong)");
      break;
    }
    if (c == '\n') {
      Reject(400, "chunk: a line ends in a bare LF; chunked framing needs CRLF");
      break;
    }
    line_.push_back(c);
    if (part_ == Part::kSizeLine && line_.size() > kMaxChunkLineBytes) {
      Reject(400, absl::StrCat("chunk: a chunk-size line is longer than ", kMaxChunkLineBytes,
                               " bytes"));
      break;
    }
    if (part_ == Part::kTrailer && trailer_bytes_ + line_.size() > max_trailer_bytes_) {
      Reject(431, absl::StrCat("chunk: trailers of more than ", max_trailer_bytes_,
                               " bytes (--max_header_bytes)"));
      break;
    }
  }
  return i;
}

void ChunkedBody::Line(absl::string_view line, size_t body_size) {
  switch (part_) {
    case Part::kDataEnd:
      // An empty line: the CRLF after the data.
      part_ = Part::kSizeLine;
      return;
    case Part::kTrailer:
      if (line.empty()) {
        state_ = State::kComplete;
        return;
      }
      trailer_bytes_ += line.size() + 2;
      {
        const size_t colon = line.find(':');
        if (colon == absl::string_view::npos || !IsHttpToken(line.substr(0, colon)) ||
            !IsFieldText(line.substr(colon + 1))) {
          Reject(400, "chunk: a trailer line is not 'name: value'");
        }
      }
      return;
    case Part::kSizeLine:
      break;
    case Part::kData:
      return;  // not line-shaped; never reached
  }
  size_t digits = 0;
  size_t significant = 0;
  uint64_t size = 0;
  for (; digits < line.size() && HexValue(line[digits]) >= 0; ++digits) {
    if (significant == 0 && line[digits] == '0') continue;
    if (++significant > 16) {
      Reject(400, "chunk: the chunk size overflows 64 bits");
      return;
    }
    size = size * 16 + static_cast<uint64_t>(HexValue(line[digits]));
  }
  absl::string_view ext = line.substr(digits);
  const absl::string_view after_space = absl::StripLeadingAsciiWhitespace(ext);
  if (digits == 0 || (!ext.empty() && (after_space.empty() || after_space[0] != ';')) ||
      !IsFieldText(ext)) {
    Reject(400,
           "chunk: a chunk-size line is not hex digits, an optional ';' extension "
           "and CRLF");
    return;
  }
  if (size > max_body_bytes_ - body_size) {
    Reject(413, absl::StrCat("body: larger than ", max_body_bytes_, " bytes (--max_body_bytes)"));
    return;
  }
  if (size == 0) {
    part_ = Part::kTrailer;
    return;
  }
  remaining_ = size;
  part_ = Part::kData;
}

}  // namespace ssebridge
