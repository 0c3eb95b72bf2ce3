// TicketStore: one-time tickets, the way a browser's EventSource (which
// cannot set headers) proves who it is without putting a long-lived token in
// a URL. This header is the interface every door uses; where the tickets
// live is the implementation's business:
//   MemoryTicketStore  in this process (--broker=memory): a ticket works
//                      only on the replica that issued it;
//   SharedTicketStore  in a TicketVault shared by the replicas
//                      (--broker=redis: Redis), so a browser whose
//                      reconnect lands on another replica keeps its ticket.
//
// A backend that has already authenticated its user asks for a ticket
// (user id, channel patterns, ttl of at most a minute); the page connects
// with ?ticket=...; the first Redeem, on any replica that shares the store,
// consumes it. A ticket is 32 bytes from OpenSSL's RAND_bytes,
// base64url-encoded (43 characters). Stores keep only each ticket's
// SHA-256, so a memory dump, a Redis key listing or a log line of a key
// never holds a usable ticket.
//
// Every implementation promises: a ticket is redeemed at most once, even
// when raced from several threads or replicas; an expired ticket is never
// accepted; a refusal says why ("ticket expired", "ticket already used",
// "ticket unknown": UNAUTHENTICATED); a store it cannot reach is
// UNAVAILABLE naming that store, never an accepted unverifiable ticket.
// Implementations are thread-safe.
#ifndef SSEBRIDGE_AUTH_TICKET_STORE_H_
#define SSEBRIDGE_AUTH_TICKET_STORE_H_

#include <optional>
#include <string>
#include <vector>

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
    size_t max_channels_per_ticket = 64;  // --max_ticket_channels
    size_t max_pattern_bytes = 129;       // --max_ticket_pattern_bytes
  };
  inline static constexpr size_t kTicketLength = 43;

  explicit TicketStore(const Options& options) : options_(options) {}
  virtual ~TicketStore() = default;
  TicketStore(const TicketStore&) = delete;
  TicketStore& operator=(const TicketStore&) = delete;

  const Options& options() const { return options_; }

  // A new ticket for `grant` (its expires_at is set here). INVALID_ARGUMENT
  // for a bad user id or a ttl <= 0 or > max_ttl; RESOURCE_EXHAUSTED naming
  // --max_tickets or --max_tickets_per_key when that is full of unexpired
  // tickets; INTERNAL if the RNG fails; UNAVAILABLE when the store cannot
  // be reached (the ticket was not issued).
  virtual absl::StatusOr<std::string> Issue(TicketGrant grant, absl::Duration ttl,
                                            absl::Time now) = 0;
  // The same for a grant given as a pattern list (INVALID_ARGUMENT for a
  // bad pattern); not minted by any key.
  absl::StatusOr<std::string> Issue(std::string user_id, const std::vector<std::string>& channels,
                                    absl::Duration ttl, absl::Time now);

  // Consumes the ticket: it works once. UNAUTHENTICATED "ticket expired"
  // (an expired ticket is consumed too), "ticket already used" or "ticket
  // unknown"; UNAVAILABLE when the store cannot be reached.
  virtual absl::StatusOr<TicketGrant> Redeem(absl::string_view ticket, absl::Time now) = 0;
  // What Redeem would answer, without consuming the ticket (a HEAD probe
  // must not spend the ticket of the GET that follows).
  virtual absl::StatusOr<TicketGrant> Peek(absl::string_view ticket, absl::Time now) const = 0;

  // Forgets what has expired by `now` (the owner calls it periodically).
  virtual void Sweep(absl::Time now) = 0;
  // Tickets this process counts against --max_tickets (see each store).
  virtual size_t size() const = 0;

 protected:
  // INVALID_ARGUMENT for a bad user id or ttl (see Issue).
  absl::Status CheckIssue(const TicketGrant& grant, absl::Duration ttl) const;
  // A fresh ticket; INTERNAL when the RNG fails.
  static absl::StatusOr<std::string> NewTicket();
  // SHA-256 of a well-formed ticket (raw bytes); "" for a ticket of the
  // wrong length (unknown to every store) or when hashing fails.
  static std::string Digest(absl::string_view ticket);
  // The refusals every store shares.
  static absl::Status FullError(size_t max_tickets);
  static absl::Status MinterFullError(const std::string& minter, size_t max);

 private:
  const Options options_;
};

}  // namespace ssebridge

#endif  // SSEBRIDGE_AUTH_TICKET_STORE_H_
