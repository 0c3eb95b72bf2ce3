// Connection: what a WriterLoop needs of one stream it owns, whatever the
// transport writing it (today the SSE stream; a WebSocket or HTTP/2 stream
// would be another implementation). The loop watches the connection's socket
// through EventLoop::FdHandler, ends it at shutdown, on an administrator's
// request or when its credential runs out, and keeps it alive with
// heartbeats. Every method runs on the owning loop's thread.
#ifndef SSEBRIDGE_SSE_CONNECTION_H_
#define SSEBRIDGE_SSE_CONNECTION_H_

#include <string>

#include "absl/time/time.h"
#include "bridge/event/event_loop.h"
#include "bridge/sse/close_reason.h"

namespace ssebridge {

class Connection : public EventLoop::FdHandler {
 public:
  // The owning loop frees a closed connection (WriterLoop::Forget).
  virtual ~Connection() = default;

  // `bytes` are the connection's last; it closes for `why` once they are
  // written.
  virtual void Farewell(const std::string& bytes, CloseReason why) = 0;
  // Closes at once; the loop frees the connection at the end of the round.
  virtual void Close(CloseReason why) = 0;
  // Writes a keep-alive when nothing was written for `every`.
  virtual void HeartbeatIfIdle(absl::Time now, absl::Duration every) = 0;

  virtual bool closed() const = 0;
  virtual absl::Time expires_at() const = 0;
  virtual absl::Time opened_at() const = 0;
  virtual const std::string& user_id() const = 0;
  // The client's name for the stream (?stream=); empty: none.
  virtual const std::string& stream_key() const = 0;
};

}  // namespace ssebridge

#endif  // SSEBRIDGE_SSE_CONNECTION_H_
