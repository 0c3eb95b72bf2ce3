// Hub / HubShard: routing, coalescing, targeting, detaching, overflow.
//
// The shards' owner thread is the test thread: each test calls Drain()
// itself, so nothing depends on timing.
#include "bridge/core/hub.h"

#include <algorithm>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "bridge/core/delivery_policy.h"
#include "bridge/core/subscription.h"
#include "gtest/gtest.h"

namespace ssebridge {
namespace {

// Counts OnReady calls and writes out everything queued, like a connection
// with an always-writable socket. Frames in these tests are "<id>[...];".
class TestSink : public SubscriptionSink {
 public:
  void OnReady() override {
    ++ready;
    if (sub != nullptr) {
      std::lock_guard<std::mutex> lock(sub->mu);
      if (sub->overflowed) saw_overflow = true;
      absl::string_view views[8];
      size_t n;
      while ((n = sub->queue.Peek(views, 8)) > 0) {
        size_t total = 0;
        for (size_t i = 0; i < n; ++i) {
          received.append(views[i].data(), views[i].size());
          total += views[i].size();
        }
        sub->queue.Consume(total);
      }
    }
    if (on_ready) on_ready();
  }

  std::vector<std::string> Ids() const {
    std::vector<std::string> out;
    for (absl::string_view s : absl::StrSplit(received, ';', absl::SkipEmpty())) {
      out.emplace_back(s.substr(0, s.find('.')));  // drop the padding
    }
    return out;
  }

  Subscription* sub = nullptr;
  int ready = 0;
  bool saw_overflow = false;
  std::string received;
  std::function<void()> on_ready;
};

using Ids = std::vector<std::string>;

EventPtr HubEv(const std::string& id, const std::string& channel,
               std::vector<std::string> users = {}, size_t pad = 0) {
  auto ev = std::make_shared<Event>();
  ev->seq = 1;
  ev->id = id;
  ev->channel = channel;
  ev->type = "message";
  ev->data = id;
  ev->user_ids = std::move(users);
  ev->frame = id + std::string(pad, '.') + ";";
  return ev;
}

class HubTest : public testing::Test {
 protected:
  HubTest() : hub_(2) {
    for (int i = 0; i < hub_.shard_count(); ++i) {
      hub_.shard(i).SetWake([this, i] { wakes_[i]++; });
    }
  }

  std::shared_ptr<Subscription> Make(TestSink* sink, std::vector<std::string> channels,
                                     std::string user = "", size_t queue_bytes = 4096,
                                     const PolicyTable& policies = PolicyTable()) {
    Subscription::Options o;
    o.channels = std::move(channels);
    o.user_id = std::move(user);
    o.queue_bytes = queue_bytes;
    auto sub = std::make_shared<Subscription>(std::move(o), policies, sink);
    sink->sub = sub.get();
    return sub;
  }

  void DrainAll() {
    for (int i = 0; i < hub_.shard_count(); ++i) hub_.shard(i).Drain();
  }

  int ShardOf(const Subscription* sub) {
    int found = -1;
    for (int i = 0; i < hub_.shard_count(); ++i) {
      hub_.shard(i).ForEach([&](const std::shared_ptr<Subscription>& s) {
        if (s.get() == sub) found = i;
      });
    }
    return found;
  }

  // Indexes (into `subs`, in order) of the first `n` that share a shard.
  std::vector<int> SameShard(const std::vector<std::shared_ptr<Subscription>>& subs, size_t n) {
    std::map<int, std::vector<int>> by_shard;
    for (size_t i = 0; i < subs.size(); ++i) {
      by_shard[ShardOf(subs[i].get())].push_back(static_cast<int>(i));
    }
    for (auto& [shard, list] : by_shard) {
      if (shard >= 0 && list.size() >= n) {
        list.resize(n);
        return list;
      }
    }
    return {};
  }

