// RateLimiter: a token bucket per key (a publisher's name, a client
// address), refilled at `events_per_second` up to `burst`.
//
// Time is a parameter, never read from a clock, so tests are exact and the
// caller decides which clock counts. A key's bucket starts full. Memory is
// bounded: beyond `max_keys` buckets, those idle long enough to be full
// again are dropped (forgetting a full bucket changes nothing), and if all
// are busy the least recently used one goes. With events_per_second <= 0
// every call is allowed and nothing is stored.
//
// Thread-safe: one mutex around the map; Allow is O(1) except when the map
// is at its bound, where it is O(max_keys).
#ifndef SSEBRIDGE_AUTH_RATE_LIMITER_H_
#define SSEBRIDGE_AUTH_RATE_LIMITER_H_

#include <mutex>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace ssebridge {

class RateLimiter {
 public:
  // `burst` below 1 is raised to 1 so a limited key can ever send.
  RateLimiter(double events_per_second, double burst, size_t max_keys = 10000);
  RateLimiter(const RateLimiter&) = delete;
  RateLimiter& operator=(const RateLimiter&) = delete;

  // Takes `cost` tokens from `key`'s bucket when it holds that many; false
  // (and nothing taken) otherwise. A cost above `burst` is never allowed.
  bool Allow(absl::string_view key, absl::Time now, double cost = 1);

  bool unlimited() const { return rate_ <= 0; }
  size_t size() const;  // buckets held

 private:
  struct Bucket {
    double tokens;
    absl::Time updated;
  };
  void Refill(Bucket* bucket, absl::Time now) const;
  void MakeRoomLocked(absl::Time now);

  const double rate_;
  const double burst_;
  const size_t max_keys_;
  mutable std::mutex mu_;
  absl::flat_hash_map<std::string, Bucket> buckets_;
};

}  // namespace ssebridge

#endif  // SSEBRIDGE_AUTH_RATE_LIMITER_H_
