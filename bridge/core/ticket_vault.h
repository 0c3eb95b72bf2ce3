// TicketVault: where one-time tickets are kept when several replicas must
// redeem each other's tickets (--broker=redis). The ticket store (in
// bridge/auth/) decides what a ticket grants and encodes it as an opaque
// record; a vault only keeps records, each under a name derived from the
// ticket's hash (never the ticket itself), and hands each one out once.
//
// The interface lives in core because both sides need it and neither may
// include the other: the auth room uses it (SharedTicketStore) and the
// broker room implements it over Redis (RedisTicketVault).
//
// Promises of every implementation:
//   - Put never replaces a record: a name that exists is ALREADY_EXISTS;
//   - Take hands a live record to exactly one caller, however many callers
//     (threads, replicas) race on one name; every later Take or Look of
//     that name says kUsed until the name is forgotten;
//   - a record whose expires_at has passed is never handed out: kExpired
//     (and Take marks it so);
//   - after `keep` (measured from Put) a name is forgotten: kUnknown;
//   - a failure to reach the store is a status (UNAVAILABLE: certainly not
//     done; DEADLINE_EXCEEDED: sent, outcome unknown), never a hang past
//     the store's command timeout and never a guessed answer.
// Implementations are thread-safe.
#ifndef SSEBRIDGE_CORE_TICKET_VAULT_H_
#define SSEBRIDGE_CORE_TICKET_VAULT_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace ssebridge {

class TicketVault {
 public:
  enum class Fate { kLive, kUsed, kExpired, kUnknown };
  struct Found {
    Fate fate = Fate::kUnknown;
    std::string record;  // only for kLive
  };

  virtual ~TicketVault() = default;

  // Keeps `record`, valid until `expires_at`, under `name` for `keep`
  // (keep > the time left until expires_at, so a late redeem can still be
  // told "expired" or "already used" rather than "unknown").
  virtual absl::Status Put(absl::string_view name, absl::string_view record, absl::Time expires_at,
                           absl::Duration keep) = 0;
  // Hands the record out once (kLive with the record), or says why not.
  virtual absl::StatusOr<Found> Take(absl::string_view name, absl::Time now) = 0;
  // What Take would answer, without taking.
  virtual absl::StatusOr<Found> Look(absl::string_view name, absl::Time now) = 0;
};

}  // namespace ssebridge

#endif  // SSEBRIDGE_CORE_TICKET_VAULT_H_
