// MemoryTicketStore: the TicketStore that keeps tickets in this process
// (--broker=memory, and one replica alone). See ticket_store.h for what
// every store promises.
//
// The grant is parsed once, at Issue (TicketRequest builds it); Redeem only
// hands it over, so redeeming costs the same whatever the grant holds.
//
// Bounded: at most Options.max_tickets live tickets, and at most
// Options.max_tickets_per_key of them minted by one publisher (so one key
// cannot take the store from the others); expired ones are swept on demand
// (Issue sweeps when full; the owner calls Sweep periodically). A ticket
// that was redeemed or has expired leaves a tombstone (its digest and why)
// until max_ttl after its expiry, so Redeem can say "already used" or
// "expired" instead of "unknown"; tombstones are bounded by max_tickets too
// (the oldest go first).
// Thread-safe: every method takes the store's mutex.
#ifndef SSEBRIDGE_AUTH_MEMORY_TICKET_STORE_H_
#define SSEBRIDGE_AUTH_MEMORY_TICKET_STORE_H_

#include <deque>
#include <map>
#include <mutex>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "bridge/auth/ticket_store.h"

namespace ssebridge {

class MemoryTicketStore final : public TicketStore {
 public:
  explicit MemoryTicketStore(const Options& options) : TicketStore(options) {}

  using TicketStore::Issue;
  absl::StatusOr<std::string> Issue(TicketGrant grant, absl::Duration ttl, absl::Time now) override;
  absl::StatusOr<TicketGrant> Redeem(absl::string_view ticket, absl::Time now) override;
  absl::StatusOr<TicketGrant> Peek(absl::string_view ticket, absl::Time now) const override;

  // Turns every ticket that has expired by `now` into a tombstone, and
  // forgets tombstones older than max_ttl past their ticket's expiry.
  void Sweep(absl::Time now) override;
  // Live tickets (issued, not redeemed, not swept).
  size_t size() const override;
  size_t tombstones() const;
  size_t LiveTicketsOf(absl::string_view minter) const;

 private:
  using ByExpiry = std::multimap<absl::Time, std::string>;  // -> digest
  struct Entry {
    TicketGrant grant;
    ByExpiry::iterator expiry;  // this ticket's node in by_expiry_
  };
  enum class Fate { kUsed, kExpired };
  struct Tombstone {
    Fate fate;
    absl::Time forget_at;
  };

  void SweepLocked(absl::Time now);
  // Removes the live entry `it` and leaves a tombstone for it.
  void BuryLocked(absl::flat_hash_map<std::string, Entry>::iterator it, Fate fate);
  absl::Status DeadTicketLocked(const std::string& digest) const;

  mutable std::mutex mu_;
  absl::flat_hash_map<std::string, Entry> by_digest_;  // SHA-256(ticket)
  ByExpiry by_expiry_;  // oldest first, so a sweep stops at the first live one
  absl::flat_hash_map<std::string, size_t> live_by_minter_;
  absl::flat_hash_map<std::string, Tombstone> tombstones_;  // by digest
  std::deque<std::string> tombstone_order_;                 // digests, oldest first
};

}  // namespace ssebridge

#endif  // SSEBRIDGE_AUTH_MEMORY_TICKET_STORE_H_
