// StreamWriter: serves accepted SSE streams event-driven, with one epoll loop
// per hub shard and no thread per connection.
//
// Loop i owns shard i of the hub: when the shard's inbox turns non-empty the
// loop wakes, applies it (Hub coalescing) and writes each touched stream's
// whole backlog with one writev. Heartbeats go out on idle streams; a reader
// that hangs up or errors is closed and detached at once. A stream belongs
// to the loop of the shard it was attached to and is only ever touched there.
//
// Ownership: Open() takes the socket; the writer closes it. The writer must
// be stopped before the hub it points to is destroyed.
#ifndef SSEBRIDGE_SSE_STREAM_WRITER_H_
#define SSEBRIDGE_SSE_STREAM_WRITER_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "bridge/core/active_count.h"
#include "bridge/core/delivery_policy.h"
#include "bridge/core/hub.h"
#include "bridge/core/subscription.h"
#include "bridge/sse/close_reason.h"

namespace ssebridge {

class WriterLoop;

class StreamWriter {
 public:
  struct Options {
    absl::Duration heartbeat = absl::Seconds(15);
  };

  StreamWriter(Options options, Hub* hub);
  ~StreamWriter();

  absl::Status Start();

  struct StreamOptions {
    // The stream's credential runs out then: it ends with an
    // `ssebridge.auth_expired` event (checked at heartbeat-scan precision,
    // a quarter of --heartbeat, at most 1 s).
    absl::Time expires_at = absl::InfiniteFuture();
    // Released when the stream closes (a connection-limit lease, ...).
    std::shared_ptr<void> hold;
    // Write access-log lines for this stream (see access_log.h), with these.
    bool access_log = false;
    std::string client_ip;
    std::string cursor;
    // ?stream=: a later stream of the same user with this key replaces it.
    std::string stream_key;
    // A whole HTTP response sent instead of `head` when the broker cannot
    // attach the stream before anything was written (Redis frozen or lost
    // while it attached): the reader gets a 503 with Retry-After, as a
    // refusal at admission would give it, not a silent close. Dropped at
    // the first write, so an open stream does not keep it.
    std::shared_ptr<const std::string> unavailable_response;
  };

  // A new stream on `fd` (connected, non-blocking, nothing written yet) whose
  // queue starts with `head` (HTTP headers and opening bytes). The caller
  // attaches the returned subscription through the broker; the first
  // delivery moves the stream into its shard's loop.
  std::shared_ptr<Subscription> Open(int fd, Subscription::Options options,
                                     const PolicyTable& policies, std::string head,
                                     StreamOptions extra);

  // Ends every stream of `user` with an `ssebridge.disconnected` event;
  // returns how many. Waits for the loops (not from a loop thread). Streams
  // opened before the call but still attaching during it are ended when
  // they arrive at their loop (not counted).
  uint32_t DisconnectUser(const std::string& user);
  // Closes the open streams of `user` whose stream key is `key` (reason
  // replaced; no farewell: their client has moved to a new stream) before
  // that new stream opens, so the two are never counted together. Waits
  // for the loops (not from a loop thread); how many were closed. Only
  // this replica's streams: one on another replica ends when its client
  // hangs up.
  uint32_t ReplaceStream(const std::string& user, const std::string& key);

  // Draining: every open stream (and every one opened from now on) gets
  // `farewell()` as its last bytes and is closed once they are written.
  void CloseAll(const std::function<std::string()>& farewell);
  // Closes whatever is left and joins the loops.
  void Stop();

  // How often an idle stream gets a keepalive (announced to readers).
  absl::Duration heartbeat() const { return options_.heartbeat; }
  size_t streams() const { return streams_.value(); }
  // After CloseAll(): waits until every stream is closed, or `deadline`;
  // whether they all were.
  bool WaitClosed(absl::Time deadline) { return streams_.WaitForZero(deadline); }
  uint64_t writes() const;  // writev calls
  uint64_t heartbeats() const;
  uint64_t slow_disconnects() const;  // closed by the disconnect policy
  uint64_t opened() const { return opened_.load(std::memory_order_relaxed); }
  uint64_t closed(CloseReason reason) const;
  uint64_t bytes_written() const;
  // Bytes queued on open streams that their sockets have not taken yet.
  uint64_t queued_bytes() const;

 private:
  // Runs `task` on every loop and sums what they return; waits for them
  // (at most a moment: a stopping writer runs no more tasks).
  uint32_t OnEveryLoop(const std::function<uint32_t(WriterLoop&)>& task);
  friend class WriterLoop;
  friend class SseStream;
  Options options_;
  Hub* hub_;
  std::vector<std::unique_ptr<WriterLoop>> loops_;
  ActiveCount streams_;
  std::atomic<uint64_t> opened_{0};
  bool started_ = false;
};

}  // namespace ssebridge

#endif  // SSEBRIDGE_SSE_STREAM_WRITER_H_
