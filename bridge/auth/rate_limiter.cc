#include "bridge/auth/rate_limiter.h"

#include <algorithm>

namespace ssebridge {

RateLimiter::RateLimiter(double events_per_second, double burst, size_t max_keys)
    : rate_(events_per_second),
      burst_(std::max(burst, 1.0)),
      max_keys_(std::max<size_t>(max_keys, 1)) {}

void RateLimiter::Refill(Bucket* bucket, absl::Time now) const {
  // A clock that steps backwards refills nothing (and never drains).
  if (now <= bucket->updated) return;
  double elapsed = absl::ToDoubleSeconds(now - bucket->updated);
  bucket->tokens = std::min(burst_, bucket->tokens + elapsed * rate_);
  bucket->updated = now;
}

void RateLimiter::MakeRoomLocked(absl::Time now) {
  auto oldest = buckets_.end();
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    Refill(&it->second, now);
    if (it->second.tokens >= burst_) {
      buckets_.erase(it++);  // full again: a new bucket would be identical
      continue;
    }
    if (oldest == buckets_.end() || it->second.updated < oldest->second.updated) {
      oldest = it;
    }
    ++it;
  }
  if (buckets_.size() >= max_keys_ && oldest != buckets_.end()) {
    buckets_.erase(oldest);
  }
}

bool RateLimiter::Allow(absl::string_view key, absl::Time now, double cost) {
  if (unlimited()) return true;
  if (!(cost >= 0)) return false;  // also NaN
  std::lock_guard<std::mutex> lock(mu_);
  auto it = buckets_.find(key);
  if (it == buckets_.end()) {
    if (buckets_.size() >= max_keys_) MakeRoomLocked(now);
    it = buckets_.emplace(std::string(key), Bucket{burst_, now}).first;
  } else {
    Refill(&it->second, now);
  }
  // The epsilon absorbs rounding in elapsed * rate (0.1 s at 10/s is 0.99999...).
  if (it->second.tokens + 1e-9 < cost) return false;
  it->second.tokens = std::max(0.0, it->second.tokens - cost);
  return true;
}

size_t RateLimiter::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return buckets_.size();
}

}  // namespace ssebridge
