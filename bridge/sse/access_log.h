// Access log of SSE streams (--access_log): one JSON line (bridge/ops/log,
// level info) when a stream opens and one when it closes, sharing the
// stream's `stream` number so the two can be joined:
//
//   {"msg":"stream_open","stream":7,"channels":"a,b","user":"u1",
//    "client_ip":"10.0.0.5","cursor":"<epoch>-12"}
//   {"msg":"stream_close","stream":7,"channels":"a,b","user":"u1",
//    "client_ip":"10.0.0.5","duration_seconds":12.5,"bytes":5120,
//    "events":40,"reason":"client_closed"}
//
// Channels are comma-joined (a channel name cannot hold a comma); `events`
// counts the SSE events written in full (catch-up and bridge notices
// included, not headers or heartbeats); `bytes` everything written.
#ifndef SSEBRIDGE_SSE_ACCESS_LOG_H_
#define SSEBRIDGE_SSE_ACCESS_LOG_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "bridge/core/subscription.h"
#include "bridge/sse/close_reason.h"

namespace ssebridge {

struct StreamTotals {
  absl::Duration duration;
  uint64_t bytes = 0;
  uint64_t events = 0;
  CloseReason reason = CloseReason::kClientClosed;
};

void LogStreamOpen(uint64_t stream, const Subscription& sub, absl::string_view client_ip,
                   absl::string_view cursor);
void LogStreamClose(uint64_t stream, const Subscription& sub, absl::string_view client_ip,
                    const StreamTotals& totals);

}  // namespace ssebridge

#endif  // SSEBRIDGE_SSE_ACCESS_LOG_H_
