// ConnectionLimits: caps open streams per user and per client address, so
// one account or one host cannot take a replica's whole connection budget.
//
// A stream whose ticket was minted by a channel-limited publisher is
// counted per (minter, user), not as the user: such a publisher may mint
// tickets for any user id, and must not be able to spend the real user's
// --max_connections_per_user (the same limit applies to each pair).
//
// Acquire() hands out a Lease that holds one slot of each; dropping the
// lease gives them back. Leases may outlive nothing but the ConnectionLimits
// that issued them. Thread-safe.
#ifndef SSEBRIDGE_AUTH_CONNECTION_LIMITS_H_
#define SSEBRIDGE_AUTH_CONNECTION_LIMITS_H_

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

namespace ssebridge {

class ConnectionLimits {
 public:
  // 0 means no limit.
  ConnectionLimits(size_t per_user, size_t per_address)
      : per_user_(per_user), per_address_(per_address) {}
  ConnectionLimits(const ConnectionLimits&) = delete;
  ConnectionLimits& operator=(const ConnectionLimits&) = delete;

  class Lease {
   public:
    ~Lease();
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;

   private:
    friend class ConnectionLimits;
    Lease(ConnectionLimits* owner, std::string minter, std::string user,
          std::string address)
        : owner_(owner),
          minter_(std::move(minter)),
          user_(std::move(user)),
          address_(std::move(address)) {}
    ConnectionLimits* owner_;
    std::string minter_;   // non-empty: counted per (minter, user)
    std::string user_;     // empty: anonymous, not counted per user
    std::string address_;
  };

  // RESOURCE_EXHAUSTED naming the limit that is full (and its flag).
  absl::StatusOr<std::unique_ptr<Lease>> Acquire(absl::string_view user,
                                                 absl::string_view address);
  // The same, counted per (minter, user) when `minter` is non-empty.
  absl::StatusOr<std::unique_ptr<Lease>> Acquire(absl::string_view minter,
                                                 absl::string_view user,
                                                 absl::string_view address);
  // The same for `identity`: per (minter, user) when a confined ticket
  // proved it, else per user.
  absl::StatusOr<std::unique_ptr<Lease>> Acquire(const SubscriberIdentity& identity,
                                                 absl::string_view address);

  // Users with an open stream, each (minter, user) pair counted as one.
  size_t users() const;
  size_t ConnectionsOf(absl::string_view user) const;
  size_t ConnectionsOf(absl::string_view minter, absl::string_view user) const;

 private:
  using MintedUser = std::pair<std::string, std::string>;  // (minter, user)
  absl::StatusOr<std::unique_ptr<Lease>> AcquireLocked(absl::string_view minter,
                                                       absl::string_view user,
                                                       absl::string_view address)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Release(const Lease& lease);

  const size_t per_user_;
  const size_t per_address_;
  mutable std::mutex mu_;
  absl::flat_hash_map<std::string, size_t> by_user_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<MintedUser, size_t> by_minted_user_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, size_t> by_address_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ssebridge

#endif  // SSEBRIDGE_AUTH_CONNECTION_LIMITS_H_
