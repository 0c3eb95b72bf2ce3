// The trickle path: a targeted event wakes only its user's shard, an
// InlineDrainScope lets the publisher drain a shard with a few deliveries
// itself (and wakes the owner when it cannot), and EventLoop runs its wake
// hook inline only while no round is running. Every wait is for a
// condition, never for a time.
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bridge/core/hub.h"
#include "bridge/core/subscription.h"
#include "bridge/event/event_loop.h"
#include "gtest/gtest.h"

namespace ssebridge {
namespace {

class CountingSink : public SubscriptionSink {
 public:
  void OnReady() override {
    ++ready;
    std::lock_guard<std::mutex> lock(sub->mu);
    while (!sub->queue.empty()) {
      absl::string_view views[8];
      const size_t n = sub->queue.Peek(views, 8);
      size_t total = 0;
      for (size_t i = 0; i < n; ++i) total += views[i].size();
      sub->queue.Consume(total);
      bytes += static_cast<int>(total);
      ++batches;
    }
  }
  Subscription* sub = nullptr;
  int ready = 0;    // OnReady calls, the attach's included
  int batches = 0;  // Peek/Consume rounds
  int bytes = 0;    // every frame here is "e;"
};

EventPtr DrainEv(const std::string& channel, std::vector<std::string> users = {}) {
  auto ev = std::make_shared<Event>();
  ev->seq = 1;
  ev->id = "e";
  ev->channel = channel;
  ev->type = "message";
  ev->user_ids = std::move(users);
  ev->frame = "e;";
  return ev;
}

class InlineDrainTest : public testing::Test {
 protected:
  InlineDrainTest() : hub_(2) {
    for (int i = 0; i < 2; ++i) {
      hub_.shard(i).SetWake([this, i] { wakes_[i]++; });
      hub_.shard(i).SetInlineDrain(
          [this, i] {
            if (!loop_idle_[i]) return false;
            inline_drains_[i]++;
            hub_.shard(i).Drain();
            return true;
          },
          /*min_gap_ns=*/0);
    }
  }

  std::shared_ptr<Subscription> Attach(CountingSink* sink, const std::string& channel,
                                       const std::string& user = "") {
    Subscription::Options o;
    o.channels = {channel};
    o.user_id = user;
    o.queue_bytes = 1 << 20;
    auto sub = std::make_shared<Subscription>(std::move(o), PolicyTable(), sink);
    sink->sub = sub.get();
    hub_.Attach(sub, {});
    return sub;
  }

  void DrainAllAndReset() {
    for (int i = 0; i < 2; ++i) hub_.shard(i).Drain();
    for (int i = 0; i < 2; ++i) wakes_[i] = inline_drains_[i] = 0;
  }

