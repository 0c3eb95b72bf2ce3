// HubFeed: the exactly-once attach hand-over both brokers use. Events
// dispatched while an attach is pending are kept; Finish hands the hub the
// catch-up plus the kept events after its head that the reader may see.
#include "bridge/broker/hub_feed.h"

#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace ssebridge {
namespace {

struct NullSink : SubscriptionSink {
  void OnReady() override {}
};

class HubFeedTest : public testing::Test {
 protected:
  HubFeedTest() : hub_(1), feed_(&hub_) {}
  std::shared_ptr<Subscription> Sub(std::vector<std::string> channels, std::string user = "") {
    Subscription::Options o;
    o.channels = std::move(channels);
    o.user_id = std::move(user);
    return std::make_shared<Subscription>(o, PolicyTable(), &sink_);
  }
  static EventPtr Ev(uint64_t seq, std::string channel, std::vector<std::string> users = {}) {
    auto ev = std::make_shared<Event>();
    ev->seq = seq;
    ev->id = "e-" + std::to_string(seq);
    ev->channel = std::move(channel);
    ev->type = "message";
    ev->user_ids = std::move(users);
    ev->frame = ev->id;
    return ev;
  }
  std::vector<uint64_t> Received(const std::shared_ptr<Subscription>& sub) {
    hub_.shard(0).Drain();
    std::vector<EventPtr> all;
    std::lock_guard<std::mutex> lock(sub->mu);
    sub->queue.TakeAll(&all);
    std::vector<uint64_t> seqs;
    for (const auto& e : all) seqs.push_back(e->seq);
    return seqs;
  }
  Hub hub_;
  HubFeed feed_;
  NullSink sink_;
};

TEST_F(HubFeedTest, FinishKeepsCatchUpThenOnlyKeptEventsAfterTheHead) {
  auto sub = Sub({"a", "b"}, "alice");
  auto p = feed_.Begin(sub);
  // Live events dispatched while the snapshot was read: some it holds.
  feed_.Dispatch(Ev(4, "a"));
  feed_.Dispatch(Ev(5, "b"));
  feed_.Dispatch(Ev(6, "a", {"bob"}));  // not for alice
  feed_.Dispatch(Ev(7, "b", {"alice"}));
  feed_.DispatchBatch({Ev(8, "a"), Ev(9, "c")});  // c: not its channel
  ASSERT_TRUE(feed_.Finish(p, {Ev(3, "a"), Ev(5, "b")}, 5));
  feed_.Dispatch(Ev(10, "a"));  // live from here on
  EXPECT_EQ(Received(sub), (std::vector<uint64_t>{3, 5, 7, 8, 10})) << "no gap, no duplicate";
  EXPECT_EQ(feed_.pending(), 0u);
  hub_.shard(0).DetachNow(sub.get());
}

TEST_F(HubFeedTest, AbandonedAttachReachesNothing) {
  auto sub = Sub({"a"});
  auto p = feed_.Begin(sub);
  feed_.Dispatch(Ev(1, "a"));
  feed_.Abandon(p);
  EXPECT_FALSE(feed_.Finish(p, {Ev(1, "a")}, 1)) << "finish after abandon";
  EXPECT_EQ(hub_.subscriptions(), 0u);
  EXPECT_EQ(feed_.pending(), 0u);
}

TEST_F(HubFeedTest, RefusedAttachIsClosedAsBrokerUnavailable) {
  auto sub = Sub({"a"});
  hub_.AttachRefused(sub);
  feed_.Dispatch(Ev(1, "a"));
  EXPECT_TRUE(Received(sub).empty());
  std::lock_guard<std::mutex> lock(sub->mu);
  EXPECT_TRUE(sub->broker_unavailable);
  EXPECT_TRUE(sub->overflowed);
}

}  // namespace
}  // namespace ssebridge
