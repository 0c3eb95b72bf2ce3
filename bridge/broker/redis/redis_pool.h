// RedisPool: a few command connections shared by the threads that publish
// and attach. A caller borrows one connection for one call, and waits for a
// free one at most the command timeout (then UNAVAILABLE: not sent). While Redis is
// down the pool does not try to connect on every call: after a failed
// connect it answers UNAVAILABLE at once until the backoff (doubling from
// min to max) has passed, so publishes fail fast instead of queueing.
//
// Health follows Redis, not the traffic: Revive() (the fan-out connection is
// back) clears the backoff and the failure at once, so a replica that had a
// publish refused during an outage is ready again when Redis is, without
// waiting for some later publish to find out.
//
// CancelInFlight() (shutdown past its deadline) shuts down the sockets of
// calls in progress, so none outlives the deadline by a command timeout;
// their callers get DEADLINE_EXCEEDED (outcome unknown) and later calls
// UNAVAILABLE.
#ifndef SSEBRIDGE_BROKER_REDIS_REDIS_POOL_H_
#define SSEBRIDGE_BROKER_REDIS_REDIS_POOL_H_

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "bridge/broker/redis/redis_connection.h"

namespace ssebridge {

struct RedisBackoff {
  absl::Duration min = absl::Milliseconds(100);
  absl::Duration max = absl::Seconds(5);
};

class RedisPool {
 public:
  RedisPool(RedisConnectOptions options, size_t size, RedisBackoff backoff);

  // Runs `call` on a connected connection. UNAVAILABLE without calling it
  // when Redis cannot be reached; a connection that broke during the call
  // is dropped (the next call connects again).
  absl::Status Run(const std::function<absl::Status(RedisConnection&)>& call);

  // False from a failed connect or call until a call succeeds again, or
  // Revive().
  bool healthy() const;
  // Redis answers again (another connection got through): healthy, and the
  // next call connects at once.
  void Revive();
  // Aborts the calls in progress and refuses every later one.
  void CancelInFlight();

 private:
  const RedisConnectOptions options_;
  const RedisBackoff backoff_;

  mutable std::mutex mu_;
  std::condition_variable free_cv_;
  std::vector<std::unique_ptr<RedisConnection>> idle_ ABSL_GUARDED_BY(mu_);
  size_t available_ ABSL_GUARDED_BY(mu_);  // idle or never connected
  absl::Time next_connect_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::Duration delay_ ABSL_GUARDED_BY(mu_);
  bool healthy_ ABSL_GUARDED_BY(mu_) = true;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  std::string last_error_ ABSL_GUARDED_BY(mu_);
  std::vector<RedisConnection*> busy_ ABSL_GUARDED_BY(mu_);  // lent out
};

}  // namespace ssebridge

#endif  // SSEBRIDGE_BROKER_REDIS_REDIS_POOL_H_
