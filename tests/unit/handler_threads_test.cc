// HandlerThreads: every posted item runs once, in order on one thread; one
// that waits holds its thread only; the destructor runs what was posted.
#include "bridge/grpc/handler_threads.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "gtest/gtest.h"

namespace ssebridge {
namespace {

TEST(HandlerThreadsTest, OneThreadRunsItemsInTheOrderPosted) {
  std::vector<int> seen;  // only the one thread writes it
  {
    HandlerThreads threads(1);
    EXPECT_EQ(threads.size(), 1);
    for (int i = 0; i < 100; ++i) threads.Post([&seen, i] { seen.push_back(i); });
  }  // runs everything posted, then joins
  ASSERT_EQ(seen.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(seen[static_cast<size_t>(i)], i);
}

TEST(HandlerThreadsTest, AtLeastOneThread) {
  HandlerThreads threads(0);
  EXPECT_EQ(threads.size(), 1);
}

TEST(HandlerThreadsTest, EveryItemRunsOnceAndTheDestructorWaitsForThem) {
  std::atomic<int> ran{0};
  {
    HandlerThreads threads(4);
    for (int i = 0; i < 10000; ++i) {
      threads.Post([&ran] { ran.fetch_add(1, std::memory_order_relaxed); });
    }
  }
  EXPECT_EQ(ran.load(), 10000);
}

// What a stream waiting on Redis must not do: hold the work behind it.
TEST(HandlerThreadsTest, AnItemThatWaitsHoldsOnlyItsOwnThread) {
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  bool waiting = false;
  bool other_ran = false;
  HandlerThreads threads(2);
  threads.Post([&] {
    std::unique_lock<std::mutex> lock(mu);
    waiting = true;
    cv.notify_all();
    cv.wait(lock, [&] { return release; });
  });
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return waiting; });
  }
  threads.Post([&] {
    std::lock_guard<std::mutex> lock(mu);
    other_ran = true;
    cv.notify_all();
  });
  std::unique_lock<std::mutex> lock(mu);
  // Bounded only so a regression fails instead of hanging the suite.
  EXPECT_TRUE(cv.wait_for(lock, std::chrono::seconds(60), [&] { return other_ran; }));
  release = true;
  cv.notify_all();
}

// A stream posts again from its own item (more requests came meanwhile).
TEST(HandlerThreadsTest, AnItemMayPostTheNextOne) {
  std::mutex mu;
  std::condition_variable cv;
  int ran = 0;  // guarded by mu
  // Declared before the threads, so it outlives their join even when the
  // wait below fails.
  std::function<void()> step;
  HandlerThreads threads(2);
  step = [&] {
    std::lock_guard<std::mutex> lock(mu);
    if (++ran < 50) {
      threads.Post(step);
    } else {
      cv.notify_all();
    }
  };
  threads.Post(step);
  std::unique_lock<std::mutex> lock(mu);
  // Bounded only so a regression fails instead of hanging the suite.
  EXPECT_TRUE(cv.wait_for(lock, std::chrono::seconds(60), [&] { return ran == 50; }));
}

}  // namespace
}  // namespace ssebridge
