#include "bridge/core/idempotency_window.h"

#include "absl/strings/str_cat.h"

namespace ssebridge {

std::string ScopedIdempotencyKey(absl::string_view principal, absl::string_view channel,
                                 absl::string_view key) {
  return absl::StrCat(principal.size(), ":", principal, channel.size(), ":", channel, key);
}

const PublishOutcome* IdempotencyWindow::Find(const std::string& key, absl::Time now) {
  Expire(now);
  auto it = by_key_.find(key);
  return it == by_key_.end() ? nullptr : &it->second.outcome;
}

void IdempotencyWindow::Record(const std::string& key, const PublishOutcome& outcome,
                               absl::Time now) {
  if (max_keys_ == 0 || window_ <= absl::ZeroDuration()) return;
  Expire(now);  // an expired entry for `key` must not shadow the new answer
  auto [it, inserted] = by_key_.try_emplace(key, Entry{outcome, now});
  if (!inserted) return;
  order_.push_back(key);
  Expire(now);
}

void IdempotencyWindow::Expire(absl::Time now) {
  while (!order_.empty()) {
    auto it = by_key_.find(order_.front());
    bool too_many = by_key_.size() > max_keys_;
    if (it != by_key_.end() && !too_many && now - it->second.recorded < window_) {
      break;
    }
    if (it != by_key_.end()) by_key_.erase(it);
    order_.pop_front();
  }
}

}  // namespace ssebridge
