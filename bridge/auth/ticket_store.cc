#include "bridge/auth/ticket_store.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "bridge/core/channel_pattern.h"
#include "bridge/core/names.h"

namespace ssebridge {
namespace {

constexpr size_t kTicketEntropyBytes = 32;

std::string Sha256(absl::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(),
                 nullptr) != 1) {
    ERR_clear_error();
    return std::string();
  }
  return std::string(reinterpret_cast<char*>(digest), len);
}

}  // namespace

TicketStore::TicketStore(Options options) : options_(options) {}

absl::StatusOr<std::string> TicketStore::Issue(std::string user_id,
                                               std::vector<std::string> channels,
                                               absl::Duration ttl,
                                               absl::Time now) {
  absl::Status user_ok = ValidateUserId(user_id, "user_id");
  if (!user_ok.ok()) return user_ok;
  if (ttl <= absl::ZeroDuration() || ttl > options_.max_ttl) {
    return absl::InvalidArgumentError(absl::StrCat(
        "ttl: must be more than 0 and at most ",
        absl::FormatDuration(options_.max_ttl)));
  }
  for (const std::string& pattern : channels) {
    absl::Status valid = ChannelPatterns::Validate(pattern);
    if (!valid.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("channels: ", valid.message()));
    }
  }

  unsigned char entropy[kTicketEntropyBytes];
  if (RAND_bytes(entropy, sizeof(entropy)) != 1) {
    ERR_clear_error();
    return absl::InternalError("ticket: the random generator failed");
  }
  std::string ticket = absl::WebSafeBase64Escape(
      absl::string_view(reinterpret_cast<char*>(entropy), sizeof(entropy)));
  std::string digest = Sha256(ticket);
  if (digest.empty()) return absl::InternalError("ticket: SHA-256 failed");

  const absl::Time expires_at = now + ttl;
  std::lock_guard<std::mutex> lock(mu_);
  if (by_digest_.size() >= options_.max_tickets) {
    SweepLocked(now);
    if (by_digest_.size() >= options_.max_tickets) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "ticket store is full (", options_.max_tickets, " live tickets)"));
    }
  }
  // 256 random bits do not collide; the check keeps the two indexes
  // consistent even if the RNG were broken.
  if (by_digest_.contains(digest)) {
    return absl::InternalError("ticket: the random generator repeated itself");
  }
  auto expiry = by_expiry_.emplace(expires_at, digest);
  Entry entry{TicketGrant{std::move(user_id), std::move(channels), expires_at},
              expiry};
  by_digest_.emplace(std::move(digest), std::move(entry));
  return ticket;
}

absl::StatusOr<TicketGrant> TicketStore::Redeem(absl::string_view ticket,
                                                absl::Time now) {
  // Hashing first means the map lookup never compares the secret itself.
  std::string digest =
      ticket.size() == kTicketLength ? Sha256(ticket) : std::string();
  std::lock_guard<std::mutex> lock(mu_);
  auto it = digest.empty() ? by_digest_.end() : by_digest_.find(digest);
  if (it == by_digest_.end()) {
    return absl::UnauthenticatedError("ticket unknown or already used");
  }
  TicketGrant grant = std::move(it->second.grant);
  by_expiry_.erase(it->second.expiry);
  by_digest_.erase(it);
  if (now >= grant.expires_at) {
    return absl::UnauthenticatedError("ticket expired");
  }
  return grant;
}

absl::StatusOr<TicketGrant> TicketStore::Peek(absl::string_view ticket,
                                              absl::Time now) const {
  std::string digest =
      ticket.size() == kTicketLength ? Sha256(ticket) : std::string();
  std::lock_guard<std::mutex> lock(mu_);
  auto it = digest.empty() ? by_digest_.end() : by_digest_.find(digest);
  if (it == by_digest_.end()) {
    return absl::UnauthenticatedError("ticket unknown or already used");
  }
  if (now >= it->second.grant.expires_at) {
    return absl::UnauthenticatedError("ticket expired");
  }
  return it->second.grant;
}

void TicketStore::Sweep(absl::Time now) {
  std::lock_guard<std::mutex> lock(mu_);
  SweepLocked(now);
}

void TicketStore::SweepLocked(absl::Time now) {
  auto it = by_expiry_.begin();
  while (it != by_expiry_.end() && it->first <= now) {
    by_digest_.erase(it->second);
    it = by_expiry_.erase(it);
  }
}

size_t TicketStore::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return by_digest_.size();
}

}  // namespace ssebridge
