#include "bridge/auth/connection_limits.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace ssebridge {

ConnectionLimits::Lease::~Lease() { owner_->Release(user_, address_); }

absl::StatusOr<std::unique_ptr<ConnectionLimits::Lease>>
ConnectionLimits::Acquire(absl::string_view user, absl::string_view address) {
  std::lock_guard<std::mutex> lock(mu_);
  size_t* user_count = nullptr;
  if (!user.empty()) {
    user_count = &by_user_[user];
    if (per_user_ > 0 && *user_count >= per_user_) {
      if (*user_count == 0) by_user_.erase(user);
      return absl::ResourceExhaustedError(absl::StrCat(
          "user: this user already has ", per_user_,
          " open streams (--max_connections_per_user)"));
    }
  }
  size_t& address_count = by_address_[address];
  if (per_address_ > 0 && address_count >= per_address_) {
    if (user_count != nullptr && *user_count == 0) by_user_.erase(user);
    return absl::ResourceExhaustedError(absl::StrCat(
        "address: this client address already has ", per_address_,
        " open streams (--max_connections_per_ip)"));
  }
  ++address_count;
  if (user_count != nullptr) ++*user_count;
  return std::unique_ptr<Lease>(
      new Lease(this, std::string(user), std::string(address)));
}

void ConnectionLimits::Release(const std::string& user,
                               const std::string& address) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!user.empty()) {
    auto it = by_user_.find(user);
    if (it != by_user_.end() && --it->second == 0) by_user_.erase(it);
  }
  auto it = by_address_.find(address);
  if (it != by_address_.end() && --it->second == 0) by_address_.erase(it);
}

size_t ConnectionLimits::users() const {
  std::lock_guard<std::mutex> lock(mu_);
  return by_user_.size();
}

size_t ConnectionLimits::ConnectionsOf(absl::string_view user) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_user_.find(user);
  return it == by_user_.end() ? 0 : it->second;
}

}  // namespace ssebridge
