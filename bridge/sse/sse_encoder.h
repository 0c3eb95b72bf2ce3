// SseEncoder: the text/event-stream wire format (WHATWG HTML, "Server-sent
// events"). An event becomes
//
//   channel: <channel>\n    (left out for events with no channel)
//   id: <id>\n
//   event: <type>\n          (left out for "message", the browser's default)
//   data: <line>\n           (one per line of the payload)
//   \n
//
// Payload lines split on "\r\n", "\r" and "\n" alike, as a browser would, so
// the page sees exactly the data that was published (with "\n" line breaks).
//
// `channel` and `heartbeat` are field names the WHATWG parser ignores, so a
// plain EventSource sees exactly what it saw without them; readers that parse
// the stream themselves (the browser SDK) learn which channel an event
// belongs to, and how often an idle stream hears from the bridge. Channel
// names never hold CR or LF (names.h), so the line cannot end early. The
// channel line comes first so "id: ...\nevent: ...\ndata: ...\n\n" stays
// one contiguous run, as before.
#ifndef SSEBRIDGE_SSE_SSE_ENCODER_H_
#define SSEBRIDGE_SSE_SSE_ENCODER_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "bridge/core/event.h"

namespace ssebridge {

class SseEncoder : public EventEncoder {
 public:
  std::string Encode(const Event& event) const override;
  // "id: <id>\n\n": a block with an id and no data sets the browser's
  // Last-Event-ID without dispatching an event.
  std::string EncodeCursor(const std::string& id) const override;
};

// "data: ..." lines for `payload`, appended to *out.
void AppendDataLines(absl::string_view payload, std::string* out);
// "event: <type>\ndata: ...\n\n": an event with no id (the bridge's own
// notices, such as ssebridge.disconnected, and the status page's frames),
// so it moves no reader's Last-Event-ID. `type` holds no CR or LF.
std::string SseNotice(absl::string_view type, absl::string_view payload);
// A comment line block (ignored by EventSource): ": <text>\n\n".
std::string SseComment(absl::string_view text);
// "retry: <ms>\n\n": the browser's reconnection delay.
std::string SseRetry(int64_t millis);
// "heartbeat: <ms>\n\n": how often an idle stream gets a keepalive (ignored
// by EventSource); a reader silent for much longer knows the stream is dead.
std::string SseHeartbeatHint(int64_t millis);
// What every stream body opens with: a comment (so proxies and browsers see
// bytes at once), the reconnection delay and the heartbeat hint.
std::string SseStreamOpening(int64_t retry_millis, int64_t heartbeat_millis);

}  // namespace ssebridge

#endif  // SSEBRIDGE_SSE_SSE_ENCODER_H_
