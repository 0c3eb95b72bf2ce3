// TicketRequest: turns an IssueTicket request into the grant a ticket
// carries, deciding what a minting publisher may hand out.
//
// Who may mint what (the README's "Tickets" section says the same):
//   - a publisher whose credential covers every channel (a key without
//     patterns, or a JWT whose `publish` claim is "*") may mint a ticket for
//     any user and any channel patterns; an empty list grants no private
//     channel (the user reads public channels and gets their targeted
//     events there), as before;
//   - a publisher limited to some patterns may mint a ticket for any user,
//     but the identity it mints is confined to those patterns: every
//     requested pattern must lie inside them, an empty list means "the
//     key's patterns", and the stream may open no channel outside them,
//     public ones included. The user's targeted events and retained values
//     therefore reach such a stream only on the key's own channels, and its
//     connections count against a per-user budget of its own (see
//     ConnectionLimits), never against the user's.
//
// Bounded and linear: at most max_channels_per_ticket patterns of at most
// max_pattern_bytes each are looked at, the de-dup is a hash set, and each
// pattern is compared with the minter's (operator-configured) patterns
// once. No state; a pure function of its arguments.
#ifndef SSEBRIDGE_AUTH_TICKET_REQUEST_H_
#define SSEBRIDGE_AUTH_TICKET_REQUEST_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "bridge/auth/publisher_keys.h"
#include "bridge/auth/ticket_store.h"

namespace ssebridge {

// INVALID_ARGUMENT naming the flag when the list is too long or a pattern
// too big, or naming the bad pattern; PERMISSION_DENIED naming a pattern
// the minter cannot grant. `work` (optional) is increased by the
// operations spent on the list: hash/equality operations of the de-dup and
// one per pattern compared with one of the minter's patterns.
absl::StatusOr<TicketGrant> BuildTicketGrant(const PublisherIdentity& minter, std::string user_id,
                                             const std::vector<std::string>& channels,
                                             const TicketStore::Options& limits,
                                             size_t* work = nullptr);

// Whether every channel `pattern` matches is also matched by `who`.
bool PublisherCovers(const PublisherIdentity& who, absl::string_view pattern,
                     size_t* work = nullptr);

}  // namespace ssebridge

#endif  // SSEBRIDGE_AUTH_TICKET_REQUEST_H_
