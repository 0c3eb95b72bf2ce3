// EventLoop: posted tasks, fd readiness, timers, deferred deletion and the
// guarantee that an unwatched handler is not called again in its round.
// Every wait here is for a condition the loop signals, never for a time.
#include "bridge/event/event_loop.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace ssebridge {
namespace {

// Runs a loop on its own thread for one test.
class LoopThread {
 public:
  LoopThread() {
    auto made = EventLoop::Create();
    EXPECT_TRUE(made.ok()) << made.status();
    loop_ = std::move(*made);
    thread_ = std::thread([this] { loop_->Run(); });
  }
  ~LoopThread() {
    loop_->Stop();
    thread_.join();
  }
  EventLoop& loop() { return *loop_; }

  // Runs `fn` on the loop and waits for it.
  void Sync(const std::function<void()>& fn) {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    loop_->Post([&] {
      fn();
      std::lock_guard<std::mutex> lock(mu);
      done = true;
      cv.notify_all();
    });
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return done; });
  }

 private:
  std::unique_ptr<EventLoop> loop_;
  std::thread thread_;
};

// Counts until a number is reached; waits for it.
class Latch {
 public:
  void Hit() {
    std::lock_guard<std::mutex> lock(mu_);
    ++n_;
    cv_.notify_all();
  }
  void WaitFor(int n) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return n_ >= n; });
  }
  int count() {
    std::lock_guard<std::mutex> lock(mu_);
    return n_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int n_ = 0;
};

TEST(EventLoopTest, PostedTasksRunInOrderOnTheLoopThread) {
  LoopThread t;
  std::vector<int> order;
  std::thread::id ran_on;
  for (int i = 0; i < 100; ++i) {
    t.loop().Post([&order, &ran_on, i, &t] {
      order.push_back(i);
      ran_on = std::this_thread::get_id();
      EXPECT_TRUE(t.loop().InLoopThread());
      EXPECT_EQ(EventLoop::Current(), &t.loop());
    });
  }
  t.Sync([] {});
  ASSERT_EQ(order.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(order[i], i);
  EXPECT_NE(ran_on, std::this_thread::get_id());
  EXPECT_FALSE(t.loop().InLoopThread());
  EXPECT_EQ(EventLoop::Current(), nullptr);
}

TEST(EventLoopTest, StopRunsTasksPostedBeforeIt) {
  auto made = EventLoop::Create();
  ASSERT_TRUE(made.ok());
  EventLoop& loop = **made;
  int ran = 0;
  for (int i = 0; i < 10; ++i) loop.Post([&] { ++ran; });
  loop.Stop();
  loop.Run();  // returns: the Stop() was taken
  EXPECT_EQ(ran, 10);
}

TEST(EventLoopTest, WakeHookRunsAfterTheTasksOfAWake) {
  LoopThread t;
  std::vector<std::string> seen;  // loop thread only
  Latch hooks;
  Latch hook_after_task;
  t.Sync([&] {
    t.loop().SetWakeHook([&] {
      seen.push_back("hook");
      if (seen.size() >= 2 && seen[seen.size() - 2] == "task") hook_after_task.Hit();
      hooks.Hit();
    });
  });
  t.loop().Post([&] { seen.push_back("task"); });
  hook_after_task.WaitFor(1);
  // A bare Wake() runs the hook with no task.
  const int before = hooks.count();
  t.loop().Wake();
  hooks.WaitFor(before + 1);
  // The hook refers to this test's locals, which die before the loop does.
  t.Sync([&] { t.loop().SetWakeHook(nullptr); });
}

struct CountingHandler : EventLoop::FdHandler {
  void OnFdEvents(uint32_t events) override {
    last_events = events;
    latch.Hit();
    if (on_event) on_event();
  }
  std::atomic<uint32_t> last_events{0};
  Latch latch;
  std::function<void()> on_event;
};

TEST(EventLoopTest, WatchedFdReportsReadinessUntilUnwatched) {
  LoopThread t;
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
  CountingHandler h;
  t.Sync([&] { ASSERT_TRUE(t.loop().Watch(fds[0], EPOLLIN | EPOLLET, &h).ok()); });
  ASSERT_EQ(::write(fds[1], "x", 1), 1);
  h.latch.WaitFor(1);
  EXPECT_TRUE(h.last_events & EPOLLIN);
  t.Sync([&] { t.loop().Unwatch(fds[0], &h); });
  const int seen = h.latch.count();
  ASSERT_EQ(::write(fds[1], "y", 1), 1);
  t.Sync([] {});  // a full round after the write's readiness could be seen
  EXPECT_EQ(h.latch.count(), seen);
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST(EventLoopTest, HandlerUnwatchedInARoundIsNotCalledLaterInIt) {
  LoopThread t;
  int a[2], b[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, a), 0);
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, b), 0);
  CountingHandler first, second;
  // Whichever runs first unwatches both: both are ready in one round, and
  // the other must not be called.
  first.on_event = [&] {
    t.loop().Unwatch(a[0], &first);
    t.loop().Unwatch(b[0], &second);
  };
  second.on_event = first.on_event;
  t.Sync([&] {
    ASSERT_TRUE(t.loop().Watch(a[0], EPOLLIN, &first).ok());
    ASSERT_TRUE(t.loop().Watch(b[0], EPOLLIN, &second).ok());
    // Both become readable before the loop's next epoll_wait.
    ASSERT_EQ(::write(a[1], "x", 1), 1);
    ASSERT_EQ(::write(b[1], "x", 1), 1);
  });
  t.Sync([] {});
  EXPECT_EQ(first.latch.count() + second.latch.count(), 1);
  for (int fd : {a[0], a[1], b[0], b[1]}) ::close(fd);
}

