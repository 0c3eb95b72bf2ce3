// BrokerContractTest: the promises of broker.h, checked the same way over
// every broker, each made by name through a BrokerRegistry (as the binary
// makes them). The Redis broker runs against a real redis-server on a free
// loopback port (skipped only when redis-server is not installed).
//
// A new broker adds one Register() line to ContractBrokers() (the suite is
// instantiated over its names) and must pass every case here.
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "bridge/broker/broker.h"
#include "bridge/broker/broker_registry.h"
#include "bridge/broker/memory/memory_broker.h"
#include "bridge/broker/redis/redis_broker.h"
#include "bridge/broker/redis/redis_url.h"
#include "bridge/core/names.h"
#include "bridge/core/publish_validation.h"
#include "bridge/sse/sse_encoder.h"
#include "gtest/gtest.h"
#include "tests/harness/redis_server.h"
#include "tests/harness/temp_dir.h"
#include "tests/harness/test_certs.h"

namespace ssebridge {
namespace {

using Strings = std::vector<std::string>;

// The limits every broker under test gets, whatever it is.
struct ContractLimits {
  size_t history_events = 1000;
  RetainedLimits retained;
};

// `redis_ca_file`: the CA of a rediss:// URL's server ("redis_tls").
BrokerRegistry ContractBrokers(const ContractLimits& limits, const std::string& redis_url,
                               const std::string& redis_ca_file) {
  BrokerRegistry brokers;
  brokers.Register(
      "memory",
      [limits](Hub* hub, const EventEncoder* encoder) -> absl::StatusOr<std::unique_ptr<Broker>> {
        MemoryBroker::Options o;
        o.history.max_events = limits.history_events;
        o.retained = limits.retained;
        return std::make_unique<MemoryBroker>(o, hub, encoder);
      });
  auto redis = [limits, redis_url, redis_ca_file](
                   Hub* hub,
                   const EventEncoder* encoder) -> absl::StatusOr<std::unique_ptr<Broker>> {
    absl::StatusOr<RedisUrl> url = ParseRedisUrl(redis_url);
    if (!url.ok()) return url.status();
    RedisBroker::Options o;
    o.connect.url = *url;
    o.connect.command_timeout = absl::Seconds(2);
    if (url->tls) {
      RedisTlsOptions tls;
      tls.ca_file = redis_ca_file;
      absl::StatusOr<std::shared_ptr<const RedisTls>> context = RedisTls::Create(tls);
      if (!context.ok()) return context.status();
      o.connect.tls = std::move(*context);
    }
    o.history_size = limits.history_events;
    o.retained = limits.retained;
    o.backoff.min = absl::Milliseconds(20);
    o.backoff.max = absl::Milliseconds(200);
    return std::make_unique<RedisBroker>(o, hub, encoder);
  };
  brokers.Register("redis", redis);
  // The same broker with every byte through TLS (rediss://).
  brokers.Register("redis_tls", redis);
  return brokers;
}

struct NullSink : SubscriptionSink {
  void OnReady() override {}
};

struct Reader {
  std::shared_ptr<Subscription> sub;
  std::vector<EventPtr> frames;  // everything queued, control frames too
  std::vector<EventPtr> Events() const {
    std::vector<EventPtr> out;
    for (const auto& f : frames) {
      if (!f->is_control()) out.push_back(f);
    }
    return out;
  }
  Strings Data() const {
    Strings out;
    for (const auto& e : Events()) out.push_back(e->data);
    return out;
  }
  bool Has(const std::string& data) const {
    for (const auto& e : Events()) {
      if (e->data == data) return true;
    }
    return false;
  }
};

uint64_t SeqOf(const std::string& id) {
  uint64_t seq = 0;
  const size_t dash = id.rfind('-');
  EXPECT_NE(dash, std::string::npos) << id;
  EXPECT_TRUE(absl::SimpleAtoi(id.substr(dash + 1), &seq)) << id;
  return seq;
}

class BrokerContractTest : public testing::TestWithParam<std::string> {
 protected:
  BrokerContractTest() : hub_(2) {}
  ~BrokerContractTest() override {
    if (broker_) broker_->Stop();
    for (auto& r : readers_) {
      for (int i = 0; i < hub_.shard_count(); ++i) hub_.shard(i).DetachNow(r->sub.get());
    }
  }

