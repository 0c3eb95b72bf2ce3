#include "tests/fuzz/whatwg_sse_parser.h"

#include <limits>

namespace ssebridge {
namespace {

constexpr absl::string_view kBom = "\xEF\xBB\xBF";

}  // namespace

void WhatwgSseParser::Feed(absl::string_view bytes) {
  if (!bom_done_) {
    // The BOM may itself be split across Feed calls.
    while (!bytes.empty() && bom_probe_.size() < kBom.size()) {
      bom_probe_ += bytes.front();
      bytes.remove_prefix(1);
      if (kBom.substr(0, bom_probe_.size()) != bom_probe_) break;
    }
    if (bom_probe_.size() < kBom.size() &&
        kBom.substr(0, bom_probe_.size()) == bom_probe_) {
      return;  // still a BOM prefix: wait for more
    }
    bom_done_ = true;
    std::string probe;
    probe.swap(bom_probe_);
    if (probe != kBom) Feed(probe);
  }
  for (char c : bytes) {
    if (c == '\n' && after_cr_) {
      after_cr_ = false;  // the LF of a CRLF
      continue;
    }
    after_cr_ = false;
    if (c == '\r' || c == '\n') {
      after_cr_ = c == '\r';
      std::string line;
      line.swap(line_);
      Line(line);
      continue;
    }
    line_ += c;
  }
}

void WhatwgSseParser::Line(absl::string_view line) {
  if (line.empty()) {
    Dispatch();
    return;
  }
  if (line.front() == ':') {
    ++comments_;
    return;
  }
  size_t colon = line.find(':');
  if (colon == absl::string_view::npos) {
    Field(line, "");
    return;
  }
  absl::string_view value = line.substr(colon + 1);
  if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  Field(line.substr(0, colon), value);
}

void WhatwgSseParser::Field(absl::string_view name, absl::string_view value) {
  fields_.push_back({std::string(name), std::string(value)});
  if (name == "event") {
    type_ = std::string(value);
  } else if (name == "data") {
    data_.append(value.data(), value.size());
    data_ += '\n';
  } else if (name == "id") {
    if (value.find('\0') == absl::string_view::npos) {
      id_buffer_ = std::string(value);
    }
  } else if (name == "retry") {
    if (value.empty()) return;
    uint64_t ms = 0;
    for (char c : value) {
      if (c < '0' || c > '9') return;
      const uint64_t digit = static_cast<uint64_t>(c - '0');
      // A browser's integer would saturate; so does this one.
      ms = ms > (std::numeric_limits<uint64_t>::max() - digit) / 10
               ? std::numeric_limits<uint64_t>::max()
               : ms * 10 + digit;
    }
    retry_ = ms;
  }
}

void WhatwgSseParser::Dispatch() {
  last_event_id_ = id_buffer_;
  if (data_.empty()) {
    type_.clear();
    ++empty_dispatches_;
    return;
  }
  if (data_.back() == '\n') data_.pop_back();
  SseReadEvent event;
  event.type = type_.empty() ? "message" : type_;
  event.data.swap(data_);
  event.last_event_id = last_event_id_;
  events_.push_back(std::move(event));
  data_.clear();
  type_.clear();
}

}  // namespace ssebridge
