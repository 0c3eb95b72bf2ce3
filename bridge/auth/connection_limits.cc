#include "bridge/auth/connection_limits.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace ssebridge {

ConnectionLimits::Lease::~Lease() { owner_->Release(*this); }

absl::StatusOr<std::shared_ptr<ConnectionLimits::Lease>> ConnectionLimits::Acquire(
    absl::string_view user, absl::string_view address) {
  return Acquire("", user, address);
}

absl::StatusOr<std::shared_ptr<ConnectionLimits::Lease>> ConnectionLimits::Acquire(
    absl::string_view minter, absl::string_view user, absl::string_view address,
    size_t max_streams) {
  absl::StatusOr<std::shared_ptr<Lease>> lease;
  {
    std::lock_guard<std::mutex> lock(mu_);
    lease = AcquireLocked(minter, user, address, max_streams);
  }
  if (!lease.ok()) return lease;
  return ChargeFleet(std::move(*lease));
}

absl::StatusOr<std::shared_ptr<ConnectionLimits::Lease>> ConnectionLimits::Acquire(
    const SubscriberIdentity& identity, absl::string_view address) {
  const absl::string_view minter = identity.confined_to.has_value()
                                       ? absl::string_view(identity.minted_by)
                                       : absl::string_view();
  return Acquire(minter, identity.user_id, address);
}

absl::StatusOr<std::shared_ptr<ConnectionLimits::Lease>> ConnectionLimits::ChargeFleet(
    std::shared_ptr<Lease> lease) {
  // Outside mu_: the fleet may wait on Redis, and releases must not.
  if (fleet_ == nullptr || per_user_ == 0 || lease->user_.empty()) return lease;
  const std::string key = FleetStreamKey(lease->minter(), lease->user_);
  size_t held = 0;
  absl::StatusOr<bool> taken = fleet_->TakeStream(key, per_user_, &held);
  if (!taken.ok()) {
    // Let in on the local count; the fleet still counts it from when the
    // store is back, or the user's other replicas would let in a full
    // limit more.
    fleet_unchecked_.fetch_add(1);
    fleet_->CountUnchecked(key);
    lease->fleet_counted_ = true;
    return lease;
  }
  if (!*taken) {
    const std::string minter(lease->minter());
    lease.reset();  // gives the local slots back
    return absl::ResourceExhaustedError(absl::StrCat(
        "user: this user already has ", held, " open streams",
        minter.empty() ? "" : absl::StrCat(" on tickets of publisher '", minter, "'"),
        " on all replicas; the limit is ", per_user_, " (--max_connections_per_user)"));
  }
  lease->fleet_counted_ = true;
  return lease;
}

absl::StatusOr<std::shared_ptr<ConnectionLimits::Lease>> ConnectionLimits::AcquireLocked(
    absl::string_view minter, absl::string_view user, absl::string_view address,
    size_t max_streams) {
  if (max_streams > 0 && streams_.load(std::memory_order_relaxed) >= max_streams) {
    return absl::UnavailableError(
        absl::StrCat("this bridge holds its limit of ", max_streams,
                     " streams (--max_connections); retry later or elsewhere"));
  }
  size_t* user_count = nullptr;
  auto forget_empty_user = [&] {
    if (user_count == nullptr || *user_count != 0) return;
    if (minter.empty()) {
      by_user_.erase(user);
    } else {
      by_minted_user_.erase(MintedUser(minter, user));
    }
  };
  if (!user.empty()) {
    user_count = minter.empty() ? &by_user_[user] : &by_minted_user_[MintedUser(minter, user)];
    if (per_user_ > 0 && *user_count >= per_user_) {
      forget_empty_user();
      if (!minter.empty()) {
        return absl::ResourceExhaustedError(absl::StrCat("user: this user already has ", per_user_,
                                                         " open streams on tickets of publisher '",
                                                         minter, "' (--max_connections_per_user)"));
      }
      return absl::ResourceExhaustedError(absl::StrCat(
          "user: this user already has ", per_user_, " open streams (--max_connections_per_user)"));
    }
  }
  size_t& address_count = by_address_[address];
  if (per_address_ > 0 && address_count >= per_address_) {
    forget_empty_user();
    return absl::ResourceExhaustedError(absl::StrCat("address: this client address already has ",
                                                     per_address_,
                                                     " open streams (--max_connections_per_ip)"));
  }
  ++address_count;
  if (user_count != nullptr) ++*user_count;
  streams_.fetch_add(1, std::memory_order_relaxed);
  return std::make_shared<Lease>(Lease::Key(), this, minter, std::string(user),
                                 std::string(address));
}

void ConnectionLimits::Release(const Lease& lease) {
  if (lease.fleet_counted_) fleet_->ReleaseStream(FleetStreamKey(lease.minter(), lease.user_));
  std::lock_guard<std::mutex> lock(mu_);
  if (!lease.user_.empty()) {
    if (lease.minter_ == nullptr) {
      auto it = by_user_.find(lease.user_);
      if (it != by_user_.end() && --it->second == 0) by_user_.erase(it);
    } else {
      auto it = by_minted_user_.find(MintedUser(lease.minter(), lease.user_));
      if (it != by_minted_user_.end() && --it->second == 0) by_minted_user_.erase(it);
    }
  }
  auto it = by_address_.find(lease.address_);
  if (it != by_address_.end() && --it->second == 0) by_address_.erase(it);
  streams_.fetch_sub(1, std::memory_order_relaxed);
}

size_t ConnectionLimits::users() const {
  std::lock_guard<std::mutex> lock(mu_);
  return by_user_.size() + by_minted_user_.size();
}

size_t ConnectionLimits::ConnectionsOf(absl::string_view user) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_user_.find(user);
  return it == by_user_.end() ? 0 : it->second;
}

size_t ConnectionLimits::ConnectionsOf(absl::string_view minter, absl::string_view user) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_minted_user_.find(MintedUser(minter, user));
  return it == by_minted_user_.end() ? 0 : it->second;
}

}  // namespace ssebridge
