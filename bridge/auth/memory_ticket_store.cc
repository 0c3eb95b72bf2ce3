#include "bridge/auth/memory_ticket_store.h"

#include <utility>

namespace ssebridge {

absl::StatusOr<std::string> MemoryTicketStore::Issue(TicketGrant grant, absl::Duration ttl,
                                                     absl::Time now) {
  absl::Status valid = CheckIssue(grant, ttl);
  if (!valid.ok()) return valid;
  absl::StatusOr<std::string> ticket = NewTicket();
  if (!ticket.ok()) return ticket.status();
  std::string digest = Digest(*ticket);
  if (digest.empty()) return absl::InternalError("ticket: SHA-256 failed");

  grant.expires_at = now + ttl;
  std::lock_guard<std::mutex> lock(mu_);
  auto minter_full = [&] {
    if (options().max_tickets_per_key == 0 || grant.minted_by.empty()) return false;
    auto it = live_by_minter_.find(grant.minted_by);
    return it != live_by_minter_.end() && it->second >= options().max_tickets_per_key;
  };
  if (by_digest_.size() >= options().max_tickets || minter_full()) {
    SweepLocked(now);
    if (by_digest_.size() >= options().max_tickets) return FullError(options().max_tickets);
    if (minter_full()) return MinterFullError(grant.minted_by, options().max_tickets_per_key);
  }
  // 256 random bits do not collide; the check keeps the two indexes
  // consistent even if the RNG were broken.
  if (by_digest_.contains(digest) || tombstones_.contains(digest)) {
    return absl::InternalError("ticket: the random generator repeated itself");
  }
  if (!grant.minted_by.empty()) ++live_by_minter_[grant.minted_by];
  auto expiry = by_expiry_.emplace(grant.expires_at, digest);
  Entry entry{std::move(grant), expiry};
  by_digest_.emplace(std::move(digest), std::move(entry));
  return *ticket;
}

void MemoryTicketStore::BuryLocked(absl::flat_hash_map<std::string, Entry>::iterator it,
                                   Fate fate) {
  const std::string& minter = it->second.grant.minted_by;
  if (!minter.empty()) {
    auto m = live_by_minter_.find(minter);
    if (m != live_by_minter_.end() && --m->second == 0) live_by_minter_.erase(m);
  }
  // Until max_ttl past expiry: a page that retries a spent ticket later
  // than that has been told twice already.
  const absl::Time forget_at = it->second.grant.expires_at + options().max_ttl;
  by_expiry_.erase(it->second.expiry);
  std::string digest = it->first;
  by_digest_.erase(it);
  while (tombstone_order_.size() >= options().max_tickets) {
    tombstones_.erase(tombstone_order_.front());
    tombstone_order_.pop_front();
  }
  if (tombstones_.insert_or_assign(digest, Tombstone{fate, forget_at}).second) {
    tombstone_order_.push_back(std::move(digest));
  }
}

absl::Status MemoryTicketStore::DeadTicketLocked(const std::string& digest) const {
  auto it = digest.empty() ? tombstones_.end() : tombstones_.find(digest);
  if (it == tombstones_.end()) {
    return absl::UnauthenticatedError("ticket unknown");
  }
  return absl::UnauthenticatedError(it->second.fate == Fate::kUsed ? "ticket already used"
                                                                   : "ticket expired");
}

absl::StatusOr<TicketGrant> MemoryTicketStore::Redeem(absl::string_view ticket, absl::Time now) {
  std::string digest = Digest(ticket);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = digest.empty() ? by_digest_.end() : by_digest_.find(digest);
  if (it == by_digest_.end()) return DeadTicketLocked(digest);
  if (now >= it->second.grant.expires_at) {
    BuryLocked(it, Fate::kExpired);
    return absl::UnauthenticatedError("ticket expired");
  }
  TicketGrant grant = std::move(it->second.grant);
  // BuryLocked reads these two from the entry; the rest was moved out.
  it->second.grant.minted_by = grant.minted_by;
  it->second.grant.expires_at = grant.expires_at;
  BuryLocked(it, Fate::kUsed);
  return grant;
}

absl::StatusOr<TicketGrant> MemoryTicketStore::Peek(absl::string_view ticket,
                                                    absl::Time now) const {
  std::string digest = Digest(ticket);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = digest.empty() ? by_digest_.end() : by_digest_.find(digest);
  if (it == by_digest_.end()) return DeadTicketLocked(digest);
  if (now >= it->second.grant.expires_at) {
    return absl::UnauthenticatedError("ticket expired");
  }
  return it->second.grant;
}

void MemoryTicketStore::Sweep(absl::Time now) {
  std::lock_guard<std::mutex> lock(mu_);
  SweepLocked(now);
}

void MemoryTicketStore::SweepLocked(absl::Time now) {
  while (!by_expiry_.empty() && by_expiry_.begin()->first <= now) {
    auto it = by_digest_.find(by_expiry_.begin()->second);
    if (it == by_digest_.end()) {  // cannot happen: the indexes agree
      by_expiry_.erase(by_expiry_.begin());
      continue;
    }
    BuryLocked(it, Fate::kExpired);
  }
  // Tombstones are appended in roughly forget_at order (ttls differ by at
  // most max_ttl); one that outlives its time a little is harmless.
  while (!tombstone_order_.empty()) {
    auto it = tombstones_.find(tombstone_order_.front());
    if (it != tombstones_.end() && it->second.forget_at > now) break;
    if (it != tombstones_.end()) tombstones_.erase(it);
    tombstone_order_.pop_front();
  }
}

size_t MemoryTicketStore::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return by_digest_.size();
}

size_t MemoryTicketStore::tombstones() const {
  std::lock_guard<std::mutex> lock(mu_);
  return tombstones_.size();
}

size_t MemoryTicketStore::LiveTicketsOf(absl::string_view minter) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = live_by_minter_.find(minter);
  return it == live_by_minter_.end() ? 0 : it->second;
}

}  // namespace ssebridge
