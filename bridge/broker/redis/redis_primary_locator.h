// RedisPrimaryLocator: the one place that answers "where is the Redis
// primary now". Every RedisConnection asks it on each (re)connect, and
// registers its socket with it; when the primary moves (a Sentinel
// failover), the locator shuts down every registered socket, so each owner
// (pool, fan-out, fleet, ticket vault) sees an I/O error and reconnects
// through the locator like after any lost connection. A connection made for
// an address that was replaced before it registered is refused, so none
// can stay on the old primary.
//
// FixedPrimaryLocator is --redis_url's host:port (the primary never moves);
// SentinelPrimaryLocator (sentinel_primary_locator.h) follows Sentinel.
//
// Thread-safe. Shared (shared_ptr) by every connection option of a process;
// it must outlive the connections, which the shared_ptr in
// RedisConnectOptions guarantees.
#ifndef SSEBRIDGE_BROKER_REDIS_REDIS_PRIMARY_LOCATOR_H_
#define SSEBRIDGE_BROKER_REDIS_REDIS_PRIMARY_LOCATOR_H_

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"

namespace ssebridge {

struct RedisPrimaryAddress {
  std::string host;
  int port = 0;
  // Bumped each time the primary moves; a connection made for an older
  // generation is refused at registration.
  uint64_t generation = 0;

  std::string Describe() const;  // "host:port"
};

class RedisPrimaryLocator {
 public:
  virtual ~RedisPrimaryLocator() = default;

  // Where to connect now; UNAVAILABLE (with why) when it cannot be told.
  virtual absl::StatusOr<RedisPrimaryAddress> Locate() = 0;
  // Whether a fresh connection must confirm with ROLE that it reached a
  // master before use (a Sentinel's answer can be stale for a moment).
  virtual bool verify_role() const { return false; }
  // `address` turned out not to be the primary (ROLE said replica, or a
  // write met READONLY): look again. Never blocks.
  virtual void Suspect(const RedisPrimaryAddress& /*address*/) {}

  // Registers a connected socket made for `generation`. 0 (refused) when
  // the primary moved since: the caller closes it and connects again.
  uint64_t Track(int fd, uint64_t generation);
  // Before the socket is closed.
  void Untrack(uint64_t token);
  // The current generation.
  uint64_t generation() const;
  // How many sockets are registered (for tests and status).
  size_t tracked() const;

 protected:
  // The primary moved: a new generation, and every registered socket is
  // shut down (not closed: its owner closes it when it notices).
  void Moved();

 private:
  mutable std::mutex mu_;
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 1;
  uint64_t next_token_ ABSL_GUARDED_BY(mu_) = 1;
  std::map<uint64_t, int> fds_ ABSL_GUARDED_BY(mu_);  // token -> fd
};

class FixedPrimaryLocator : public RedisPrimaryLocator {
 public:
  FixedPrimaryLocator(std::string host, int port) : host_(std::move(host)), port_(port) {}
  absl::StatusOr<RedisPrimaryAddress> Locate() override;

 private:
  const std::string host_;
  const int port_;
};

}  // namespace ssebridge

#endif  // SSEBRIDGE_BROKER_REDIS_REDIS_PRIMARY_LOCATOR_H_