  void SetUp() override {
    if (IsRedis() && ssebridge_it::FindRedisServer().empty()) {
      GTEST_SKIP() << "redis-server is not installed (scripts/setup-deps.sh)";
    }
  }

  // Makes and starts the broker under test; waits until it is ready.
  void Start(ContractLimits limits = {}) {
    std::string url;
    std::string ca_file;
    if (GetParam() == "redis_tls") {
      ca_ = ssebridge_it::TestCa::Create("contract CA");
      ASSERT_NE(ca_, nullptr);
      const ssebridge_it::PemPair server = ca_->Issue("redis", {"IP:127.0.0.1"}, true);
      ca_file = dir_.Write("ca.pem", ca_->cert_pem());
      redis_.EnableTls(dir_.Write("redis.crt", server.cert), dir_.Write("redis.key", server.key),
                       ca_file, /*require_client_cert=*/false);
    }
    if (IsRedis()) {
      std::string error;
      ASSERT_TRUE(redis_.Start(&error)) << error;
      url = GetParam() == "redis_tls" ? redis_.tls_url() : redis_.url();
    }
    absl::StatusOr<std::unique_ptr<Broker>> made =
        ContractBrokers(limits, url, ca_file).Make(GetParam(), &hub_, &encoder_);
    ASSERT_TRUE(made.ok()) << made.status();
    broker_ = std::move(*made);
    ASSERT_TRUE(broker_->Start().ok());
    ASSERT_TRUE(Until([&] { return broker_->ready(); })) << "never ready";
  }

  // Polls (draining the hub, as the writer threads would) until `pred`.
  template <typename Pred>
  bool Until(Pred pred, absl::Duration timeout = absl::Seconds(10)) {
    const absl::Time end = absl::Now() + timeout;
    for (;;) {
      Drain();
      if (pred()) return true;
      if (absl::Now() >= end) return false;
      absl::SleepFor(absl::Milliseconds(2));
    }
  }

  void Drain() {
    for (int i = 0; i < hub_.shard_count(); ++i) hub_.shard(i).Drain();
    for (auto& r : readers_) {
      std::vector<EventPtr> got;
      {
        std::lock_guard<std::mutex> lock(r->sub->mu);
        r->sub->queue.TakeAll(&got);
      }
      r->frames.insert(r->frames.end(), got.begin(), got.end());
    }
  }

  absl::StatusOr<PublishOutcome> Publish(const std::string& channel, const std::string& data,
                                         const std::string& type = "", Strings users = {},
                                         bool retain = false, const std::string& key = "") {
    PublishSpec spec;
    spec.channel = channel;
    spec.data = data;
    spec.type = type;
    spec.user_ids = std::move(users);
    spec.retain = retain;
    spec.idempotency_key = key;
    absl::Status valid = ValidatePublishSpec(&spec, PublishLimits{});
    if (!valid.ok()) return valid;
    return broker_->Publish(spec);
  }
  std::string MustPublish(const std::string& channel, const std::string& data,
                          const std::string& type = "", Strings users = {}, bool retain = false) {
    absl::StatusOr<PublishOutcome> out = Publish(channel, data, type, std::move(users), retain);
    EXPECT_TRUE(out.ok()) << out.status();
    return out.ok() ? out->id : "";
  }

  // Attaches a reader; nullptr (and a failure) when the broker refuses.
  Reader* Attach(Strings channels, const std::string& cursor = "", const std::string& user = "") {
    Subscription::Options o;
    o.channels = std::move(channels);
    o.user_id = user;
    o.queue_bytes = 16 << 20;
    o.resuming = !cursor.empty();
    auto r = std::make_unique<Reader>();
    r->sub = std::make_shared<Subscription>(std::move(o), PolicyTable(), &sink_);
    absl::Status s = broker_->Attach(r->sub, cursor);
    EXPECT_TRUE(s.ok()) << s;
    if (!s.ok()) return nullptr;
    readers_.push_back(std::move(r));
    return readers_.back().get();
  }

  // Publishes a marker on `channel` and waits until `r` has it: whatever
  // was owed to `r` before has arrived by then (per-channel order).
  void Settle(Reader* r, const std::string& channel) {
    const std::string marker = absl::StrCat("marker-", ++markers_);
    MustPublish(channel, marker);
    ASSERT_TRUE(Until([&] { return r->Has(marker); })) << marker;
  }

