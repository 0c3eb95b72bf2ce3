#include "bridge/auth/shared_ticket_store.h"

#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "bridge/auth/ticket_codec.h"

namespace ssebridge {
namespace {

// The vault name of a ticket: its SHA-256 in hex ("" for a malformed one).
std::string NameOf(const std::string& digest) {
  return digest.empty() ? std::string() : absl::BytesToHexString(digest);
}

// A vault failure as the door sees it: UNAVAILABLE (503, retry later).
absl::Status Unreachable(const absl::Status& s, bool may_have_taken) {
  return absl::UnavailableError(absl::StrCat(
      "the ticket store is unreachable: ", s.message(),
      may_have_taken ? " (the ticket may have been spent: ask for a new one)" : "; retry later"));
}

}  // namespace

absl::StatusOr<std::string> SharedTicketStore::Issue(TicketGrant grant, absl::Duration ttl,
                                                     absl::Time now) {
  absl::Status valid = CheckIssue(grant, ttl);
  if (!valid.ok()) return valid;
  absl::StatusOr<std::string> ticket = NewTicket();
  if (!ticket.ok()) return ticket.status();
  const std::string name = NameOf(Digest(*ticket));
  if (name.empty()) return absl::InternalError("ticket: SHA-256 failed");
  grant.expires_at = now + ttl;
  absl::Status room = Reserve(name, grant, now);
  if (!room.ok()) return room;
  // Kept max_ttl past expiry, as the memory store keeps its tombstones.
  absl::Status put =
      vault_->Put(name, EncodeTicketGrant(grant), grant.expires_at, ttl + options().max_ttl);
  if (put.ok()) return *ticket;
  Forget(name);
  // 256 random bits do not collide; never hand out someone else's ticket.
  if (absl::IsAlreadyExists(put)) {
    return absl::InternalError("ticket: the random generator repeated itself");
  }
  // Even when the write may have landed, the ticket was never handed out.
  return Unreachable(put, false);
}

absl::StatusOr<TicketGrant> SharedTicketStore::GrantOf(
    const absl::StatusOr<TicketVault::Found>& found, absl::Time now) {
  if (!found.ok()) return Unreachable(found.status(), absl::IsDeadlineExceeded(found.status()));
  switch (found->fate) {
    case TicketVault::Fate::kUsed:
      return absl::UnauthenticatedError("ticket already used");
    case TicketVault::Fate::kExpired:
      return absl::UnauthenticatedError("ticket expired");
    case TicketVault::Fate::kUnknown:
      return absl::UnauthenticatedError("ticket unknown");
    case TicketVault::Fate::kLive:
      break;
  }
  absl::StatusOr<TicketGrant> grant = DecodeTicketGrant(found->record);
  if (!grant.ok()) return absl::InternalError(grant.status().message());
  // The vault judged expiry by the issuer's clock; a redeemer whose clock
  // is ahead refuses too rather than stream past the ticket's life.
  if (now >= grant->expires_at) return absl::UnauthenticatedError("ticket expired");
  return grant;
}

absl::StatusOr<TicketGrant> SharedTicketStore::Redeem(absl::string_view ticket, absl::Time now) {
  const std::string name = NameOf(Digest(ticket));
  if (name.empty()) return absl::UnauthenticatedError("ticket unknown");
  absl::StatusOr<TicketVault::Found> found = vault_->Take(name, now);
  if (found.ok()) Forget(name);
  return GrantOf(found, now);
}

absl::StatusOr<TicketGrant> SharedTicketStore::Peek(absl::string_view ticket,
                                                    absl::Time now) const {
  const std::string name = NameOf(Digest(ticket));
  if (name.empty()) return absl::UnauthenticatedError("ticket unknown");
  return GrantOf(vault_->Look(name, now), now);
}

absl::Status SharedTicketStore::Reserve(const std::string& name, const TicketGrant& grant,
                                        absl::Time now) {
  std::lock_guard<std::mutex> lock(mu_);
  const size_t per_key = options().max_tickets_per_key;
  auto minter_full = [&] {
    if (per_key == 0 || grant.minted_by.empty()) return false;
    auto it = by_minter_.find(grant.minted_by);
    return it != by_minter_.end() && it->second >= per_key;
  };
  if (issued_.size() >= options().max_tickets || minter_full()) {
    SweepLocked(now);
    if (issued_.size() >= options().max_tickets) return FullError(options().max_tickets);
    if (minter_full()) return MinterFullError(grant.minted_by, per_key);
  }
  if (issued_.contains(name)) {
    return absl::InternalError("ticket: the random generator repeated itself");
  }
  if (!grant.minted_by.empty()) ++by_minter_[grant.minted_by];
  auto expiry = by_expiry_.emplace(grant.expires_at, name);
  issued_.emplace(name, Issued{grant.minted_by, expiry});
  return absl::OkStatus();
}

void SharedTicketStore::ForgetLocked(absl::flat_hash_map<std::string, Issued>::iterator it) {
  if (!it->second.minter.empty()) {
    auto m = by_minter_.find(it->second.minter);
    if (m != by_minter_.end() && --m->second == 0) by_minter_.erase(m);
  }
  by_expiry_.erase(it->second.expiry);
  issued_.erase(it);
}

void SharedTicketStore::Forget(const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = issued_.find(name);
  if (it != issued_.end()) ForgetLocked(it);
}

void SharedTicketStore::Sweep(absl::Time now) {
  std::lock_guard<std::mutex> lock(mu_);
  SweepLocked(now);
}

void SharedTicketStore::SweepLocked(absl::Time now) {
  while (!by_expiry_.empty() && by_expiry_.begin()->first <= now) {
    auto it = issued_.find(by_expiry_.begin()->second);
    if (it == issued_.end()) {  // cannot happen: the indexes agree
      by_expiry_.erase(by_expiry_.begin());
      continue;
    }
    ForgetLocked(it);
  }
}

size_t SharedTicketStore::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return issued_.size();
}

size_t SharedTicketStore::LiveTicketsOf(absl::string_view minter) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_minter_.find(minter);
  return it == by_minter_.end() ? 0 : it->second;
}

}  // namespace ssebridge
