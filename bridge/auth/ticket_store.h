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
// Bounded: at most Options.max_tickets live tickets; expired ones are swept
// on demand (Issue sweeps when full; the owner may call Sweep periodically).
// Thread-safe: every method takes the store's mutex.
#ifndef SSEBRIDGE_AUTH_TICKET_STORE_H_
#define SSEBRIDGE_AUTH_TICKET_STORE_H_

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace ssebridge {

struct TicketGrant {
  std::string user_id;
  std::vector<std::string> channels;  // valid channel patterns
  absl::Time expires_at;
};

class TicketStore {
 public:
  struct Options {
    absl::Duration max_ttl = absl::Seconds(60);
    size_t max_tickets = 100000;
  };
  inline static constexpr size_t kTicketLength = 43;

  explicit TicketStore(Options options);
  TicketStore(const TicketStore&) = delete;
  TicketStore& operator=(const TicketStore&) = delete;

  // A new ticket for `user_id`. INVALID_ARGUMENT for a bad user id, a ttl
  // <= 0 or > max_ttl, or a bad channel pattern; RESOURCE_EXHAUSTED when
  // the store is full of unexpired tickets; INTERNAL if the RNG fails.
  absl::StatusOr<std::string> Issue(std::string user_id,
                                    std::vector<std::string> channels,
                                    absl::Duration ttl, absl::Time now);

  // Consumes the ticket: it works once, even when raced from several
  // threads. UNAUTHENTICATED "ticket unknown or already used" or
  // "ticket expired" (an expired ticket is consumed too).
  absl::StatusOr<TicketGrant> Redeem(absl::string_view ticket, absl::Time now);
  // What Redeem would answer, without consuming the ticket (a HEAD probe
  // must not spend the ticket of the GET that follows).
  absl::StatusOr<TicketGrant> Peek(absl::string_view ticket, absl::Time now) const;

  // Drops every ticket that has expired by `now`.
  void Sweep(absl::Time now);
  size_t size() const;

 private:
  using ByExpiry = std::multimap<absl::Time, std::string>;  // -> digest
  struct Entry {
    TicketGrant grant;
    ByExpiry::iterator expiry;  // this ticket's node in by_expiry_
  };
  void SweepLocked(absl::Time now);

  const Options options_;
  mutable std::mutex mu_;
  absl::flat_hash_map<std::string, Entry> by_digest_;  // SHA-256(ticket)
  ByExpiry by_expiry_;  // oldest first, so a sweep stops at the first live one
};

}  // namespace ssebridge

#endif  // SSEBRIDGE_AUTH_TICKET_STORE_H_
