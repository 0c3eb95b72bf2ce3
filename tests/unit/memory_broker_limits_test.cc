// MemoryBroker's memory bounds: retained values capped per channel and in
// all (refused, naming the flag), expired after --retained_ttl and freed;
// connect cost follows what the reader receives (a counter, not a timer);
// history held under a global budget, evicting oldest first (resets follow).
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "bridge/broker/memory/memory_broker.h"
#include "bridge/core/names.h"
#include "bridge/sse/sse_encoder.h"
#include "gtest/gtest.h"
#include "tests/unit/fixed_clock.h"

namespace ssebridge {
namespace {

struct IdleSink : SubscriptionSink {
  void OnReady() override {}
};

class MemoryBrokerLimitsTest : public testing::Test {
 protected:
  MemoryBrokerLimitsTest() : hub_(1) {
    options_.epoch = "ep1";
    options_.clock = [this] { return now_; };
  }
  MemoryBroker& broker() {
    if (!broker_) broker_ = std::make_unique<MemoryBroker>(options_, &hub_, &encoder_);
    return *broker_;
  }
  absl::StatusOr<PublishOutcome> Publish(const std::string& channel, std::string data,
                                         const std::string& type, bool retain,
                                         std::vector<std::string> users = {}) {
    PublishSpec spec;
    spec.channel = channel;
    spec.type = type;
    spec.data = std::move(data);
    spec.retain = retain;
    spec.user_ids = std::move(users);
    return broker().Publish(spec);
  }
  // The events (not control frames) a new reader's catch-up holds.
  std::vector<EventPtr> Connect(std::vector<std::string> channels, const std::string& user,
                                const std::string& cursor = "") {
    Subscription::Options o;
    o.channels = std::move(channels);
    o.user_id = user;
    o.queue_bytes = 64 << 20;
    auto sub = std::make_shared<Subscription>(std::move(o), PolicyTable(), &sink_);
    EXPECT_TRUE(broker().Attach(sub, cursor).ok());
    hub_.shard(0).Drain();
    std::vector<EventPtr> all;
    {
      std::lock_guard<std::mutex> lock(sub->mu);
      sub->queue.TakeAll(&all);
    }
    hub_.shard(0).DetachNow(sub.get());
    std::vector<EventPtr> events;
    for (EventPtr& ev : all) {
      if (!ev->is_control()) events.push_back(std::move(ev));
    }
    return events;
  }

