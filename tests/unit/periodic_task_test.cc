#include "bridge/ops/periodic_task.h"

#include <atomic>
#include <condition_variable>
#include <mutex>

#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace ssebridge {
namespace {

TEST(PeriodicTaskTest, RunsAgainAndAgainUntilStopped) {
  std::mutex mu;
  std::condition_variable cv;
  int runs = 0;
  PeriodicTask task(absl::Milliseconds(1), [&] {
    std::lock_guard<std::mutex> lock(mu);
    ++runs;
    cv.notify_all();
  });
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return runs >= 3; });
  }
  task.Stop();
  int after_stop;
  {
    std::lock_guard<std::mutex> lock(mu);
    after_stop = runs;
  }
  task.Stop();  // a second Stop is harmless
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(runs, after_stop);
}

// Stop wakes the thread between runs: with an hour-long period a Stop that
// waited for the period would hang the test.
TEST(PeriodicTaskTest, StopDoesNotWaitForThePeriod) {
  std::atomic<int> runs{0};
  PeriodicTask task(absl::Hours(1), [&] { runs.fetch_add(1); });
  task.Stop();
  EXPECT_EQ(runs.load(), 0);
}

}  // namespace
}  // namespace ssebridge
