// SentinelPrimaryLocator: the Redis primary as Redis Sentinel reports it
// (--redis_sentinels, --redis_sentinel_master).
//
// Locate() asks the sentinels in order (SENTINEL get-master-addr-by-name,
// each bounded by the sentinel timeout) and takes the first answer; when no
// sentinel answers it falls back to the last primary it knew. Connections
// confirm with ROLE that the address is a master (verify_role()).
// With rediss:// the sentinels are asked over TLS as well, with the same
// context as Redis (a TLS-only deployment: Sentinel's tls-port with
// tls-replication), so they must present a certificate valid for their
// address (or for --redis_tls_server_name, when it is set).
//
// A watcher thread stays SUBSCRIBEd to +switch-master on one sentinel (the
// next one in the list when it is lost, after a backoff) and PINGs it when
// idle. When the master moves -- a +switch-master message, or any answer
// naming another address -- every registered connection is shut down and
// reconnects through Locate(): the old primary may be alive as a demoted
// replica, and must not keep a subscription that no longer receives
// publishes. Whether the new primary lags behind is not decided here: the
// broker's epoch check (redis_fanout.h) notices seqs going back and starts
// a new epoch.
//
// Thread-safe. The destructor stops and joins the watcher.
#ifndef SSEBRIDGE_BROKER_REDIS_SENTINEL_PRIMARY_LOCATOR_H_
#define SSEBRIDGE_BROKER_REDIS_SENTINEL_PRIMARY_LOCATOR_H_

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"
#include "bridge/broker/redis/redis_connection.h"
#include "bridge/broker/redis/redis_primary_locator.h"
#include "bridge/broker/redis/redis_sentinel.h"
#include "bridge/broker/redis/redis_tls.h"

namespace ssebridge {

class SentinelPrimaryLocator : public RedisPrimaryLocator {
 public:
  struct Options {
    std::vector<SentinelAddress> sentinels;
    std::string master;    // the name the sentinels monitor
    std::string password;  // AUTH to the sentinels; empty: none
    // Set: the sentinels speak TLS (the URL is rediss://); null: plain TCP.
    std::shared_ptr<const RedisTls> tls;
    // Connect and command timeout of one sentinel; the idle watch PINGs
    // every two of these.
    absl::Duration timeout = absl::Milliseconds(500);
    absl::Duration backoff_min = absl::Milliseconds(100);
    absl::Duration backoff_max = absl::Seconds(5);
    // For the log: ("redis_primary", "host:port"), ("redis_primary_moved",
    // "old -> new"), ("sentinel_unavailable", why), ("sentinel_watching",
    // "host:port").
    std::function<void(const std::string& state, const std::string& detail)> on_state;
  };

  explicit SentinelPrimaryLocator(Options options);
  ~SentinelPrimaryLocator() override;
  // Starts the +switch-master watcher (without it only Locate() and
  // Suspect() notice a move).
  void StartWatching();

  absl::StatusOr<RedisPrimaryAddress> Locate() override;
  bool verify_role() const override { return true; }
  void Suspect(const RedisPrimaryAddress& address) override;

  // Takes `address` as the primary; a different one than known is a move.
  // Returns the address with its generation. (Public for tests.)
  RedisPrimaryAddress Adopt(const RedisPrimaryAddress& address);
  // A +switch-master payload; true when it is about our master.
  bool ApplySwitchMessage(const std::string& payload);
  std::optional<RedisPrimaryAddress> known() const;

 private:
  absl::StatusOr<RedisPrimaryAddress> Ask(const SentinelAddress& sentinel);
  absl::StatusOr<std::unique_ptr<RedisConnection>> ConnectTo(const SentinelAddress& s);
  void Watch();
  // Watches one sentinel until its connection fails or stop; OK when it
  // got as far as subscribing.
  absl::Status WatchOne(const SentinelAddress& sentinel, bool* subscribed);
  // Waits for the wake pipe at most `timeout`; true when woken.
  bool WaitWake(absl::Duration timeout);
  void Wake();
  void Report(const std::string& state, const std::string& detail);
  // Connections to sentinels that are open now: the destructor shuts them
  // down, so a frozen sentinel cannot hold the stop past its timeouts.
  void Register(int fd);
  void Unregister(int fd);

  const Options options_;
  int wake_[2] = {-1, -1};
  std::atomic<bool> stopping_{false};
  std::atomic<bool> refresh_{false};
  // The sentinel that answered last: asked first (Sentinel's client rule),
  // so a dead or frozen first one does not delay every reconnect.
  std::atomic<size_t> last_good_{0};
  std::thread watcher_;

  std::mutex fds_mu_;
  std::vector<int> open_fds_ ABSL_GUARDED_BY(fds_mu_);

  mutable std::mutex mu_;
  std::optional<RedisPrimaryAddress> known_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ssebridge

#endif  // SSEBRIDGE_BROKER_REDIS_SENTINEL_PRIMARY_LOCATOR_H_