  Hub hub_;
  SseEncoder encoder_;
  IdleSink sink_;
  absl::Time now_ = kT0;
  MemoryBroker::Options options_;
  std::unique_ptr<MemoryBroker> broker_;
};

TEST_F(MemoryBrokerLimitsTest, RetainedPerChannelCapRefusesANewSlotNamingTheFlag) {
  options_.retained.max_per_channel = 3;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(Publish("c", "v", absl::StrCat("t", i), true).ok());
  }
  const uint64_t head = broker().head_seq();
  absl::StatusOr<PublishOutcome> refused = Publish("c", "v", "t3", true);
  ASSERT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(absl::StrContains(refused.status().message(), "--max_retained_per_channel"))
      << refused.status();
  EXPECT_EQ(broker().head_seq(), head) << "a refused publish takes no id and is not sent";
  EXPECT_TRUE(Publish("c", "v2", "t1", true).ok()) << "replacing a slot is not a new one";
  EXPECT_TRUE(Publish("other", "v", "t3", true).ok()) << "the cap is per channel";
  EXPECT_TRUE(Publish("c", "v", "t3", false).ok()) << "non-retained publishes go on";
  EXPECT_EQ(broker().metrics().retained_values, 4u);
}

// The review's case: thousands of retained values with distinct user_ids on
// one channel grew memory without bound. Now they stop at the byte budget.
TEST_F(MemoryBrokerLimitsTest, RetainedBytesAreCappedAcrossChannels) {
  options_.retained.max_bytes = 1 << 20;
  options_.retained.max_per_channel = 100000;
  const std::string value(60 * 1024, 'x');
  int accepted = 0;
  int refused = 0;
  for (int i = 0; i < 3000; ++i) {
    absl::StatusOr<PublishOutcome> out =
        Publish(absl::StrCat("c", i % 5), value, "state", true, {absl::StrCat("u", i)});
    if (out.ok()) {
      ++accepted;
    } else {
      ++refused;
      ASSERT_EQ(out.status().code(), absl::StatusCode::kResourceExhausted);
      ASSERT_TRUE(absl::StrContains(out.status().message(), "--max_retained_bytes"));
    }
  }
  const BrokerMetrics m = broker().metrics();
  EXPECT_LE(m.retained_bytes, size_t{1} << 20);
  EXPECT_EQ(m.retained_values, static_cast<uint64_t>(accepted));
  EXPECT_GE(accepted, 5);  // a value is held as data and frame: ~120 KiB each
  EXPECT_GT(refused, 2900);
}

TEST_F(MemoryBrokerLimitsTest, RetainedValuesExpireAndAreFreed) {
  options_.retained.ttl = absl::Minutes(5);
  options_.history.max_age = absl::Minutes(1);
  ASSERT_TRUE(Publish("c", "old", "a", true).ok());
  ASSERT_TRUE(Publish("c", "old", "b", true, {"alice"}).ok());
  now_ += absl::Minutes(3);
  ASSERT_TRUE(Publish("c", "newer", "b", true, {"bob"}).ok());
  broker().Sweep(now_);
  EXPECT_EQ(broker().metrics().retained_values, 3u) << "none is old enough yet";
  now_ += absl::Minutes(3);  // the first two are 6 min old, the third 3 min
  broker().Sweep(now_);
  BrokerMetrics m = broker().metrics();
  EXPECT_EQ(m.retained_values, 1u);
  EXPECT_EQ(m.retained_expired, 2u);
  EXPECT_TRUE(Connect({"c"}, "alice").empty());
  EXPECT_EQ(Connect({"c"}, "bob").size(), 1u);
  now_ += absl::Minutes(3);
  broker().Sweep(now_);
  m = broker().metrics();
  EXPECT_EQ(m.retained_values, 0u);
  EXPECT_EQ(m.retained_bytes, 0u);
  EXPECT_EQ(m.history_bytes, 0u);
  EXPECT_EQ(broker().channels(), 0u) << "the channel itself is freed";
}

TEST_F(MemoryBrokerLimitsTest, ExpiredButUnsweptValuesAreNotServed) {
  options_.retained.ttl = absl::Minutes(5);
  ASSERT_TRUE(Publish("c", "v", "a", true).ok());
  now_ += absl::Minutes(6);
  EXPECT_TRUE(Connect({"c"}, "").empty());
}

// A new reader looks at the public values of its channels and its own
// user's, however many values other users have: O(what it receives).
TEST_F(MemoryBrokerLimitsTest, ConnectCostDoesNotGrowWithOtherUsersValues) {
  options_.retained.max_per_channel = 100000;
  ASSERT_TRUE(Publish("c", "all", "public", true).ok());
  for (int i = 0; i < 2000; ++i) {
    ASSERT_TRUE(Publish("c", "mine", "state", true, {absl::StrCat("u", i)}).ok());
  }
  ASSERT_TRUE(Publish("c", "pair", "pair", true, {"u7", "u8"}).ok());
  uint64_t before = broker().retained_examined();
  std::vector<EventPtr> got = Connect({"c"}, "u7");
  EXPECT_EQ(got.size(), 3u);  // public, its own, the pair's
  EXPECT_EQ(broker().retained_examined() - before, 3u);
  before = broker().retained_examined();
  got = Connect({"c"}, "");
  EXPECT_EQ(got.size(), 1u);
  EXPECT_EQ(broker().retained_examined() - before, 1u);
  before = broker().retained_examined();
  got = Connect({"c", "empty"}, "nobody");
  EXPECT_EQ(got.size(), 1u);
  EXPECT_EQ(broker().retained_examined() - before, 1u);
}

TEST_F(MemoryBrokerLimitsTest, TargetedSlotsAreIndexedPerUserAndReplaced) {
  ASSERT_TRUE(Publish("c", "one", "s", true, {"a", "b"}).ok());
  ASSERT_TRUE(Publish("c", "two", "s", true, {"a", "b"}).ok());  // same slot
  ASSERT_TRUE(Publish("c", "solo", "s", true, {"a"}).ok());      // another slot
  std::vector<EventPtr> a = Connect({"c"}, "a");
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0]->data, "two");
  EXPECT_EQ(a[1]->data, "solo");
  std::vector<EventPtr> b = Connect({"c"}, "b");
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0]->data, "two");
  EXPECT_EQ(broker().metrics().retained_values, 2u);
}

// Defaults used to allow 100,000 channels x 1 MiB of history. Past the
// global budget the oldest events go, and a cursor that needed them resets.
TEST_F(MemoryBrokerLimitsTest, HistoryStaysUnderTheGlobalBudget) {
  options_.max_history_bytes_total = 256 * 1024;
  const std::string value(4096, 'h');
  std::string first_id;
  for (int i = 0; i < 500; ++i) {
    absl::StatusOr<PublishOutcome> out = Publish(absl::StrCat("ch", i % 50), value, "m", false);
    ASSERT_TRUE(out.ok()) << out.status();
    if (i == 0) first_id = out->id;
    ASSERT_LE(broker().metrics().history_bytes, 256u * 1024);
  }
  const BrokerMetrics m = broker().metrics();
  EXPECT_GT(m.history_budget_evictions, 400u);
  EXPECT_GT(m.history_bytes, 200u * 1024) << "the budget is used, not emptied";
  // ch0's first event is long gone: its cursor resets rather than skipping.
  Subscription::Options o;
  o.channels = {"ch0"};
  auto sub = std::make_shared<Subscription>(std::move(o), PolicyTable(), &sink_);
  ASSERT_TRUE(broker().Attach(sub, first_id).ok());
  hub_.shard(0).Drain();
  std::vector<EventPtr> all;
  {
    std::lock_guard<std::mutex> lock(sub->mu);
    sub->queue.TakeAll(&all);
  }
  hub_.shard(0).DetachNow(sub.get());
  ASSERT_FALSE(all.empty());
  EXPECT_EQ(all.front()->type, kResetEventType);
  // The newest events are kept: a cursor one event back replays it.
  absl::StatusOr<PublishOutcome> last = Publish("ch0", value, "m", false);
  ASSERT_TRUE(last.ok());
  std::vector<EventPtr> replay =
      Connect({"ch0"}, "", absl::StrCat("ep1-", broker().head_seq() - 1));
  ASSERT_EQ(replay.size(), 1u);
  EXPECT_EQ(replay[0]->id, last->id);
}

}  // namespace
}  // namespace ssebridge