  Hub hub_;
  int wakes_[2] = {0, 0};
  int inline_drains_[2] = {0, 0};
  bool loop_idle_[2] = {true, true};
};

TEST_F(InlineDrainTest, TargetedEventWakesOnlyTheShardsOfItsUsers) {
  // Attaches go round robin: u0 on shard 0, u1 on shard 1.
  CountingSink s0, s1;
  auto a = Attach(&s0, "c", "u0");
  auto b = Attach(&s1, "c", "u1");
  DrainAllAndReset();
  hub_.Dispatch(DrainEv("c", {"u1"}));
  EXPECT_EQ(wakes_[0], 0);
  EXPECT_EQ(wakes_[1], 1);
  hub_.Dispatch(DrainEv("c", {"nobody"}));
  EXPECT_EQ(wakes_[0], 0);
  hub_.Dispatch(DrainEv("c", {"u0", "u1"}));
  EXPECT_EQ(wakes_[0], 1);
  DrainAllAndReset();
  EXPECT_EQ(s0.bytes, 2);       // one event
  EXPECT_EQ(s1.bytes, 4);       // two
  hub_.Dispatch(DrainEv("c"));  // untargeted: every shard with the channel
  EXPECT_EQ(wakes_[0], 1);
  EXPECT_EQ(wakes_[1], 1);
  EXPECT_EQ(hub_.CountRecipients(*DrainEv("c", {"u0", "u1", "u2"})), 2u);
}

TEST_F(InlineDrainTest, TargetedEventStopsWakingAShardOnceItsUserLeft) {
  CountingSink s0, s1;
  auto a = Attach(&s0, "c", "u0");
  auto b = Attach(&s1, "c", "u0");  // the same user on the other shard
  DrainAllAndReset();
  hub_.shard(1).DetachNow(b.get());  // the test thread owns the shards
  hub_.Dispatch(DrainEv("c", {"u0"}));
  EXPECT_EQ(wakes_[0], 1);
  EXPECT_EQ(hub_.CountRecipients(*DrainEv("c", {"u0"})), 1u);
}

TEST_F(InlineDrainTest, ScopeDrainsASmallShardInsteadOfWakingIt) {
  CountingSink s0;
  auto a = Attach(&s0, "c");
  DrainAllAndReset();
  const int ready = s0.ready;
  {
    InlineDrainScope scope;
    hub_.Dispatch(DrainEv("c"));
    hub_.Dispatch(DrainEv("c"));
    EXPECT_EQ(wakes_[0] + inline_drains_[0], 0);  // not before the scope ends
    EXPECT_EQ(s0.bytes, 0);
  }
  EXPECT_EQ(wakes_[0], 0);
  EXPECT_EQ(inline_drains_[0], 1);
  EXPECT_EQ(s0.ready, ready + 1);  // both events, one write
  EXPECT_EQ(s0.bytes, 4);
}

TEST_F(InlineDrainTest, ScopeWakesTheOwnerWhenItsLoopIsBusy) {
  CountingSink s0;
  auto a = Attach(&s0, "c");
  DrainAllAndReset();
  const int ready = s0.ready;
  loop_idle_[0] = false;
  {
    InlineDrainScope outer;
    InlineDrainScope inner;  // joins the outer one
    hub_.Dispatch(DrainEv("c"));
  }
  EXPECT_EQ(wakes_[0], 1);
  EXPECT_EQ(inline_drains_[0], 0);
  EXPECT_EQ(s0.ready, ready);  // left for the owner
  hub_.shard(0).Drain();
  EXPECT_EQ(s0.ready, ready + 1);
}

TEST_F(InlineDrainTest, ScopeLeavesAFanOutToTheWriterThreads) {
  std::vector<std::unique_ptr<CountingSink>> sinks;
  std::vector<std::shared_ptr<Subscription>> subs;
  for (size_t i = 0; i < 2 * (InlineDrainScope::kMaxDeliveries + 1); ++i) {
    sinks.push_back(std::make_unique<CountingSink>());
    subs.push_back(Attach(sinks.back().get(), "c"));
  }
  DrainAllAndReset();
  {
    InlineDrainScope scope;
    hub_.Dispatch(DrainEv("c"));
    EXPECT_EQ(wakes_[0], 1);  // at once: the scope does not hold it
    EXPECT_EQ(wakes_[1], 1);
  }
  EXPECT_EQ(inline_drains_[0] + inline_drains_[1], 0);
}

TEST_F(InlineDrainTest, ScopeLeavesAShardDrainedJustNowToItsWriter) {
  // Events faster than the gap: the writer's wake-up is shared by those
  // arriving meanwhile, so the scope does not take them one by one.
  CountingSink s0;
  auto a = Attach(&s0, "c");
  hub_.shard(0).SetInlineDrain([] { return true; }, /*min_gap_ns=*/int64_t{3600} * 1000000000);
  DrainAllAndReset();
  {
    InlineDrainScope scope;
    hub_.Dispatch(DrainEv("c"));
    EXPECT_EQ(wakes_[0], 1);
  }
}

TEST_F(InlineDrainTest, WithoutAScopeEveryPostWakes) {
  CountingSink s0;
  auto a = Attach(&s0, "c");
  DrainAllAndReset();
  hub_.Dispatch(DrainEv("c"));
  EXPECT_EQ(wakes_[0], 1);
  EXPECT_EQ(inline_drains_[0], 0);
}

// ---- EventLoop::TryRunWakeHookInline --------------------------------------

TEST(EventLoopInlineTest, RunsTheWakeHookInlineOnlyWhileTheLoopWaits) {
  auto made = EventLoop::Create();
  ASSERT_TRUE(made.ok());
  std::unique_ptr<EventLoop> loop = std::move(*made);
  // The loop runs its hook in its own woken rounds too: count the runs on
  // this (the test's) thread only.
  const std::thread::id me = std::this_thread::get_id();
  std::atomic<int> inline_runs{0};
  loop->SetWakeHook([&] {
    if (std::this_thread::get_id() == me) inline_runs++;
  });
  EXPECT_FALSE(loop->TryRunWakeHookInline());  // not running yet

  // A task that holds a round open until told to finish.
  std::mutex mu;
  std::condition_variable cv;
  bool in_task = false, release = false, from_loop = true;
  std::thread runner([&] { loop->Run(); });
  loop->Post([&] {
    from_loop = loop->TryRunWakeHookInline();  // the loop's own thread: no
    std::unique_lock<std::mutex> lock(mu);
    in_task = true;
    cv.notify_all();
    cv.wait(lock, [&] { return release; });
  });
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return in_task; });
  }
  EXPECT_FALSE(from_loop);
  EXPECT_FALSE(loop->TryRunWakeHookInline());  // a round is running
  {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
    cv.notify_all();
  }
  // Once the round is over the loop waits in epoll_wait (nothing else is
  // due): an inline run gets in, on this thread.
  EXPECT_EQ(inline_runs.load(), 0);
  bool ran = false;
  while (!ran) {
    ran = loop->TryRunWakeHookInline();
    if (!ran) std::this_thread::yield();
  }
  EXPECT_EQ(inline_runs.load(), 1);
  loop->Stop();
  runner.join();
  EXPECT_FALSE(loop->TryRunWakeHookInline());  // stopped
}

TEST(EventLoopInlineTest, AnFdUnwatchedInlineIsNotCalledByTheLoop) {
  auto made = EventLoop::Create();
  ASSERT_TRUE(made.ok());
  std::unique_ptr<EventLoop> loop = std::move(*made);
  struct Handler : EventLoop::FdHandler {
    void OnFdEvents(uint32_t) override { calls++; }
    std::atomic<int> calls{0};
  } handler;
  const int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(loop->Watch(fd, EPOLLIN, &handler).ok());
  // The inline run unwatches the fd after making it readable: whether or
  // not the loop's epoll_wait saw it first, the handler is never called.
  loop->SetWakeHook([&] {
    uint64_t one = 1;
    ASSERT_EQ(::write(fd, &one, sizeof(one)), 8);
    loop->Unwatch(fd, &handler);
  });
  std::thread runner([&] { loop->Run(); });
  bool ran = false;
  while (!ran) {
    ran = loop->TryRunWakeHookInline();
    if (!ran) std::this_thread::yield();
  }
  loop->Stop();  // the loop's last round runs the hook again: harmless
  runner.join();
  EXPECT_EQ(handler.calls.load(), 0);
  ::close(fd);
}

}  // namespace
}  // namespace ssebridge
