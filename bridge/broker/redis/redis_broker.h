// RedisBroker: the scale-out broker. Every replica publishes into one Redis
// and fans out, through its own hub, only the channels its subscribers read.
//
// Ids stay "<epoch>-<seq>": the epoch is a Redis key created on first use
// (a Redis that lost its data gets a new one, so old cursors reset), and seq
// is one global Redis counter taken inside the publish script, so ids are
// the same on every replica, ordered across channels (one Last-Event-ID
// resumes a multi-channel stream) and resumable anywhere. History is one
// Redis stream per channel (MAXLEN ~ --history_size, expiring --history_ttl
// after the channel's last publish); retained values and idempotency keys
// are Redis keys too (see redis_keys.h).
//
// Retained values follow the memory broker's rules: the publish script
// refuses a new slot past --max_retained_per_channel or a value past
// --max_retained_bytes (one counter for the whole Redis, shared by the
// replicas) before taking a seq; values are indexed by audience (a public
// set and a set per user) so a snapshot reads only what the reader gets;
// Sweep() expires values past --retained_ttl from a time-ordered index.
// History's global budget is Redis' own (maxmemory with a noeviction or
// volatile policy): --max_history_bytes_total is the memory broker's.
//
// Cluster trade-off: the global counter and a channel's keys are in two
// slots, so the publish script needs one primary (standalone Redis, or
// Sentinel) rather than Redis Cluster. That buys the total order above in
// one round trip per publish. Cluster would need a position per channel in
// the id (or a counter call before the script, which reorders concurrent
// publishes and opens a gap for multi-channel resume). Channel keys already
// carry a per-channel hash tag, so that change would not rename them.
//
// Faults: publishes fail fast with UNAVAILABLE while Redis is unreachable
// (an error never hides a drop: the caller knows the event was not taken);
// ready() follows the connection; Attach() answers UNAVAILABLE (nothing is
// attached); a publish sent that got no answer (timeout, connection lost)
// fails with DEADLINE_EXCEEDED: outcome unknown (see redis_connection.h).
// Open streams stay open and, after the reconnect, receive what Redis
// accepted meanwhile (see redis_fanout.h). A Redis that went back in time
// gets a new epoch (see redis_fanout.h).
#ifndef SSEBRIDGE_BROKER_REDIS_REDIS_BROKER_H_
#define SSEBRIDGE_BROKER_REDIS_REDIS_BROKER_H_

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "bridge/broker/broker.h"
#include "bridge/broker/hub_feed.h"
#include "bridge/broker/redis/redis_fanout.h"
#include "bridge/broker/redis/redis_keys.h"
#include "bridge/broker/redis/redis_pool.h"
#include "bridge/core/hub.h"

namespace ssebridge {

class RedisBroker : public Broker {
 public:
  struct Options {
    RedisConnectOptions connect;
    std::string prefix = "ssebridge";
    size_t history_size = 1000;
    absl::Duration history_ttl = absl::Hours(1);  // inf: no expiry
    absl::Duration idempotency_window = absl::Minutes(10);
    RetainedLimits retained;
    RedisBackoff backoff;
    size_t pool_size = 4;
    // A new epoch (every stream resets once) when another redis-server
    // process serves the data: a restart or a failover may have lost seqs
    // that were handed out (--redis_reset_on_primary_change).
    bool reset_on_primary_change = true;
    // The most events, and payload bytes, one batch script call carries
    // (PublishBatch; one event always goes). Redis is single-threaded and
    // runs a script whole, so one call delays every other client for its
    // run: 256 events of ~3-4 µs each keep that near a millisecond, while
    // the per-call cost (~4 µs) is already spread thin. Longer batches go as
    // several calls, pipelined in one round trip.
    size_t batch_call_events = 256;
    size_t batch_call_bytes = size_t{1} << 20;
    // Connection state changes, for the log: ("redis_connected", epoch),
    // ("redis_unavailable" | "redis_connection_lost", error).
    std::function<void(const std::string&, const std::string&)> on_state;
  };

