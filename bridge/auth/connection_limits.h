// ConnectionLimits: caps open streams per user and per client address, so
// one account or one host cannot take a replica's whole connection budget.
//
// A stream whose ticket was minted by a channel-limited publisher is
// counted per (minter, user), not as the user: such a publisher may mint
// tickets for any user id, and must not be able to spend the real user's
// --max_connections_per_user (the same limit applies to each pair).
//
// Acquire() hands out a Lease that holds one slot of each (and, when the
// caller gives a cap, one of the replica's total); dropping the lease gives
// them back. A lease is one allocation with its shared count: every open
// stream holds one, so its size is per-stream memory. Leases may outlive
// nothing but the ConnectionLimits that issued them. Thread-safe.
//
// Fleet (--broker=redis, see bridge/core/fleet.h): the per-user cap then
// counts the user's streams on every replica. The local count is checked
// first (it can only be lower); then the fleet's, which may wait on Redis up
// to its command timeout. When the fleet cannot be reached the local count
// alone decides (counted in fleet_unchecked()): an outage of the store must
// not lock every user out. The per-address cap stays per replica: behind a
// load balancer an address is spread over the replicas on purpose.
#ifndef SSEBRIDGE_AUTH_CONNECTION_LIMITS_H_
#define SSEBRIDGE_AUTH_CONNECTION_LIMITS_H_

#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "bridge/auth/subscriber_auth.h"
#include "bridge/core/fleet.h"

namespace ssebridge {

class ConnectionLimits {
 public:
  // 0 means no limit. `fleet` (may be null: this replica alone) must
  // outlive the limits and every lease.
  ConnectionLimits(size_t per_user, size_t per_address, Fleet* fleet = nullptr)
      : per_user_(per_user), per_address_(per_address), fleet_(fleet) {}
  ConnectionLimits(const ConnectionLimits&) = delete;
  ConnectionLimits& operator=(const ConnectionLimits&) = delete;

  class Lease {
    struct Key {  // only ConnectionLimits makes leases (through make_shared)
      explicit Key() = default;
    };
    friend class ConnectionLimits;

   public:
    Lease(Key, ConnectionLimits* owner, absl::string_view minter, std::string user,
          std::string address)
        : owner_(owner),
          minter_(minter.empty() ? nullptr : std::make_unique<const std::string>(minter)),
          user_(std::move(user)),
          address_(std::move(address)) {}
    ~Lease();
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;

   private:
    absl::string_view minter() const {
      return minter_ == nullptr ? absl::string_view() : absl::string_view(*minter_);
    }
    // Every open stream holds a lease: the rare parts (a minter, the fleet
    // key, which follows from minter and user) take no room in the others.
    ConnectionLimits* owner_;
    std::unique_ptr<const std::string> minter_;  // set: counted per (minter, user)
    std::string user_;                           // empty: anonymous, not counted per user
    std::string address_;
    bool fleet_counted_ = false;  // counted by the fleet too
  };

  // RESOURCE_EXHAUSTED naming the limit that is full (and its flag).
  absl::StatusOr<std::shared_ptr<Lease>> Acquire(absl::string_view user, absl::string_view address);
  // The same, counted per (minter, user) when `minter` is non-empty; with
  // `max_streams` > 0 also refused (UNAVAILABLE, naming --max_connections)
  // while that many leases are out, checked under the same lock, so
  // concurrent admissions never overshoot it.
  absl::StatusOr<std::shared_ptr<Lease>> Acquire(absl::string_view minter, absl::string_view user,
                                                 absl::string_view address, size_t max_streams = 0);
  // The same for `identity`: per (minter, user) when a confined ticket
  // proved it, else per user.
  absl::StatusOr<std::shared_ptr<Lease>> Acquire(const SubscriberIdentity& identity,
                                                 absl::string_view address);

  // Streams admitted on the local count alone: the fleet was unreachable.
  uint64_t fleet_unchecked() const { return fleet_unchecked_.load(); }

  // Leases out now: the replica's streams that hold a slot.
  size_t streams() const { return streams_.load(std::memory_order_relaxed); }
  // Users with an open stream, each (minter, user) pair counted as one.
  size_t users() const;
  size_t ConnectionsOf(absl::string_view user) const;
  size_t ConnectionsOf(absl::string_view minter, absl::string_view user) const;

 private:
  using MintedUser = std::pair<std::string, std::string>;  // (minter, user)
  absl::StatusOr<std::shared_ptr<Lease>> AcquireLocked(absl::string_view minter,
                                                       absl::string_view user,
                                                       absl::string_view address,
                                                       size_t max_streams)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Adds the fleet's check to a lease the local counts granted.
  absl::StatusOr<std::shared_ptr<Lease>> ChargeFleet(std::shared_ptr<Lease> lease);
  void Release(const Lease& lease);

  const size_t per_user_;
  const size_t per_address_;
  Fleet* const fleet_;
  std::atomic<uint64_t> fleet_unchecked_{0};
  std::atomic<size_t> streams_{0};  // written under mu_
  mutable std::mutex mu_;
  absl::flat_hash_map<std::string, size_t> by_user_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<MintedUser, size_t> by_minted_user_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, size_t> by_address_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ssebridge

#endif  // SSEBRIDGE_AUTH_CONNECTION_LIMITS_H_
