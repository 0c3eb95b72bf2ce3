// RateLimiter: burst, refill on an injected clock, per-key isolation,
// unlimited mode, bounded memory.
#include "bridge/auth/rate_limiter.h"

#include <atomic>
#include <cmath>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/unit/fixed_clock.h"

namespace ssebridge {
namespace {

int AllowedNow(RateLimiter* limiter, const std::string& key, absl::Time now, int attempts) {
  int allowed = 0;
  for (int i = 0; i < attempts; ++i) allowed += limiter->Allow(key, now) ? 1 : 0;
  return allowed;
}

TEST(RateLimiterTest, BurstThenRefill) {
  RateLimiter limiter(10, 5);  // 10/s, bursts of 5
  EXPECT_EQ(AllowedNow(&limiter, "pub", kT0, 20), 5);
  EXPECT_FALSE(limiter.Allow("pub", kT0 + absl::Milliseconds(99)));
  EXPECT_TRUE(limiter.Allow("pub", kT0 + absl::Milliseconds(100)));
  EXPECT_FALSE(limiter.Allow("pub", kT0 + absl::Milliseconds(100)));
  // 0.3 s later: three more, not four.
  EXPECT_EQ(AllowedNow(&limiter, "pub", kT0 + absl::Milliseconds(400), 10), 3);
  // A long pause refills only up to the burst.
  EXPECT_EQ(AllowedNow(&limiter, "pub", kT0 + absl::Hours(1), 100), 5);
}

TEST(RateLimiterTest, SustainedRateIsHeld) {
  RateLimiter limiter(100, 10);
  int allowed = 0;
  // 10 seconds of 1000 attempts/s.
  for (int ms = 0; ms < 10000; ++ms) {
    allowed += limiter.Allow("k", kT0 + absl::Milliseconds(ms)) ? 1 : 0;
  }
  EXPECT_GE(allowed, 1000);
  EXPECT_LE(allowed, 1010);
}

TEST(RateLimiterTest, KeysAreIsolated) {
  RateLimiter limiter(1, 2);
  EXPECT_EQ(AllowedNow(&limiter, "a", kT0, 5), 2);
  EXPECT_EQ(AllowedNow(&limiter, "b", kT0, 5), 2);
  EXPECT_FALSE(limiter.Allow("a", kT0));
  EXPECT_EQ(limiter.size(), 2u);
}

TEST(RateLimiterTest, CostAndClockSteps) {
  RateLimiter limiter(1, 4);
  EXPECT_FALSE(limiter.Allow("k", kT0, 5));  // above burst: never
  EXPECT_TRUE(limiter.Allow("k", kT0, 3));
  EXPECT_FALSE(limiter.Allow("k", kT0, 2));  // nothing taken on refusal
  EXPECT_TRUE(limiter.Allow("k", kT0, 1));
  // A clock stepping backwards neither refills nor breaks the bucket.
  EXPECT_FALSE(limiter.Allow("k", kT0 - absl::Hours(1)));
  EXPECT_TRUE(limiter.Allow("k", kT0 + absl::Seconds(1)));
  EXPECT_FALSE(limiter.Allow("k", kT0 + absl::Seconds(1), std::nan("")));
}

TEST(RateLimiterTest, UnlimitedAllowsEverythingAndStoresNothing) {
  for (double rate : {0.0, -1.0}) {
    RateLimiter limiter(rate, 1);
    EXPECT_TRUE(limiter.unlimited());
    EXPECT_EQ(AllowedNow(&limiter, "k", kT0, 10000), 10000);
    EXPECT_EQ(limiter.size(), 0u);
  }
}

TEST(RateLimiterTest, TinyBurstIsRaisedToOne) {
  RateLimiter limiter(1, 0);
  EXPECT_TRUE(limiter.Allow("k", kT0));
  EXPECT_FALSE(limiter.Allow("k", kT0));
}

TEST(RateLimiterTest, MapIsBoundedAndForgetsIdleBucketsFirst) {
  RateLimiter limiter(1, 1, /*max_keys=*/3);
  EXPECT_TRUE(limiter.Allow("busy", kT0));
  EXPECT_TRUE(limiter.Allow("idle", kT0 - absl::Seconds(10)));
  EXPECT_TRUE(limiter.Allow("other", kT0));
  EXPECT_EQ(limiter.size(), 3u);
  // "idle" has refilled by kT0, so it is the one dropped; "busy" stays empty.
  EXPECT_TRUE(limiter.Allow("new", kT0));
  EXPECT_EQ(limiter.size(), 3u);
  EXPECT_FALSE(limiter.Allow("busy", kT0));
  // All busy: the least recently used goes, the bound still holds.
  for (int i = 0; i < 100; ++i) limiter.Allow(absl::StrCat("k", i), kT0);
  EXPECT_LE(limiter.size(), 3u);
}

TEST(RateLimiterTest, ConcurrentCallersShareOneBucket) {
  RateLimiter limiter(1, 1000);
  std::atomic<int> allowed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) allowed += limiter.Allow("shared", kT0) ? 1 : 0;
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(allowed.load(), 1000);
}

}  // namespace
}  // namespace ssebridge
