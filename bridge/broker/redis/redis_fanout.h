// RedisFanout: this replica's pub/sub side of the Redis broker. One thread
// owns one subscribed connection; it SUBSCRIBEs only to channels with a
// local subscriber (or an attach in progress), hands each live event to the
// hub in the order Redis published it, and unsubscribes channels nobody
// reads here any more (Reconcile(), from the broker's Sweep).
//
// Every event and attach reaches the hub through the broker's HubFeed (the
// shared exactly-once hand-over, hub_feed.h), under `mu_`. This class adds
// the Redis part of the hand-over's step 2 (PendingAttach, see
// redis_attach_state.h): Begin() starts the feed's pending attach and sends
// SUBSCRIBE + a marker PING; once the marker is back the broker reads the
// snapshot; Finish() sends a second marker, and when that one is back every
// live event up to the snapshot's head has been dispatched, so the feed can
// finish the attach.
//
// Threads: the fan-out runs on an EventLoop (bridge/event) of its own: the
// connect and backoff are timers, the subscribed socket a watched fd, the
// outbox is sent from the loop's wake hook, the heartbeat a repeating timer.
// Connecting blocks that thread and no one else: two connects and two
// commands, each within its timeout; a Stop() taken meanwhile starts no
// further connect.
//
// When the connection drops: pending attaches fail (Broker::Attach reports
// UNAVAILABLE; the door ends the reader), open streams stay. The thread reconnects with backoff,
// SUBSCRIBEs again, and reads each channel from its position
// (ChannelPositions), so events accepted meanwhile are delivered; a channel
// whose history no longer reaches back, or a new epoch, gets a reset notice.
//
// Time travel: a Redis restored from an older snapshot (or a failover to a
// lagging replica) keeps the epoch but its seq goes back, so the seqs after
// it would be handed out again. The fan-out keeps the highest seq this
// replica has seen in the epoch (live events, recovery, publish results via
// NoteSeq()); the recover script (on every reconnect) and the publish script
// (HighWater()) compare it with Redis' counter and, when Redis is behind,
// replace the epoch: every id after that is new, every stream is reset.
#ifndef SSEBRIDGE_BROKER_REDIS_REDIS_FANOUT_H_
#define SSEBRIDGE_BROKER_REDIS_REDIS_FANOUT_H_

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "bridge/broker/hub_feed.h"
#include "bridge/broker/redis/redis_attach_state.h"
#include "bridge/broker/redis/redis_connection.h"
#include "bridge/broker/redis/redis_keys.h"
#include "bridge/broker/redis/redis_pool.h"
#include "bridge/core/hub.h"
#include "bridge/event/event_loop.h"

namespace ssebridge {

class RedisFanout : private EventLoop::FdHandler {
 public:
  struct Options {
    RedisConnectOptions connect;
    std::string prefix = "ssebridge";
    RedisBackoff backoff;
    absl::Duration heartbeat = absl::Seconds(1);
    bool reset_on_primary_change = true;  // as RedisBroker::Options'
    // Connection state changes, for the log: ("redis_connected", detail).
    std::function<void(const std::string&, const std::string&)> on_state;
    // Each time the connection is (re)established and recovered.
    std::function<void()> on_connected;
  };

  // `hub`, `feed` and `encoder` must outlive the fan-out.
  RedisFanout(Options options, Hub* hub, HubFeed* feed, const EventEncoder* encoder);
  ~RedisFanout();

  // Starts the loop's thread, which connects (and keeps reconnecting).
  absl::Status Start();
  void Stop();

  bool connected() const;
  std::string epoch() const;
  // The epoch this replica follows and the highest seq it has seen in it
  // (0 and "" before the first connect).
  uint64_t HighWater(std::string* epoch) const;
  // A seq of `epoch` handed out here (a publish's result).
  void NoteSeq(const std::string& epoch, uint64_t seq);

  // Null when Redis is not connected (nothing was attached).
  std::shared_ptr<PendingAttach> Begin(std::shared_ptr<Subscription> sub);
  // True once the channels are subscribed; false on failure or timeout.
  bool WaitSubscribed(PendingAttach& p, absl::Time deadline);
  // Hands the snapshot (read after WaitSubscribed) and returns once `p` is
  // attached (true), or failed (false: nothing was attached).
  bool Finish(const std::shared_ptr<PendingAttach>& p, std::vector<EventPtr> catch_up,
              const std::string& epoch, uint64_t head, absl::Time deadline);
  // Gives up on `p`: nothing is attached.
  void Abandon(const std::shared_ptr<PendingAttach>& p);

  // Unsubscribes channels with no local subscriber and no pending attach.
  void Reconcile();

 private:
  // Loop thread: connect, or plan the next try after the backoff.
  void TryConnect();
  absl::Status Connect();
  // Loop thread: the subscribed socket is readable.
  void OnFdEvents(uint32_t events) override;
  // Loop thread: handles the replies hiredis holds (after `read`, the
  // socket read's outcome), then a resync or the outbox; drops on error.
  void HandleReplies(absl::Status read);
  // Loop thread, after Post()/Wake(): sends the outbox, or resyncs.
  void SendOutbox();
  // Loop thread, every heartbeat tick: PING, and a PING unanswered in time
  // drops the connection.
  void Heartbeat();
  // Loop thread: fails pending attaches, reconnects after `reconnect_after`
  // (at once when zero).
  void Drop(const absl::Status& why, absl::Duration reconnect_after = absl::ZeroDuration());
  void HandleReply(const redisReply& reply);
  void OnMessage(const std::string& topic, absl::string_view text);
  void OnPong(absl::string_view token);
  void Wake();

  void FailPending(PendingAttach& p) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ReleaseInterest(const Subscription& sub) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ResetChannel(const std::string& channel, const std::string& epoch, uint64_t head,
                    absl::string_view reason) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Options options_;
  const RedisKeys keys_;
  Hub* const hub_;
  HubFeed* const feed_;
  const EventEncoder* const encoder_;
  std::unique_ptr<EventLoop> loop_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  bool owner_warned_ = false;  // loop thread only: OwnerUnknown logged

  // Fan-out thread only.
  absl::Duration backoff_;
  std::unique_ptr<RedisConnection> sub_;
  std::unique_ptr<RedisConnection> reader_;
  bool ping_outstanding_ = false;
  absl::Time ping_sent_;

  mutable std::mutex mu_;
  bool connected_ ABSL_GUARDED_BY(mu_) = false;
  bool resync_ ABSL_GUARDED_BY(mu_) = false;  // reconnect to check the epoch
  std::string epoch_ ABSL_GUARDED_BY(mu_);
  uint64_t high_water_ ABSL_GUARDED_BY(mu_) = 0;  // of epoch_
  uint64_t next_token_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<uint64_t, std::shared_ptr<PendingAttach>> pending_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, int> pending_interest_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<std::string> subscribed_ ABSL_GUARDED_BY(mu_);
  ChannelPositions positions_ ABSL_GUARDED_BY(mu_);
  std::vector<std::vector<std::string>> outbox_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ssebridge

#endif  // SSEBRIDGE_BROKER_REDIS_REDIS_FANOUT_H_