TEST(EventLoopTest, TimersRunInDueOrderAndCanBeCancelled) {
  LoopThread t;
  std::vector<int> order;
  Latch done;
  t.Sync([&] {
    const absl::Time now = absl::Now();
    t.loop().RunAt(now + absl::Milliseconds(30), [&] {
      order.push_back(3);
      done.Hit();
    });
    t.loop().RunAt(now + absl::Milliseconds(10), [&] { order.push_back(1); });
    EventLoop::TimerId cancelled =
        t.loop().RunAt(now + absl::Milliseconds(20), [&] { order.push_back(2); });
    EXPECT_TRUE(t.loop().Cancel(cancelled));
    EXPECT_FALSE(t.loop().Cancel(cancelled));
  });
  done.WaitFor(1);
  t.Sync([&] { EXPECT_EQ(order, (std::vector<int>{1, 3})); });
}

TEST(EventLoopTest, RepeatingTimerRepeatsUntilItCancelsItself) {
  LoopThread t;
  Latch runs;
  int count = 0;
  EventLoop::TimerId id = 0;
  t.Sync([&] {
    id = t.loop().RunEvery(absl::Milliseconds(1), [&] {
      if (++count == 5) {
        EXPECT_TRUE(t.loop().Cancel(id));
      }
      runs.Hit();
    });
  });
  runs.WaitFor(5);
  // Another timer after it proves the cancelled one had its chance to run.
  Latch later;
  t.Sync([&] { t.loop().RunAt(absl::Now() + absl::Milliseconds(5), [&] { later.Hit(); }); });
  later.WaitFor(1);
  t.Sync([&] { EXPECT_EQ(count, 5); });
}

TEST(EventLoopTest, DeferredDeletionRunsAtTheEndOfTheRound) {
  LoopThread t;
  std::vector<std::string> seen;
  t.Sync([&] {
    t.loop().DeferDelete([&] { seen.push_back("deleted"); });
    seen.push_back("task");
  });
  t.Sync([&] { EXPECT_EQ(seen, (std::vector<std::string>{"task", "deleted"})); });
}

TEST(EventLoopTest, DestructorRunsDeletionsDeferredAfterRun) {
  bool deleted = false;
  {
    auto made = EventLoop::Create();
    ASSERT_TRUE(made.ok());
    (*made)->DeferDelete([&] { deleted = true; });
  }
  EXPECT_TRUE(deleted);
}

TEST(EventLoopTest, WatchReportsAnFdEpollRefuses) {
  auto made = EventLoop::Create();
  ASSERT_TRUE(made.ok());
  CountingHandler h;
  absl::Status s = (*made)->Watch(-1, EPOLLIN, &h);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("epoll_ctl"), absl::string_view::npos) << s;
}

}  // namespace
}  // namespace ssebridge
