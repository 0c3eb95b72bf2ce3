#include "bridge/auth/ticket_store.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "bridge/core/names.h"

namespace ssebridge {
namespace {

constexpr size_t kTicketEntropyBytes = 32;

}  // namespace

absl::StatusOr<std::string> TicketStore::Issue(std::string user_id,
                                               const std::vector<std::string>& channels,
                                               absl::Duration ttl, absl::Time now) {
  absl::StatusOr<ChannelPatterns> patterns = ChannelPatterns::FromList(channels);
  if (!patterns.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("channels: ", patterns.status().message()));
  }
  TicketGrant grant;
  grant.user_id = std::move(user_id);
  grant.channels = std::move(*patterns);
  return Issue(std::move(grant), ttl, now);
}

absl::Status TicketStore::CheckIssue(const TicketGrant& grant, absl::Duration ttl) const {
  absl::Status user_ok = ValidateUserId(grant.user_id, "user_id");
  if (!user_ok.ok()) return user_ok;
  if (ttl <= absl::ZeroDuration() || ttl > options_.max_ttl) {
    return absl::InvalidArgumentError(absl::StrCat("ttl: must be more than 0 and at most ",
                                                   absl::FormatDuration(options_.max_ttl)));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> TicketStore::NewTicket() {
  unsigned char entropy[kTicketEntropyBytes];
  if (RAND_bytes(entropy, sizeof(entropy)) != 1) {
    ERR_clear_error();
    return absl::InternalError("ticket: the random generator failed");
  }
  return absl::WebSafeBase64Escape(
      absl::string_view(reinterpret_cast<char*>(entropy), sizeof(entropy)));
}

std::string TicketStore::Digest(absl::string_view ticket) {
  // Hashing first means no lookup ever compares the secret itself.
  if (ticket.size() != kTicketLength) return std::string();
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(ticket.data(), ticket.size(), digest, &len, EVP_sha256(), nullptr) != 1) {
    ERR_clear_error();
    return std::string();
  }
  return std::string(reinterpret_cast<char*>(digest), len);
}

absl::Status TicketStore::FullError(size_t max_tickets) {
  return absl::ResourceExhaustedError(
      absl::StrCat("ticket store is full (", max_tickets, " live tickets, --max_tickets)"));
}

absl::Status TicketStore::MinterFullError(const std::string& minter, size_t max) {
  return absl::ResourceExhaustedError(absl::StrCat("publisher '", minter, "' already holds ", max,
                                                   " unredeemed tickets (--max_tickets_per_key)"));
}

}  // namespace ssebridge
