#include "bridge/auth/channel_shares.h"

#include "absl/strings/str_cat.h"

namespace ssebridge {

absl::Status ChannelShares::Charge(absl::string_view principal, absl::string_view channel,
                                   absl::Time now) {
  if (per_principal_ == 0) return absl::OkStatus();
  std::lock_guard<std::mutex> lock(mu_);
  Held& held = by_principal_[principal];
  auto it = held.last_publish.find(channel);
  if (it != held.last_publish.end()) {
    it->second = now;
    return absl::OkStatus();
  }
  if (held.last_publish.size() >= per_principal_ && now >= held.next_sweep) {
    held.next_sweep = now + absl::Seconds(1);
    absl::erase_if(held.last_publish,
                   [&](const auto& entry) { return entry.second + lifetime_ <= now; });
  }
  if (held.last_publish.size() >= per_principal_) {
    return absl::ResourceExhaustedError(
        absl::StrCat("channel: publisher '", principal, "' already holds ", per_principal_,
                     " channels (--max_channels_per_key); one is freed --history_ttl after "
                     "its last publish"));
  }
  held.last_publish.emplace(channel, now);
  return absl::OkStatus();
}

size_t ChannelShares::ChannelsOf(absl::string_view principal) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_principal_.find(principal);
  return it == by_principal_.end() ? 0 : it->second.last_publish.size();
}

}  // namespace ssebridge