  Hub hub_;
  SseEncoder encoder_;
  NullSink sink_;
  bool IsRedis() const { return absl::StartsWith(GetParam(), "redis"); }

  ssebridge_it::TempDir dir_;
  std::unique_ptr<ssebridge_it::TestCa> ca_;
  ssebridge_it::RedisServer redis_;
  std::unique_ptr<Broker> broker_;
  std::vector<std::unique_ptr<Reader>> readers_;
  int markers_ = 0;
};

TEST_P(BrokerContractTest, IdsAreEpochAndASequenceIncreasingAcrossChannels) {
  Start();
  if (HasFatalFailure()) return;
  uint64_t last = 0;
  for (const char* channel : {"a", "b", "a", "c", "b"}) {
    const std::string id = MustPublish(channel, "x");
    EXPECT_TRUE(absl::StartsWith(id, broker_->epoch() + "-")) << id;
    const uint64_t seq = SeqOf(id);
    EXPECT_GT(seq, last) << id;
    last = seq;
  }
}

TEST_P(BrokerContractTest, CatchUpAfterACursorIsExactlyOnce) {
  Start();
  if (HasFatalFailure()) return;
  Strings ids;
  for (int i = 1; i <= 5; ++i) ids.push_back(MustPublish("a", absl::StrCat("a", i)));
  MustPublish("b", "b6");
  MustPublish("c", "c7");  // not a channel of the reader
  Reader* r = Attach({"a", "b"}, ids[1]);
  ASSERT_NE(r, nullptr);
  MustPublish("a", "a8");
  Settle(r, "b");
  Strings data = r->Data();
  data.pop_back();  // the marker
  EXPECT_EQ(data, (Strings{"a3", "a4", "a5", "b6", "a8"}));
  uint64_t last = 0;
  for (const auto& e : r->Events()) {
    EXPECT_GT(e->seq, last) << "in order, no duplicate";
    last = e->seq;
  }
}

TEST_P(BrokerContractTest, UnknownEpochAndTooOldCursorsGetAResetFirst) {
  ContractLimits limits;
  limits.history_events = 5;
  Start(limits);
  if (HasFatalFailure()) return;
  // Redis trims streams approximately (MAXLEN ~), whole nodes at a time:
  // enough events that the first is gone everywhere.
  std::string first;
  for (int i = 0; i < 300; ++i) {
    const std::string id = MustPublish("a", absl::StrCat("e", i));
    if (i == 0) first = id;
  }
  MustPublish("a", "kept", "state", {}, /*retain=*/true);
  for (const std::string& cursor :
       {std::string("someotherepoch-1"), first, std::string("not an id")}) {
    Reader* r = Attach({"a"}, cursor);
    ASSERT_NE(r, nullptr);
    ASSERT_TRUE(Until([&] { return !r->Events().empty(); })) << cursor;
    Settle(r, "a");
    const std::vector<EventPtr> events = r->Events();
    EXPECT_EQ(events[0]->type, kResetEventType) << cursor;
    ASSERT_GE(events.size(), 3u);
    EXPECT_EQ(events[1]->data, "kept") << "then the retained values";
  }
}

TEST_P(BrokerContractTest, RetainedValuesOnePerTypeEndWithTheHeadCursor) {
  Start();
  if (HasFatalFailure()) return;
  MustPublish("a", "v1", "s", {}, true);
  MustPublish("a", "v2", "s", {}, true);  // replaces v1
  MustPublish("a", "w", "t", {}, true);
  MustPublish("b", "other channel", "s", {}, true);
  const std::string head = MustPublish("a", "not retained");
  Reader* r = Attach({"a"});
  ASSERT_NE(r, nullptr);
  ASSERT_TRUE(Until([&] { return !r->frames.empty() && r->frames.back()->id == head; }));
  EXPECT_EQ(r->Data(), (Strings{"v2", "w"}));
  EXPECT_TRUE(r->frames.back()->is_control()) << "an id-only cursor block ends it";
}

TEST_P(BrokerContractTest, TargetedEventsAndValuesReachOnlyTheirUsers) {
  Start();
  if (HasFatalFailure()) return;
  MustPublish("a", "pub", "s", {}, true);
  MustPublish("a", "for-alice", "s", {"alice"}, true);
  MustPublish("a", "for-both", "p", {"alice", "bob"}, true);
  Reader* alice = Attach({"a"}, "", "alice");
  Reader* bob = Attach({"a"}, "", "bob");
  Reader* anon = Attach({"a"});
  ASSERT_TRUE(alice && bob && anon);
  MustPublish("a", "live-bob", "", {"bob"});
  for (Reader* r : {alice, bob, anon}) Settle(r, "a");
  auto without_marker = [](const Strings& d) {
    Strings out;
    for (const auto& s : d) {
      if (!absl::StartsWith(s, "marker-")) out.push_back(s);
    }
    return out;
  };
  EXPECT_EQ(without_marker(alice->Data()), (Strings{"pub", "for-alice", "for-both"}));
  EXPECT_EQ(without_marker(bob->Data()), (Strings{"pub", "for-both", "live-bob"}));
  EXPECT_EQ(without_marker(anon->Data()), (Strings{"pub"}));
}

TEST_P(BrokerContractTest, AnIdempotencyKeyReplaysTheFirstOutcome) {
  Start();
  if (HasFatalFailure()) return;
  Reader* r = Attach({"a"});
  ASSERT_NE(r, nullptr);
  absl::StatusOr<PublishOutcome> first = Publish("a", "once", "", {}, false, "k1");
  absl::StatusOr<PublishOutcome> again = Publish("a", "once", "", {}, false, "k1");
  ASSERT_TRUE(first.ok() && again.ok());
  EXPECT_FALSE(first->replayed);
  EXPECT_TRUE(again->replayed);
  EXPECT_EQ(again->id, first->id);
  Settle(r, "a");
  EXPECT_EQ(r->Data(), (Strings{"once", "marker-1"}));
}

TEST_P(BrokerContractTest, AttachWhilePublishingHasNoGapAndNoDuplicate) {
  Start();
  if (HasFatalFailure()) return;
  constexpr int kEvents = 400;
  std::mutex mu;
  Strings ids;
  std::atomic<bool> failed{false};
  std::thread publisher([&] {
    for (int i = 0; i < kEvents && !failed; ++i) {
      absl::StatusOr<PublishOutcome> out = Publish("a", absl::StrCat(i));
      if (!out.ok()) {
        failed = true;
        break;
      }
      std::lock_guard<std::mutex> lock(mu);
      ids.push_back(out->id);
    }
  });
  auto published = [&] {
    std::lock_guard<std::mutex> lock(mu);
    return ids.size();
  };
  ASSERT_TRUE(Until([&] { return published() >= 50 || failed; }));
  std::string cursor;
  {
    std::lock_guard<std::mutex> lock(mu);
    cursor = ids[20];
  }
  Reader* resumed = Attach({"a"}, cursor);
  ASSERT_TRUE(Until([&] { return published() >= 150 || failed; }));
  Reader* fresh = Attach({"a"});
  publisher.join();
  ASSERT_FALSE(failed);
  ASSERT_TRUE(resumed && fresh);
  // One more after the burst: a fresh reader that attached after its end
  // still has something to receive.
  const std::string last =
      MustPublish("a", absl::StrCat(kEvents)).empty() ? "" : absl::StrCat(kEvents);
  ASSERT_TRUE(Until([&] { return resumed->Has(last) && fresh->Has(last); }));
  Strings want;
  for (int i = 21; i <= kEvents; ++i) want.push_back(absl::StrCat(i));
  EXPECT_EQ(resumed->Data(), want);
  // A fresh reader starts wherever the head was: a gapless suffix.
  const Strings got = fresh->Data();
  ASSERT_FALSE(got.empty());
  int first = 0;
  ASSERT_TRUE(absl::SimpleAtoi(got.front(), &first));
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_EQ(got[i], absl::StrCat(first + static_cast<int>(i))) << "at " << i;
  }
  EXPECT_EQ(got.back(), last);
}

TEST_P(BrokerContractTest, RetainedCapsRefuseNamingTheFlagAndStoreNothing) {
  ContractLimits limits;
  limits.retained.max_per_channel = 2;
  // Each broker counts a value's bytes its own way (memory: the event as
  // held, about twice the data; Redis: the stored field and payload), so
  // the sizes fit both: 4000 fits, 4000 + 7000 does not.
  limits.retained.max_bytes = 10000;
  Start(limits);
  if (HasFatalFailure()) return;
  Reader* r = Attach({"a", "b"});
  ASSERT_NE(r, nullptr);
  const std::string before = MustPublish("a", "t1", "t1", {}, true);
  MustPublish("a", "t2", "t2", {}, true);
  absl::StatusOr<PublishOutcome> refused = Publish("a", "t3", "t3", {}, true);
  ASSERT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted) << refused.status();
  EXPECT_TRUE(absl::StrContains(refused.status().message(), "--max_retained_per_channel"))
      << refused.status();
  const std::string after = MustPublish("a", "t1 again", "t1", {}, true);  // same slot
  EXPECT_EQ(SeqOf(after), SeqOf(before) + 2) << "the refused publish took no id";
  MustPublish("b", std::string(4000, 'x'), "big", {}, true);
  refused = Publish("a", std::string(7000, 'y'), "t2", {}, true);
  ASSERT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted) << refused.status();
  EXPECT_TRUE(absl::StrContains(refused.status().message(), "--max_retained_bytes"))
      << refused.status();
  Settle(r, "a");
  for (const std::string& d : r->Data()) EXPECT_NE(d.substr(0, 2), "yy") << "not delivered";
  EXPECT_FALSE(r->Has("t3"));
  Reader* late = Attach({"a"});
  ASSERT_NE(late, nullptr);
  Settle(late, "a");
  EXPECT_EQ(late->Data(), (Strings{"t2", "t1 again", "marker-2"}));
}

