#include "tests/harness/sse_parser.h"

#include <algorithm>
#include <limits>

namespace ssebridge_it {
namespace {

constexpr absl::string_view kBom = "\xEF\xBB\xBF";

}  // namespace

void SseParser::Feed(absl::string_view bytes) {
  if (!bom_done_) {
    // The BOM may itself be split across Feed calls.
    while (!bytes.empty() && bom_probe_.size() < kBom.size()) {
      bom_probe_ += bytes.front();
      bytes.remove_prefix(1);
      if (kBom.substr(0, bom_probe_.size()) != bom_probe_) break;
    }
    if (bom_probe_.size() < kBom.size() && kBom.substr(0, bom_probe_.size()) == bom_probe_) {
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

void SseParser::Line(absl::string_view line) {
  if (line.empty()) {
    Dispatch();
    return;
  }
  if (line.front() == ':') {
    comments_.emplace_back(line.substr(1));
    return;
  }
  size_t colon = line.find(':');
  if (colon == absl::string_view::npos) {
    Field(line, "", line);
    return;
  }
  absl::string_view value = line.substr(colon + 1);
  if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  Field(line.substr(0, colon), value, line);
}

void SseParser::Field(absl::string_view name, absl::string_view value, absl::string_view line) {
  fields_.push_back({std::string(name), std::string(value)});
  if (name == "event") {
    block_started_ = true;
    block_had_event_ = true;
    type_ = std::string(value);
  } else if (name == "data") {
    block_started_ = true;
    ++block_data_lines_;
    data_.append(value.data(), value.size());
    data_ += '\n';
  } else if (name == "id") {
    block_started_ = true;
    if (value.find('\0') == absl::string_view::npos) {
      block_had_id_ = true;
      id_buffer_ = std::string(value);
    }
  } else if (name == "retry") {
    const bool digits = !value.empty() && std::all_of(value.begin(), value.end(),
                                                      [](char c) { return c >= '0' && c <= '9'; });
    if (!digits) {
      ignored_.emplace_back(line);
      return;
    }
    uint64_t ms = 0;
    for (char c : value) {
      const uint64_t digit = static_cast<uint64_t>(c - '0');
      ms = ms > (std::numeric_limits<uint64_t>::max() - digit) / 10
               ? std::numeric_limits<uint64_t>::max()
               : ms * 10 + digit;
    }
    retry_ = ms;
    constexpr uint64_t kMaxInt64 = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
    retries_.push_back(static_cast<int64_t>(std::min(ms, kMaxInt64)));
  } else {
    ignored_.emplace_back(line);
  }
}

void SseParser::Dispatch() {
  last_event_id_ = id_buffer_;
  const bool had_id = block_had_id_;
  const bool had_event = block_had_event_;
  const int lines = block_data_lines_;
  block_started_ = false;
  block_had_id_ = false;
  block_had_event_ = false;
  block_data_lines_ = 0;
  if (data_.empty()) {
    type_.clear();
    ++empty_dispatches_;
    return;
  }
  if (data_.back() == '\n') data_.pop_back();
  SseEvent event;
  event.id = last_event_id_;
  event.event = type_.empty() ? "message" : type_;
  event.data.swap(data_);
  event.had_id_field = had_id;
  event.had_event_field = had_event;
  event.data_lines = lines;
  events_.push_back(std::move(event));
  data_.clear();
  type_.clear();
}

}  // namespace ssebridge_it