  // `hub` and `encoder` must outlive the broker. Start() begins connecting;
  // the broker works (and reports not ready) while Redis is away.
  RedisBroker(Options options, Hub* hub, const EventEncoder* encoder);
  ~RedisBroker() override;
  absl::Status Start() override;
  // Stops the fan-out thread: nothing reaches the hub afterwards. Cancels
  // Redis calls in flight, as CancelInFlight().
  void Stop() override;
  // Shutdown past its deadline: calls waiting on Redis end now
  // (DEADLINE_EXCEEDED, outcome unknown), later ones are refused.
  void CancelInFlight() override;

  absl::StatusOr<PublishOutcome> Publish(const PublishSpec& spec) override;
  std::vector<absl::StatusOr<PublishOutcome>> PublishBatch(
      std::vector<PublishSpec>* specs) override;
  absl::Status Attach(std::shared_ptr<Subscription> sub, absl::string_view last_event_id) override;
  // Unsubscribes channels nobody reads here any more and expires retained
  // values past --retained_ttl (history expiry is Redis' own).
  void Sweep(absl::Time now) override;
  std::string epoch() const override { return fanout_.epoch(); }
  bool ready() const override;
  BrokerMetrics metrics() const override;

 private:
  struct Snapshot {
    std::vector<EventPtr> catch_up;
    std::string epoch;
    uint64_t head = 0;
  };
  // Sets the last script argument to the server's identity (the epoch's
  // owner, see redis_scripts.h), or '' when the check is off or the server
  // will not tell (warned once through on_state).
  // The first call on a connection asks the server for it (one round trip).
  absl::Status OwnedBy(RedisConnection& conn, std::vector<std::string>* args) const;
  // The epoch this replica follows and the highest seq it saw, as script
  // arguments (see SSEBRIDGE_REWIND_LUA in redis_scripts.cc).
  std::vector<std::string> HighWaterArgs() const;
  // A duration as a script's milliseconds argument ("0": none).
  static std::string Millis(absl::Duration d);
  RedisConnection::ScriptCall PublishCall(const PublishSpec& spec, absl::Time now) const;
  absl::StatusOr<PublishOutcome> PublishOutcomeOf(const redisReply& reply, const PublishSpec& spec);
  // One event's part of a publish reply: the record (or the refusing flag)
  // and its code (0 taken, 1 replayed, 2 refused by a retained cap).
  absl::StatusOr<PublishOutcome> EventOutcome(const redisReply& record, const redisReply& code,
                                              const PublishSpec& spec);
  // specs[begin, end) as one kPublishBatchScript call (redis_batch_publish.cc).
  RedisConnection::ScriptCall BatchCall(const std::vector<PublishSpec>& specs, size_t begin,
                                        size_t end, absl::Time now) const;
  absl::StatusOr<Snapshot> ReadSnapshot(const Subscription& sub, absl::string_view last_event_id);

  struct StateCounts {
    std::atomic<uint64_t> connects{0};
    std::atomic<uint64_t> losses{0};
    std::atomic<uint64_t> retained_expired{0};
  };

  const Options options_;
  const RedisKeys keys_;
  Hub* const hub_;
  const EventEncoder* const encoder_;
  // Shared with the fan-out's state callback, which may outlive a moved
  // Options; counted before the caller's on_state is told.
  const std::shared_ptr<StateCounts> state_counts_;
  RedisPool pool_;
  std::mutex sweep_mu_;
  std::unique_ptr<RedisConnection> sweep_conn_;  // Sweep()'s own, lazily made
  // The sweep connection's fd while a sweep waits on Redis (-1: none), so
  // CancelInFlight() can wake it without sweep_mu_, which the sweep holds.
  std::atomic<int> sweep_fd_{-1};
  std::atomic<bool> sweep_cancelled_{false};
  mutable std::atomic<bool> owner_warned_{false};  // OwnerUnknown logged
  HubFeed feed_;
  RedisFanout fanout_;
};

}  // namespace ssebridge

#endif  // SSEBRIDGE_BROKER_REDIS_REDIS_BROKER_H_
