#include "bridge/sse/sse_encoder.h"

#include "absl/strings/str_cat.h"
#include "bridge/core/names.h"

namespace ssebridge {

std::string SseEncoder::Encode(const Event& event) const {
  std::string out;
  out.reserve(event.data.size() + event.id.size() + event.type.size() + event.channel.size() + 48);
  if (!event.channel.empty()) absl::StrAppend(&out, "channel: ", event.channel, "\n");
  if (!event.id.empty()) absl::StrAppend(&out, "id: ", event.id, "\n");
  if (!event.type.empty() && event.type != kDefaultEventType) {
    absl::StrAppend(&out, "event: ", event.type, "\n");
  }
  AppendDataLines(event.data, &out);
  out += '\n';
  return out;
}

std::string SseEncoder::EncodeCursor(const std::string& id) const {
  return absl::StrCat("id: ", id, "\n\n");
}

void AppendDataLines(absl::string_view payload, std::string* out) {
  size_t start = 0;
  while (true) {
    size_t end = payload.find_first_of("\r\n", start);
    absl::string_view line = payload.substr(
        start, end == absl::string_view::npos ? absl::string_view::npos : end - start);
    absl::StrAppend(out, "data: ", line, "\n");
    if (end == absl::string_view::npos) break;
    start = end + 1;
    if (payload[end] == '\r' && start < payload.size() && payload[start] == '\n') {
      ++start;
    }
  }
}

std::string SseNotice(absl::string_view type, absl::string_view payload) {
  std::string out = absl::StrCat("event: ", type, "\n");
  AppendDataLines(payload, &out);
  out += "\n";
  return out;
}

std::string SseComment(absl::string_view text) {
  std::string line(text);
  // A line break would end the comment and start a field of our caller's
  // choosing.
  for (char& c : line) {
    if (c == '\r' || c == '\n') c = ' ';
  }
  return absl::StrCat(": ", line, "\n\n");
}

std::string SseRetry(int64_t millis) { return absl::StrCat("retry: ", millis, "\n\n"); }

std::string SseHeartbeatHint(int64_t millis) { return absl::StrCat("heartbeat: ", millis, "\n\n"); }

std::string SseStreamOpening(int64_t retry_millis, int64_t heartbeat_millis) {
  return absl::StrCat(SseComment("ok"), SseRetry(retry_millis), SseHeartbeatHint(heartbeat_millis));
}

}  // namespace ssebridge
