// InlineDrainScope and the shard's side of it (see hub.h): whether a post
// wakes the shard's owner now or leaves the drain to the posting thread's
// scope.
#include <algorithm>
#include <chrono>

#include "bridge/core/hub.h"

namespace ssebridge {

// ---- InlineDrainScope -----------------------------------------------------

thread_local InlineDrainScope* InlineDrainScope::active_ = nullptr;

InlineDrainScope::InlineDrainScope() : outermost_(active_ == nullptr) {
  if (outermost_) active_ = this;
}

InlineDrainScope::~InlineDrainScope() {
  if (!outermost_) return;
  active_ = nullptr;
  // A shard whose loop is busy (or that another thread is draining) still
  // gets its wake-up: nothing posted is left waiting.
  for (HubShard* shard : shards_) {
    if (!shard->inline_drain_()) shard->wake_();
  }
}

int64_t HubShard::SteadyNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void HubShard::WakeOrDefer(size_t deliveries) {
  InlineDrainScope* scope = InlineDrainScope::active_;
  if (scope != nullptr && inline_drain_ && deliveries <= InlineDrainScope::kMaxDeliveries &&
      SteadyNowNs() - last_drain_ns_.load(std::memory_order_relaxed) >= inline_min_gap_ns_) {
    if (std::find(scope->shards_.begin(), scope->shards_.end(), this) == scope->shards_.end()) {
      scope->shards_.push_back(this);
    }
    return;
  }
  if (wake_) wake_();
}

}  // namespace ssebridge
