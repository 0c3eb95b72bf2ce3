#include "bridge/core/active_count.h"

namespace ssebridge {

void ActiveCount::Remove() {
  if (n_.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  std::lock_guard<std::mutex> lock(mu_);
  zero_cv_.notify_all();
}

bool ActiveCount::WaitForZero(absl::Time deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  return zero_cv_.wait_until(lock, absl::ToChronoTime(deadline),
                             [this] { return n_.load(std::memory_order_acquire) == 0; });
}

}  // namespace ssebridge
