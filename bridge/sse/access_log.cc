#include "bridge/sse/access_log.h"

#include "absl/strings/str_join.h"
#include "bridge/ops/log.h"

namespace ssebridge {

void LogStreamOpen(uint64_t stream, const Subscription& sub, absl::string_view client_ip,
                   absl::string_view cursor) {
  if (!LogEnabled(LogLevel::kInfo)) return;
  LogLine(LogLevel::kInfo, "stream_open")
      .Int("stream", static_cast<int64_t>(stream))
      .Str("channels", absl::StrJoin(sub.channels(), ","))
      .Str("user", sub.user_id())
      .Str("client_ip", client_ip)
      .Str("cursor", cursor);
}

void LogStreamClose(uint64_t stream, const Subscription& sub, absl::string_view client_ip,
                    const StreamTotals& totals) {
  if (!LogEnabled(LogLevel::kInfo)) return;
  LogLine(LogLevel::kInfo, "stream_close")
      .Int("stream", static_cast<int64_t>(stream))
      .Str("channels", absl::StrJoin(sub.channels(), ","))
      .Str("user", sub.user_id())
      .Str("client_ip", client_ip)
      .Num("duration_seconds", absl::ToDoubleSeconds(totals.duration))
      .Int("bytes", static_cast<int64_t>(totals.bytes))
      .Int("events", static_cast<int64_t>(totals.events))
      .Str("reason", CloseReasonName(totals.reason));
}

}  // namespace ssebridge
