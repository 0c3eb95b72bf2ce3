// SharedTicketStore: the TicketStore whose tickets live in a TicketVault
// shared by every replica (--broker=redis: Redis, see RedisTicketVault), so
// a ticket issued on one replica is redeemed on any other, once. See
// ticket_store.h for what every store promises.
//
// Issue writes the grant (TicketCodec) under the hex SHA-256 of the ticket,
// kept max_ttl past the ticket's expiry so that a late redeem still hears
// "expired" or "already used"; Redeem takes it in one atomic vault step, so
// of two replicas racing on one ticket exactly one wins. This process keeps
// only a ledger for the bounds below (digest, minter, expiry).
//
// Bounds: Redis holds every replica's tickets, but counting them there
// would cost a round trip more per issue and a counter that drifts when a
// replica dies between the two. So --max_tickets and --max_tickets_per_key
// bound what THIS replica issued that is not yet expired and not redeemed
// here (a ticket redeemed on another replica stays counted here until it
// expires, at most the ticket's ttl, 60 s): a fleet of N replicas holds at
// most N times the flag in Redis. The size limits of one ticket
// (--max_ticket_channels, --max_ticket_pattern_bytes) are TicketRequest's,
// unchanged.
//
// Failures: a vault that cannot be reached makes Issue and Redeem
// UNAVAILABLE with the vault's message (which names Redis) and never
// accepts a ticket it could not verify. A Redeem whose Take was sent but
// got no answer may have spent the ticket: the message says so.
// Thread-safe: the ledger has a mutex, never held across a vault call.
#ifndef SSEBRIDGE_AUTH_SHARED_TICKET_STORE_H_
#define SSEBRIDGE_AUTH_SHARED_TICKET_STORE_H_

#include <map>
#include <mutex>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "bridge/auth/ticket_store.h"
#include "bridge/core/ticket_vault.h"

namespace ssebridge {

class SharedTicketStore final : public TicketStore {
 public:
  // `vault` must outlive the store.
  SharedTicketStore(const Options& options, TicketVault* vault)
      : TicketStore(options), vault_(vault) {}

  using TicketStore::Issue;
  absl::StatusOr<std::string> Issue(TicketGrant grant, absl::Duration ttl, absl::Time now) override;
  absl::StatusOr<TicketGrant> Redeem(absl::string_view ticket, absl::Time now) override;
  absl::StatusOr<TicketGrant> Peek(absl::string_view ticket, absl::Time now) const override;
  // Forgets the ledger's expired entries (Redis expires the records).
  void Sweep(absl::Time now) override;
  // Tickets issued here, not expired and not redeemed here.
  size_t size() const override;
  size_t LiveTicketsOf(absl::string_view minter) const;

 private:
  using ByExpiry = std::multimap<absl::Time, std::string>;  // -> vault name
  struct Issued {
    std::string minter;
    ByExpiry::iterator expiry;
  };

  // Counts a ticket about to be written (before the vault call, so
  // concurrent issues never overshoot); RESOURCE_EXHAUSTED naming the flag.
  // cppcheck-suppress unusedPrivateFunction ; Issue calls it (cppcheck misses it)
  absl::Status Reserve(const std::string& name, const TicketGrant& grant, absl::Time now);
  void ForgetLocked(absl::flat_hash_map<std::string, Issued>::iterator it);
  void Forget(const std::string& name);
  void SweepLocked(absl::Time now);
  // What a vault answer means for a redeem (or a peek).
  static absl::StatusOr<TicketGrant> GrantOf(const absl::StatusOr<TicketVault::Found>& found,
                                             absl::Time now);

  TicketVault* const vault_;
  mutable std::mutex mu_;
  absl::flat_hash_map<std::string, Issued> issued_;  // by vault name
  ByExpiry by_expiry_;
  absl::flat_hash_map<std::string, size_t> by_minter_;
};

}  // namespace ssebridge

#endif  // SSEBRIDGE_AUTH_SHARED_TICKET_STORE_H_
