#include "bridge/core/active_count.h"

#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace ssebridge {
namespace {

TEST(ActiveCountTest, ZeroIsReachedAtOnce) {
  ActiveCount count;
  EXPECT_TRUE(count.WaitForZero(absl::Now()));
}

TEST(ActiveCountTest, WaitEndsAtTheDeadlineWhileSomethingIsOpen) {
  ActiveCount count;
  count.Add();
  EXPECT_FALSE(count.WaitForZero(absl::Now() + absl::Milliseconds(20)));
  EXPECT_EQ(count.value(), 1u);
  count.Remove();
  EXPECT_TRUE(count.WaitForZero(absl::Now()));
}

// The last Remove wakes the waiter long before its deadline: a lost wake-up
// would leave it waiting the whole (far) deadline and the test would time out.
TEST(ActiveCountTest, TheLastRemoveWakesTheWaiter) {
  for (int round = 0; round < 200; ++round) {
    ActiveCount count;
    constexpr int kOpen = 4;
    for (int i = 0; i < kOpen; ++i) count.Add();
    std::vector<std::thread> closers;
    for (int i = 0; i < kOpen; ++i) closers.emplace_back([&count] { count.Remove(); });
    EXPECT_TRUE(count.WaitForZero(absl::InfiniteFuture()));
    for (auto& t : closers) t.join();
    EXPECT_EQ(count.value(), 0u);
  }
}

}  // namespace
}  // namespace ssebridge