TEST_P(BrokerContractTest, RetainedValuesExpireAfterTheirTtl) {
  ContractLimits limits;
  limits.retained.ttl = absl::Minutes(1);
  Start(limits);
  if (HasFatalFailure()) return;
  MustPublish("a", "old", "s", {}, true);
  MustPublish("a", "old-alice", "s", {"alice"}, true);
  broker_->Sweep(absl::Now());
  EXPECT_EQ(broker_->metrics().retained_expired, 0u);
  broker_->Sweep(absl::Now() + absl::Minutes(2));
  EXPECT_EQ(broker_->metrics().retained_expired, 2u);
  Reader* r = Attach({"a"}, "", "alice");
  ASSERT_NE(r, nullptr);
  Settle(r, "a");
  EXPECT_EQ(r->Data(), (Strings{"marker-1"}));
  // The slot is free again, and counted from zero.
  MustPublish("a", "new", "s", {}, true);
  Reader* late = Attach({"a"});
  ASSERT_NE(late, nullptr);
  Settle(late, "a");
  EXPECT_EQ(late->Data(), (Strings{"new", "marker-2"}));
}

TEST_P(BrokerContractTest, ReadyWhileItsStoreIsUpAndAttachFailsAsAStatusWhenNot) {
  Start();
  if (HasFatalFailure()) return;
  EXPECT_TRUE(broker_->ready());
  EXPECT_TRUE(broker_->metrics().ready);
  if (!IsRedis()) return;  // no store to lose
  redis_.Kill();
  ASSERT_TRUE(Until([&] { return !broker_->ready(); }));
  EXPECT_FALSE(broker_->metrics().ready);
  Subscription::Options o;
  o.channels = {"a"};
  auto sub = std::make_shared<Subscription>(std::move(o), PolicyTable(), &sink_);
  absl::Status s = broker_->Attach(sub, "");
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  Drain();
  EXPECT_EQ(hub_.subscriptions(), 0u) << "a refused reader is not attached";
  {
    std::lock_guard<std::mutex> lock(sub->mu);
    EXPECT_FALSE(sub->overflowed) << "nor flagged: the door decides";
  }
  EXPECT_EQ(Publish("a", "x").status().code(), absl::StatusCode::kUnavailable);
  EXPECT_GE(broker_->metrics().store_connects, 1u);
}

INSTANTIATE_TEST_SUITE_P(Brokers, BrokerContractTest,
                         testing::ValuesIn(ContractBrokers({}, "", "").names()),
                         [](const testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

}  // namespace
}  // namespace ssebridge