  Hub hub_;
  std::atomic<int> wakes_[2] = {{0}, {0}};
};

TEST_F(HubTest, WakeFiresWhenTheInboxTurnsNonEmpty) {
  // One subscription on "a" per shard (attaches go round robin).
  TestSink s0, s1;
  auto a0 = Make(&s0, {"a"});
  auto a1 = Make(&s1, {"a"});
  hub_.Attach(a0, {});
  hub_.Attach(a1, {});
  DrainAll();
  wakes_[0] = 0;
  wakes_[1] = 0;
  hub_.Dispatch(HubEv("e1", "a"));
  EXPECT_EQ(wakes_[0], 1);
  EXPECT_EQ(wakes_[1], 1);
  hub_.Dispatch(HubEv("e2", "a"));
  EXPECT_EQ(wakes_[0], 1);
  EXPECT_EQ(wakes_[1], 1);
  hub_.shard(0).Drain();
  hub_.Dispatch(HubEv("e3", "a"));
  EXPECT_EQ(wakes_[0], 2);
  EXPECT_EQ(wakes_[1], 1);
}

TEST_F(HubTest, DispatchWakesOnlyShardsHoldingTheChannel) {
  TestSink s0, s1;
  auto a = Make(&s0, {"a"});  // lands on one shard
  auto b = Make(&s1, {"b"});  // and this one on the other
  hub_.Attach(a, {});
  hub_.Attach(b, {});
  DrainAll();
  wakes_[0] = 0;
  wakes_[1] = 0;
  hub_.Dispatch(HubEv("e1", "nobody"));
  EXPECT_EQ(wakes_[0] + wakes_[1], 0) << "no reader, no wake-up";
  hub_.Dispatch(HubEv("e2", "a"));
  EXPECT_EQ(wakes_[0] + wakes_[1], 1) << "only the shard holding \"a\"";
  DrainAll();
  EXPECT_EQ(s0.ready, 2) << "attach, then e2";
  EXPECT_EQ(s1.ready, 1) << "attach only";
  // Once its reader leaves, a channel wakes nobody again.
  for (int i = 0; i < 2; ++i) hub_.shard(i).DetachNow(a.get());
  wakes_[0] = 0;
  wakes_[1] = 0;
  hub_.Dispatch(HubEv("e3", "a"));
  EXPECT_EQ(wakes_[0] + wakes_[1], 0);
}

TEST_F(HubTest, AttachThenDeliver) {
  TestSink sink;
  auto sub = Make(&sink, {"a"});
  hub_.Attach(sub, {});
  EXPECT_EQ(hub_.subscriptions(), 0u) << "applied only on Drain";
  DrainAll();
  EXPECT_EQ(hub_.subscriptions(), 1u);
  EXPECT_EQ(sink.ready, 1) << "attach notifies once";
  hub_.Dispatch(HubEv("e1", "a"));
  DrainAll();
  EXPECT_EQ(sink.ready, 2);
  EXPECT_EQ(sink.Ids(), (Ids{"e1"}));
  EXPECT_EQ(hub_.deliveries(), 1u);
}

TEST_F(HubTest, CatchUpComesBeforeLiveEvents) {
  TestSink sink;
  auto sub = Make(&sink, {"a"});
  hub_.Attach(sub, {HubEv("c1", "a"), HubEv("c2", "a")});
  hub_.Dispatch(HubEv("e3", "a"));
  DrainAll();
  EXPECT_EQ(sink.Ids(), (Ids{"c1", "c2", "e3"}));
  EXPECT_EQ(sink.ready, 1);
}

TEST_F(HubTest, CoalescesABurstIntoOneNotificationPerSubscription) {
  TestSink s1, s2, s3;
  auto a = Make(&s1, {"a"});
  auto b = Make(&s2, {"a", "b"});
  auto c = Make(&s3, {"b"});
  hub_.Attach(a, {});
  hub_.Attach(b, {});
  hub_.Attach(c, {});
  DrainAll();
  ASSERT_EQ(s1.ready, 1);
  ASSERT_EQ(s2.ready, 1);
  ASSERT_EQ(s3.ready, 1);
  for (int i = 1; i <= 5; ++i) {
    hub_.Dispatch(HubEv("a" + std::to_string(i), "a"));
    hub_.Dispatch(HubEv("b" + std::to_string(i), "b"));
  }
  DrainAll();
  EXPECT_EQ(s1.ready, 2);
  EXPECT_EQ(s2.ready, 2);
  EXPECT_EQ(s3.ready, 2);
  EXPECT_EQ(s1.Ids(), (Ids{"a1", "a2", "a3", "a4", "a5"}));
  EXPECT_EQ(s2.Ids(), (Ids{"a1", "b1", "a2", "b2", "a3", "b3", "a4", "b4", "a5", "b5"}));
  EXPECT_EQ(s3.Ids(), (Ids{"b1", "b2", "b3", "b4", "b5"}));
  EXPECT_EQ(hub_.deliveries(), 20u);
}

TEST_F(HubTest, ChannelFiltering) {
  TestSink sa, sb;
  auto a = Make(&sa, {"a"});
  auto b = Make(&sb, {"b"});
  hub_.Attach(a, {});
  hub_.Attach(b, {});
  DrainAll();
  hub_.Dispatch(HubEv("x1", "a"));
  hub_.Dispatch(HubEv("x2", "c"));
  DrainAll();
  EXPECT_EQ(sa.Ids(), (Ids{"x1"}));
  EXPECT_EQ(sb.Ids(), (Ids{}));
  EXPECT_EQ(sb.ready, 1) << "no notification without a delivery";
  EXPECT_EQ(sa.ready, 2);
}

TEST_F(HubTest, SubscriptionsSpreadOverShards) {
  TestSink s1, s2;
  auto a = Make(&s1, {"a"});
  auto b = Make(&s2, {"a"});
  hub_.Attach(a, {});
  DrainAll();
  hub_.Attach(b, {});
  DrainAll();
  EXPECT_NE(ShardOf(a.get()), -1);
  EXPECT_NE(ShardOf(b.get()), -1);
  EXPECT_NE(ShardOf(a.get()), ShardOf(b.get()));
  EXPECT_EQ(hub_.shard(0).attached(), 1u);
  EXPECT_EQ(hub_.shard(1).attached(), 1u);
  hub_.Dispatch(HubEv("e1", "a"));
  DrainAll();
  EXPECT_EQ(s1.Ids(), (Ids{"e1"}));
  EXPECT_EQ(s2.Ids(), (Ids{"e1"}));
}

TEST_F(HubTest, UserTargeting) {
  TestSink alice, alice_other, bob, anon, carol_elsewhere;
  auto sa = Make(&alice, {"c"}, "alice");
  auto sa2 = Make(&alice_other, {"d", "c"}, "alice");
  auto sb = Make(&bob, {"c"}, "bob");
  auto sn = Make(&anon, {"c"});
  auto sc = Make(&carol_elsewhere, {"d"}, "carol");
  for (auto& s : {sa, sa2, sb, sn, sc}) hub_.Attach(s, {});
  DrainAll();

  hub_.Dispatch(HubEv("to_alice", "c", {"alice"}));
  hub_.Dispatch(HubEv("to_alice_bob", "c", {"alice", "bob"}));
  hub_.Dispatch(HubEv("to_carol_on_c", "c", {"carol"}));
  hub_.Dispatch(HubEv("to_nobody", "c", {"zed"}));
  hub_.Dispatch(HubEv("all_c", "c"));
  hub_.Dispatch(HubEv("to_alice_on_d", "d", {"alice"}));
  DrainAll();

  EXPECT_EQ(alice.Ids(), (Ids{"to_alice", "to_alice_bob", "all_c"}));
  EXPECT_EQ(alice_other.Ids(), (Ids{"to_alice", "to_alice_bob", "all_c", "to_alice_on_d"}));
  EXPECT_EQ(bob.Ids(), (Ids{"to_alice_bob", "all_c"}));
  EXPECT_EQ(anon.Ids(), (Ids{"all_c"}));
  EXPECT_EQ(carol_elsewhere.Ids(), (Ids{}));
}

TEST_F(HubTest, CountRecipients) {
  TestSink s1, s2, s3, s4;
  auto a = Make(&s1, {"c"}, "alice");
  auto a2 = Make(&s2, {"c", "d"}, "alice");
  auto b = Make(&s3, {"c"}, "bob");
  auto n = Make(&s4, {"c"});
  for (auto& s : {a, a2, b, n}) hub_.Attach(s, {});
  // Counted from Attach on, before any shard applied it.
  EXPECT_EQ(hub_.CountRecipients(*HubEv("x", "c")), 4u);
  DrainAll();
  EXPECT_EQ(hub_.CountRecipients(*HubEv("x", "c")), 4u);
  EXPECT_EQ(hub_.CountRecipients(*HubEv("x", "d")), 1u);
  EXPECT_EQ(hub_.CountRecipients(*HubEv("x", "e")), 0u);
  EXPECT_EQ(hub_.CountRecipients(*HubEv("x", "c", {"alice"})), 2u);
  EXPECT_EQ(hub_.CountRecipients(*HubEv("x", "c", {"alice", "bob"})), 3u);
  EXPECT_EQ(hub_.CountRecipients(*HubEv("x", "c", {"carol"})), 0u);
  EXPECT_EQ(hub_.CountRecipients(*HubEv("x", "d", {"alice"})), 1u);
  EXPECT_EQ(hub_.CountRecipients(*HubEv("x", "d", {"bob"})), 0u);

  // The count matches what Dispatch actually delivers.
  const uint64_t before = hub_.deliveries();
  hub_.Dispatch(HubEv("t", "c", {"alice", "bob"}));
  DrainAll();
  EXPECT_EQ(hub_.deliveries() - before, 3u);

  std::atomic<bool> done{false};
  std::thread t([&] {
    hub_.Detach(a2);
    done = true;
  });
  // Detach waits for each shard: drain until it has gone through.
  while (!done) {
    DrainAll();
    std::this_thread::yield();
  }
  t.join();
  EXPECT_EQ(hub_.subscriptions(), 3u);
  EXPECT_EQ(hub_.CountRecipients(*HubEv("x", "c")), 3u);
  EXPECT_EQ(hub_.CountRecipients(*HubEv("x", "c", {"alice"})), 1u);
  EXPECT_EQ(hub_.CountRecipients(*HubEv("x", "d")), 0u);
}

TEST_F(HubTest, DetachNowFromInsideOnReady) {
  TestSink sink;
  auto sub = Make(&sink, {"a"}, "u");
  hub_.Attach(sub, {});
  DrainAll();
  const int shard = ShardOf(sub.get());
  ASSERT_NE(shard, -1);
  Subscription* raw = sub.get();
  std::weak_ptr<Subscription> weak = sub;
  sub.reset();  // the hub holds the only references now
  sink.on_ready = [&] { hub_.shard(shard).DetachNow(raw); };
  hub_.Dispatch(HubEv("e1", "a"));
  DrainAll();
  EXPECT_EQ(sink.Ids(), (Ids{"e1"}));
  EXPECT_EQ(sink.ready, 2);
  EXPECT_TRUE(weak.expired()) << "released after the notification round";
  EXPECT_EQ(hub_.subscriptions(), 0u);
  EXPECT_EQ(hub_.CountRecipients(*HubEv("x", "a")), 0u);
  EXPECT_EQ(hub_.CountRecipients(*HubEv("x", "a", {"u"})), 0u);
  sink.sub = nullptr;
  sink.on_ready = nullptr;
  hub_.Dispatch(HubEv("e2", "a"));
  hub_.Dispatch(HubEv("e3", "a", {"u"}));
  DrainAll();
  EXPECT_EQ(sink.ready, 2);
}

TEST_F(HubTest, DetachingAnotherPendingSubscriptionSkipsItsNotification) {
  // Four subscriptions over two shards: at least two share one.
  TestSink sinks[4];
  std::vector<std::shared_ptr<Subscription>> subs;
  for (auto& sk : sinks) {
    subs.push_back(Make(&sk, {"a"}));
    hub_.Attach(subs.back(), {});
  }
  DrainAll();
  std::vector<int> same = SameShard(subs, 2);
  ASSERT_EQ(same.size(), 2u);
  const int shard = ShardOf(subs[static_cast<size_t>(same[0])].get());
  TestSink& s1 = sinks[same[0]];
  TestSink& s2 = sinks[same[1]];
  Subscription* araw = subs[static_cast<size_t>(same[0])].get();
  Subscription* braw = subs[static_cast<size_t>(same[1])].get();
  subs[static_cast<size_t>(same[1])].reset();
  const int r1 = s1.ready, r2 = s2.ready;
  // Whichever is notified first detaches the other.
  bool detached = false;
  s1.on_ready = [&] {
    if (!detached) {
      detached = true;
      hub_.shard(shard).DetachNow(braw);
    }
  };
  s2.on_ready = [&] {
    if (!detached) {
      detached = true;
      hub_.shard(shard).DetachNow(araw);
    }
  };
  hub_.Dispatch(HubEv("e1", "a"));
  DrainAll();
  EXPECT_TRUE(detached);
  EXPECT_EQ((s1.ready - r1) + (s2.ready - r2), 1) << "the detached one is not notified";
  EXPECT_EQ(hub_.subscriptions(), 3u);
}

TEST_F(HubTest, DetachAndWaitFromAnotherThread) {
  TestSink sink;
  auto sub = Make(&sink, {"a"});
  hub_.Attach(sub, {});
  DrainAll();
  hub_.Dispatch(HubEv("e1", "a"));

  std::atomic<bool> done{false};
  std::thread t([&] {
    hub_.Detach(sub);
    done = true;
  });
  while (!done) {
    DrainAll();
    std::this_thread::yield();
  }
  t.join();
  EXPECT_EQ(hub_.subscriptions(), 0u);
  EXPECT_EQ(hub_.CountRecipients(*HubEv("x", "a")), 0u);
  // e1 was posted before the detach, so it was queued: either written out
  // in an earlier round, or still in the queue, which the consumer owns now.
  {
    std::lock_guard<std::mutex> lock(sub->mu);
    absl::string_view views[4];
    size_t n = sub->queue.Peek(views, 4);
    for (size_t i = 0; i < n; ++i) sink.received.append(views[i].data(), views[i].size());
  }
  EXPECT_EQ(sink.Ids(), (Ids{"e1"}));
  const int ready = sink.ready;
  hub_.Dispatch(HubEv("e2", "a"));
  DrainAll();
  EXPECT_EQ(sink.ready, ready);
  EXPECT_EQ(sink.Ids(), (Ids{"e1"}));
  // The hub no longer holds the subscription.
  EXPECT_EQ(sub.use_count(), 1);
}

TEST_F(HubTest, DetachBeforeAttachWasApplied) {
  TestSink sink;
  auto sub = Make(&sink, {"a"});
  hub_.Attach(sub, {HubEv("c1", "a")});
  std::atomic<bool> done{false};
  std::thread t([&] {
    hub_.Detach(sub);
    done = true;
  });
  while (!done) {
    DrainAll();
    std::this_thread::yield();
  }
  t.join();
  EXPECT_EQ(hub_.subscriptions(), 0u);
  EXPECT_EQ(hub_.CountRecipients(*HubEv("x", "a")), 0u);
  EXPECT_EQ(sub.use_count(), 1);
}

TEST_F(HubTest, OverflowUnderDisconnectPolicy) {
  TestSink sink;
  auto sub = Make(&sink, {"a"}, "", /*queue_bytes=*/20);
  hub_.Attach(sub, {});
  DrainAll();
  hub_.Dispatch(HubEv("e1", "a", {}, 10));  // 13 bytes
  hub_.Dispatch(HubEv("e2", "a", {}, 10));  // would make 26 > 20
  DrainAll();
  {
    std::lock_guard<std::mutex> lock(sub->mu);
    EXPECT_TRUE(sub->overflowed);
    EXPECT_TRUE(sub->queue.empty()) << "an overflowed queue is cleared";
  }
  EXPECT_TRUE(sink.saw_overflow);
  EXPECT_EQ(sink.ready, 2);
  EXPECT_EQ(sink.received, "") << "nothing is written after an overflow";
  EXPECT_EQ(hub_.overflow_disconnects(), 1u);
  EXPECT_EQ(hub_.deliveries(), 1u);
  // Nothing more is queued or notified, and it is counted once.
  hub_.Dispatch(HubEv("e3", "a"));
  DrainAll();
  EXPECT_EQ(sink.ready, 2);
  EXPECT_EQ(hub_.overflow_disconnects(), 1u);
  std::lock_guard<std::mutex> lock(sub->mu);
  EXPECT_TRUE(sub->queue.empty());
}

TEST_F(HubTest, DropOldestPolicyCountsDrops) {
  absl::StatusOr<PolicyTable> policies = PolicyTable::Parse("dash.*=drop-oldest", "f");
  ASSERT_TRUE(policies.ok());
  TestSink sink;
  auto sub = Make(&sink, {"dash.cpu"}, "", /*queue_bytes=*/10, *policies);
  hub_.Attach(sub, {});
  DrainAll();
  for (int i = 1; i <= 4; ++i) hub_.Dispatch(HubEv("e" + std::to_string(i), "dash.cpu", {}, 2));
  DrainAll();  // each frame is 5 bytes: two fit
  EXPECT_EQ(sink.Ids(), (Ids{"e3", "e4"}));
  EXPECT_EQ(hub_.dropped(), 2u);
  EXPECT_EQ(hub_.overflow_disconnects(), 0u);
  EXPECT_EQ(hub_.deliveries(), 4u);
}

TEST_F(HubTest, SwapRemoveKeepsTheOthers) {
  // Six subscriptions over two shards: at least three share one.
  TestSink sinks[6];
  std::vector<std::shared_ptr<Subscription>> all;
  for (auto& sk : sinks) {
    all.push_back(Make(&sk, {"c"}, "u"));
    hub_.Attach(all.back(), {});
  }
  DrainAll();
  std::vector<int> same = SameShard(all, 3);
  ASSERT_EQ(same.size(), 3u);
  const int shard = ShardOf(all[static_cast<size_t>(same[0])].get());
  // In attach order, so b is in the middle of the shard's lists.
  Subscription* a = all[static_cast<size_t>(same[0])].get();
  Subscription* b = all[static_cast<size_t>(same[1])].get();
  Subscription* c = all[static_cast<size_t>(same[2])].get();
  TestSink& s1 = sinks[same[0]];
  TestSink& s2 = sinks[same[1]];
  TestSink& s3 = sinks[same[2]];
  auto clear = [&] {
    for (auto& sk : sinks) sk.received.clear();
  };

  hub_.shard(shard).DetachNow(b);  // the middle one
  hub_.Dispatch(HubEv("e1", "c"));
  hub_.Dispatch(HubEv("t1", "c", {"u"}));
  DrainAll();
  EXPECT_EQ(s1.Ids(), (Ids{"e1", "t1"}));
  EXPECT_EQ(s2.Ids(), (Ids{}));
  EXPECT_EQ(s3.Ids(), (Ids{"e1", "t1"}));
  EXPECT_EQ(hub_.subscriptions(), 5u);

  clear();
  hub_.shard(shard).DetachNow(a);  // now the first
  hub_.Dispatch(HubEv("e2", "c"));
  hub_.Dispatch(HubEv("t2", "c", {"u"}));
  DrainAll();
  EXPECT_EQ(s1.Ids(), (Ids{}));
  EXPECT_EQ(s2.Ids(), (Ids{}));
  EXPECT_EQ(s3.Ids(), (Ids{"e2", "t2"}));

  clear();
  hub_.shard(shard).DetachNow(c);
  EXPECT_EQ(hub_.subscriptions(), 3u);
  hub_.Dispatch(HubEv("e3", "c"));
  DrainAll();
  EXPECT_EQ(s3.Ids(), (Ids{}));
  // The others (on whichever shard) were never disturbed.
  for (size_t i = 0; i < 6; ++i) {
    if (static_cast<int>(i) == same[0] || static_cast<int>(i) == same[1] ||
        static_cast<int>(i) == same[2]) {
      continue;
    }
    EXPECT_EQ(sinks[i].Ids(), (Ids{"e3"})) << i;
  }

  // The emptied slots take new subscriptions again.
  TestSink s4;
  auto d = Make(&s4, {"c"}, "u");
  hub_.Attach(d, {});
  hub_.Dispatch(HubEv("e4", "c", {"u"}));
  DrainAll();
  EXPECT_EQ(s4.Ids(), (Ids{"e4"}));
}

// Model check: random-ish attach/detach orders over several channels and
// users; after each step every (channel, user) event reaches exactly the
// subscriptions that should get it.
TEST_F(HubTest, IndexesStayConsistentUnderChurn) {
  const std::vector<std::string> channels = {"c1", "c2", "c3"};
  const std::vector<std::string> users = {"", "u1", "u2"};
  struct Entry {
    std::unique_ptr<TestSink> sink;
    std::shared_ptr<Subscription> sub;
    std::set<std::string> chans;
    std::string user;
    bool attached = false;
  };
  std::vector<Entry> subs;
  for (int i = 0; i < 12; ++i) {
    Entry e;
    e.sink = std::make_unique<TestSink>();
    std::vector<std::string> ch;
    for (size_t k = 0; k < channels.size(); ++k) {
      if (((i >> k) & 1) != 0 || (i % 4 == 0 && k == 2)) ch.push_back(channels[k]);
    }
    if (ch.empty()) ch.push_back("c2");
    e.chans = std::set<std::string>(ch.begin(), ch.end());
    e.user = users[static_cast<size_t>(i) % users.size()];
    e.sub = Make(e.sink.get(), ch, e.user);
    subs.push_back(std::move(e));
  }
  for (auto& e : subs) {
    hub_.Attach(e.sub, {});
    e.attached = true;
  }
  DrainAll();
  const std::vector<int> detach_order = {5, 0, 11, 6, 3, 9, 1, 10, 2, 8, 7, 4};
  int n = 0;
  for (int victim : detach_order) {
    Entry& v = subs[static_cast<size_t>(victim)];
    hub_.shard(ShardOf(v.sub.get())).DetachNow(v.sub.get());
    v.attached = false;
    for (auto& e : subs) e.sink->received.clear();
    for (const auto& ch : channels) {
      hub_.Dispatch(HubEv("b" + std::to_string(n) + ch, ch));
      for (const auto& u : {"u1", "u2"}) {
        hub_.Dispatch(HubEv("t" + std::to_string(n) + ch + u, ch, {u}));
      }
    }
    DrainAll();
    for (size_t i = 0; i < subs.size(); ++i) {
      const Entry& e = subs[i];
      Ids want;
      if (e.attached) {
        for (const auto& ch : channels) {
          if (!e.chans.count(ch)) continue;
          want.push_back("b" + std::to_string(n) + ch);
          for (const std::string u : {"u1", "u2"}) {
            if (e.user == u) want.push_back("t" + std::to_string(n) + ch + u);
          }
        }
      }
      EXPECT_EQ(e.sink->Ids(), want) << "step " << n << " sub " << i;
    }
    ++n;
  }
  EXPECT_EQ(hub_.subscriptions(), 0u);
}

}  // namespace
}  // namespace ssebridge
