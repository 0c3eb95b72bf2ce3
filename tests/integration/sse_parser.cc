#include "tests/integration/sse_parser.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"

namespace ssebridge_it {
namespace {
constexpr absl::string_view kBom = "\xEF\xBB\xBF";
}  // namespace

void SseParser::Feed(absl::string_view bytes) {
  if (!bom_checked_) {
    bom_prefix_.append(bytes.data(), bytes.size());
    size_t n = std::min(bom_prefix_.size(), kBom.size());
    if (absl::string_view(bom_prefix_).substr(0, n) == kBom.substr(0, n) &&
        bom_prefix_.size() < kBom.size()) {
      return;  // could still be a BOM; wait for more bytes
    }
    bom_checked_ = true;
    std::string all = std::move(bom_prefix_);
    bom_prefix_.clear();
    absl::string_view rest = all;
    if (rest.substr(0, kBom.size()) == kBom) rest.remove_prefix(kBom.size());
    Feed(rest);
    return;
  }
  for (char c : bytes) {
    if (pending_cr_) {
      pending_cr_ = false;
      if (c == '\n') continue;  // the LF of a CRLF pair
    }
    if (c == '\r') {
      pending_cr_ = true;
      std::string line = std::move(line_);
      line_.clear();
      ProcessLine(line);
    } else if (c == '\n') {
      std::string line = std::move(line_);
      line_.clear();
      ProcessLine(line);
    } else {
      line_.push_back(c);
    }
  }
}

void SseParser::ProcessLine(const std::string& line) {
  if (line.empty()) {
    Dispatch();
    return;
  }
  if (line[0] == ':') {
    comments_.push_back(line.substr(1));
    return;
  }
  std::string field;
  std::string value;
  size_t colon = line.find(':');
  if (colon == std::string::npos) {
    field = line;
  } else {
    field = line.substr(0, colon);
    value = line.substr(colon + 1);
    if (!value.empty() && value[0] == ' ') value.erase(0, 1);
  }
  if (field == "event") {
    block_started_ = true;
    block_had_event_ = true;
    event_type_ = value;
  } else if (field == "data") {
    block_started_ = true;
    ++block_data_lines_;
    data_ += value;
    data_ += '\n';
  } else if (field == "id") {
    block_started_ = true;
    if (value.find('\0') == std::string::npos) {
      block_had_id_ = true;
      last_event_id_ = value;
    }
  } else if (field == "retry") {
    int64_t ms = 0;
    bool digits = !value.empty();
    for (char c : value) digits = digits && absl::ascii_isdigit(c);
    if (digits && absl::SimpleAtoi(value, &ms)) {
      retries_.push_back(ms);
    } else {
      ignored_.push_back(line);
    }
  } else {
    ignored_.push_back(line);
  }
}

void SseParser::Dispatch() {
  bool had_id = block_had_id_;
  bool had_event = block_had_event_;
  int lines = block_data_lines_;
  block_started_ = false;
  block_had_id_ = false;
  block_had_event_ = false;
  block_data_lines_ = 0;
  if (data_.empty()) {
    // Per the algorithm: nothing to dispatch; drop the type buffer.
    event_type_.clear();
    return;
  }
  if (data_.back() == '\n') data_.pop_back();
  SseEvent ev;
  ev.id = last_event_id_;
  ev.event = event_type_.empty() ? "message" : event_type_;
  ev.data = std::move(data_);
  ev.had_id_field = had_id;
  ev.had_event_field = had_event;
  ev.data_lines = lines;
  events_.push_back(std::move(ev));
  data_.clear();
  event_type_.clear();
}

}  // namespace ssebridge_it
