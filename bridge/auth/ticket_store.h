// TicketStore: one-time tickets, the way a browser's EventSource (which
// cannot set headers) proves who it is without putting a long-lived token in
// a URL.
//
// A backend that has already authenticated its user asks for a ticket
// (user id, channel patterns, ttl of at most a minute); the page connects
// with ?ticket=...; the first Redeem consumes it. A ticket is 32 bytes from
// OpenSSL's RAND_bytes, base64url-encoded (43 characters). The store keeps
// only each ticket's SHA-256, so a memory dump, a debug print of the map or
// a log line of a key never holds a usable ticket.
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
#ifndef SSEBRIDGE_AUTH_TICKET_STORE_H_
#define SSEBRIDGE_AUTH_TICKET_STORE_H_

#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "bridge/core/channel_pattern.h"

namespace ssebridge {

struct TicketGrant {
  std::string user_id;
  ChannelPatterns channels;  // what the ticket's user may read
  // The publisher principal that minted the ticket; its tickets count
  // against Options.max_tickets_per_key. "" in unit tests: not counted.
  std::string minted_by;
  // Set when the minter is limited to some channels: the identity reads
  // only channels these patterns match, public channels included.
  std::optional<ChannelPatterns> confined_to;
  absl::Time expires_at;
};

class TicketStore {
 public:
  struct Options {
    absl::Duration max_ttl = absl::Seconds(60);
    size_t max_tickets = 100000;
    // Live tickets one minter may hold; 0: only max_tickets applies.
    size_t max_tickets_per_key = 0;
    // What one IssueTicket may ask for (checked by TicketRequest).
    size_t max_channels_per_ticket = 64;     // --max_ticket_channels
    size_t max_pattern_bytes = 129;          // --max_ticket_pattern_bytes
  };
  inline static constexpr size_t kTicketLength = 43;

  explicit TicketStore(const Options& options);
  TicketStore(const TicketStore&) = delete;
  TicketStore& operator=(const TicketStore&) = delete;

  const Options& options() const { return options_; }

  // A new ticket for `grant` (its expires_at is set here). INVALID_ARGUMENT
  // for a bad user id or a ttl <= 0 or > max_ttl; RESOURCE_EXHAUSTED naming
  // --max_tickets or --max_tickets_per_key when that is full of unexpired
  // tickets; INTERNAL if the RNG fails.
  absl::StatusOr<std::string> Issue(TicketGrant grant, absl::Duration ttl,
                                    absl::Time now);
  // The same for a grant given as a pattern list (INVALID_ARGUMENT for a
  // bad pattern); not minted by any key.
  absl::StatusOr<std::string> Issue(std::string user_id,
                                    const std::vector<std::string>& channels,
                                    absl::Duration ttl, absl::Time now);

  // Consumes the ticket: it works once, even when raced from several
  // threads. UNAUTHENTICATED "ticket expired" (an expired ticket is
  // consumed too), "ticket already used" or "ticket unknown".
  absl::StatusOr<TicketGrant> Redeem(absl::string_view ticket, absl::Time now);
  // What Redeem would answer, without consuming the ticket (a HEAD probe
  // must not spend the ticket of the GET that follows).
  absl::StatusOr<TicketGrant> Peek(absl::string_view ticket, absl::Time now) const;

  // Turns every ticket that has expired by `now` into a tombstone, and
  // forgets tombstones older than max_ttl past their ticket's expiry.
  void Sweep(absl::Time now);
  size_t size() const;
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
  void BuryLocked(absl::flat_hash_map<std::string, Entry>::iterator it,
                  Fate fate);
  absl::Status DeadTicketLocked(const std::string& digest) const;

  const Options options_;
  mutable std::mutex mu_;
  absl::flat_hash_map<std::string, Entry> by_digest_;  // SHA-256(ticket)
  ByExpiry by_expiry_;  // oldest first, so a sweep stops at the first live one
  absl::flat_hash_map<std::string, size_t> live_by_minter_;
  absl::flat_hash_map<std::string, Tombstone> tombstones_;  // by digest
  std::deque<std::string> tombstone_order_;  // digests, oldest first
};

}  // namespace ssebridge

#endif  // SSEBRIDGE_AUTH_TICKET_STORE_H_
