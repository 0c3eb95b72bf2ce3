// RedisFleet: the Fleet (bridge/core/fleet.h) of a --broker=redis
// deployment, kept in the broker's Redis.
//
// Keys (redis_keys.h; <me> is replica(), unique per process):
//   {p}:fleet:replicas        set of replicas that refreshed once
//   {p}:fleet:alive:<me>      this replica's lease: its stats line, expiring
//                             --fleet_lease after its last refresh
//   {p}:fleet:held:<me>       set: the stream keys this replica counts
//   {p}:fleet:streams:<key>   hash: replica -> its open streams of the key
//   {p}:fleet:reply:<req>     list: answers to one request (expiring)
//   <p>:fleet                 pub/sub topic: "d <req> <origin> <user>"
//
// Crash safety: every --fleet_refresh_interval the fleet's thread renews
// the lease and forgets every replica whose lease ran out (their counts
// leave the users' hashes). A take also skips, and drops, fields of
// replicas without a lease. So a SIGKILLed replica's streams stop counting
// once its lease runs out: at most --fleet_lease after its last refresh.
// A replica that was cut off from Redis longer than its lease finds its
// lease gone at the next refresh and writes its counts again from its own
// ledger, so being forgotten while alive heals within one refresh.
//
// Redis away: TakeStream answers UNAVAILABLE within the command timeout
// (the caller falls back to the local count); releases wait in memory and
// are replaced by the resync when the connection is back;
// DisconnectElsewhere answers UNAVAILABLE (nobody was told: pub/sub is
// at-most-once, and a replica away from Redis at the moment misses it);
// Stats answers UNAVAILABLE.
//
// Thread-safe. Start() after the hooks' owners exist; Stop() before they go.
#ifndef SSEBRIDGE_BROKER_REDIS_REDIS_FLEET_H_
#define SSEBRIDGE_BROKER_REDIS_REDIS_FLEET_H_

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "bridge/broker/redis/redis_keys.h"
#include "bridge/broker/redis/redis_pool.h"
#include "bridge/core/fleet.h"

namespace ssebridge {

class RedisFleet final : public Fleet {
 public:
  struct Options {
    RedisConnectOptions connect;
    std::string prefix = "ssebridge";
    std::string replica;  // this process' name; empty: made up
    size_t pool_size = 2;
    RedisBackoff backoff;
    absl::Duration lease = absl::Seconds(15);          // --fleet_lease
    absl::Duration refresh = absl::Seconds(5);         // --fleet_refresh_interval
    absl::Duration answer_timeout = absl::Seconds(2);  // --fleet_answer_timeout
    // Connection state changes, for the log (as the broker's).
    std::function<void(const std::string&, const std::string&)> on_state;
  };
  explicit RedisFleet(Options options);
  ~RedisFleet() override;

  const std::string& replica() const override { return replica_; }
  absl::Status Start(Hooks hooks) override;
  void Stop(absl::Time deadline) override;
  absl::StatusOr<bool> TakeStream(absl::string_view key, size_t limit, size_t* held) override;
  void ReleaseStream(absl::string_view key) override;
  void CountUnchecked(absl::string_view key) override;
  absl::StatusOr<FleetDisconnect> DisconnectElsewhere(const std::string& user) override;
  absl::StatusOr<std::vector<ReplicaStats>> Stats() override;

  // A unique replica name: the host's name and a random suffix.
  static std::string MakeReplicaName();

 private:
  void Run();
  absl::Status Connect();
  void Disconnect();
  absl::Status Refresh();
  absl::Status Resync();
  absl::Status FlushReleases();
  void OnRequest(absl::string_view text);
  void Wake();
  absl::Status Named(const absl::Status& s) const;

  const Options options_;
  const RedisKeys keys_;
  const std::string replica_;
  const std::string where_;
  RedisPool pool_;  // callers' takes, disconnects and stats reads
  Hooks hooks_;
  int wake_fd_ = -1;
  std::thread thread_;
  std::atomic<bool> stop_{false};

  // The fleet thread's own connections: the subscription and its commands.
  std::unique_ptr<RedisConnection> sub_;
  std::unique_ptr<RedisConnection> cmd_;
  // Their fds while connected (-1: none), so Stop() can cut a call blocked
  // on a frozen Redis at its deadline; the thread swaps connections under
  // fd_mu_ and never does I/O under it.
  std::mutex fd_mu_;
  int sub_fd_ ABSL_GUARDED_BY(fd_mu_) = -1;
  int cmd_fd_ ABSL_GUARDED_BY(fd_mu_) = -1;
  std::atomic<bool> done_{false};
  absl::Time next_refresh_ = absl::InfinitePast();

  // Takes run shared, a resync alone: it writes counts_ as Redis must hold
  // them, so no take may land between its read and its write. absl::Mutex,
  // not std::shared_mutex: glibc's rwlock lets new readers pass a waiting
  // writer, and a reconnect storm's takes (each held over a Redis round
  // trip) would overlap without end and keep the resync out.
  absl::Mutex resync_mu_;
  std::mutex mu_;
  // What this replica counts in Redis (its ledger), and the releases not
  // yet sent there.
  absl::flat_hash_map<std::string, size_t> counts_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, size_t> releases_ ABSL_GUARDED_BY(mu_);
  // A call's outcome was unknown: Redis may hold a count the ledger lacks.
  bool resync_needed_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace ssebridge

#endif  // SSEBRIDGE_BROKER_REDIS_REDIS_FLEET_H_
