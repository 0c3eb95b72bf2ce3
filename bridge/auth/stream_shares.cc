#include "bridge/auth/stream_shares.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace ssebridge {

absl::StatusOr<std::unique_ptr<StreamShares::Lease>> StreamShares::Acquire(
    absl::string_view principal) {
  std::lock_guard<std::mutex> lock(mu_);
  if (open_ >= total_) {
    return absl::ResourceExhaustedError(absl::StrCat("this bridge holds its limit of ", total_, " ",
                                                     names_.streams, " (--", names_.total_flag,
                                                     "); retry later"));
  }
  auto it = by_principal_.find(principal);
  if (per_principal_ > 0 && it != by_principal_.end() && it->second >= per_principal_) {
    return absl::ResourceExhaustedError(absl::StrCat("publisher '", principal, "' already has ",
                                                     per_principal_, " ", names_.streams,
                                                     " open (--", names_.per_principal_flag, ")"));
  }
  if (it == by_principal_.end()) it = by_principal_.emplace(principal, 0).first;
  ++it->second;
  ++open_;
  return std::unique_ptr<Lease>(new Lease(this, std::string(principal)));
}

void StreamShares::Release(const std::string& principal) {
  std::lock_guard<std::mutex> lock(mu_);
  --open_;
  auto it = by_principal_.find(principal);
  if (it != by_principal_.end() && --it->second == 0) by_principal_.erase(it);
}

size_t StreamShares::open() const {
  std::lock_guard<std::mutex> lock(mu_);
  return open_;
}

size_t StreamShares::OpenBy(absl::string_view principal) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_principal_.find(principal);
  return it == by_principal_.end() ? 0 : it->second;
}

}  // namespace ssebridge
