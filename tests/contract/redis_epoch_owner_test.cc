// The Redis broker's epoch owner (redis_scripts.cc, SSEBRIDGE_EPOCH_LUA)
// against a real redis-server: the epoch records the identity of the server
// history that handed out its seqs ("<run_id>:<master_replid>"), and a
// script that runs under another identity starts a new epoch, so a Redis
// that may have gone back in time never hands out an id twice. What each
// transition does: the first owner, another owner, no owner (data from
// before owners), a restart with its data, a server that refuses INFO, and
// the check turned off.
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "bridge/broker/redis/redis_broker.h"
#include "bridge/broker/redis/redis_url.h"
#include "bridge/core/hub.h"
#include "bridge/core/publish_validation.h"
#include "bridge/sse/sse_encoder.h"
#include "gtest/gtest.h"
#include "tests/harness/redis_sentinel_cluster.h"
#include "tests/harness/redis_server.h"

namespace ssebridge {
namespace {

constexpr char kOwnerKey[] = "{ssebridge}:epoch:owner";

// "<field>:<value>" out of INFO's text.
std::string InfoLine(const std::string& info, absl::string_view field) {
  for (absl::string_view line : absl::StrSplit(info, '\n')) {
    if (absl::ConsumePrefix(&line, field) && absl::ConsumePrefix(&line, ":")) {
      return std::string(absl::StripAsciiWhitespace(line));
    }
  }
  return "";
}

struct Id {
  std::string epoch;
  uint64_t seq = 0;
};
Id ParseId(const std::string& id) {
  Id out;
  const size_t dash = id.rfind('-');
  EXPECT_NE(dash, std::string::npos) << id;
  out.epoch = id.substr(0, dash);
  EXPECT_TRUE(absl::SimpleAtoi(id.substr(dash + 1), &out.seq)) << id;
  return out;
}

class RedisEpochOwnerTest : public testing::Test {
 protected:
  RedisEpochOwnerTest() : hub_(1) {}
  ~RedisEpochOwnerTest() override {
    if (broker_) broker_->Stop();
  }

  void SetUp() override {
    if (ssebridge_it::FindRedisServer().empty()) {
      GTEST_SKIP() << "redis-server is not installed (scripts/setup-deps.sh)";
    }
    std::string error;
    ASSERT_TRUE(redis_.Start(&error)) << error;
  }

  void StartBroker(bool reset_on_primary_change = true) {
    absl::StatusOr<RedisUrl> url = ParseRedisUrl(redis_.url());
    ASSERT_TRUE(url.ok()) << url.status();
    RedisBroker::Options o;
    o.connect.url = *url;
    o.connect.command_timeout = absl::Seconds(2);
    o.backoff.min = absl::Milliseconds(20);
    o.backoff.max = absl::Milliseconds(200);
    o.reset_on_primary_change = reset_on_primary_change;
    o.on_state = [this](const std::string& state, const std::string& detail) {
      std::lock_guard<std::mutex> lock(mu_);
      states_.emplace_back(state, detail);
    };
    broker_ = std::make_unique<RedisBroker>(std::move(o), &hub_, &encoder_);
    ASSERT_TRUE(broker_->Start().ok());
    ASSERT_TRUE(Until([&] { return broker_->ready(); })) << "never ready";
  }

  template <typename Pred>
  bool Until(Pred pred, absl::Duration timeout = absl::Seconds(20)) {
    const absl::Time end = absl::Now() + timeout;
    while (!pred()) {
      if (absl::Now() >= end) return false;
      absl::SleepFor(absl::Milliseconds(5));
    }
    return true;
  }

  // Publishes, retrying while the broker reconnects (after a restart).
  Id Publish(const std::string& data) {
    PublishSpec spec;
    spec.channel = "owner";
    spec.data = data;
    EXPECT_TRUE(ValidatePublishSpec(&spec, PublishLimits{}).ok());
    absl::StatusOr<PublishOutcome> out;
    EXPECT_TRUE(Until([&] {
      out = broker_->Publish(spec);
      return out.ok();
    })) << out.status();
    return out.ok() ? ParseId(out->id) : Id{};
  }

  std::string ServerIdentity() const {
    const std::string info = Get({"INFO"});
    return InfoLine(info, "run_id") + ":" + InfoLine(info, "master_replid");
  }

  // A command's reply text ("" for a nil).
  std::string Get(const std::vector<std::string>& argv) const {
    return ssebridge_it::RespCommand(redis_.port(), argv).text;
  }

  std::vector<std::pair<std::string, std::string>> States(const std::string& name) {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& s : states_) {
      if (s.first == name) out.push_back(s);
    }
    return out;
  }

  Hub hub_;
  SseEncoder encoder_;
  ssebridge_it::RedisServer redis_;
  std::unique_ptr<RedisBroker> broker_;
  std::mutex mu_;
  std::vector<std::pair<std::string, std::string>> states_;
};

TEST_F(RedisEpochOwnerTest, TheFirstScriptRecordsTheServersIdentity) {
  StartBroker();
  const Id first = Publish("a");
  const std::string identity = ServerIdentity();
  ASSERT_EQ(identity.size(), 81u) << identity;  // 40 hex, ':', 40 hex
  EXPECT_EQ(Get({"GET", kOwnerKey}), identity);
  const Id second = Publish("b");
  EXPECT_EQ(second.epoch, first.epoch) << "the same server: the same epoch";
  EXPECT_EQ(second.seq, first.seq + 1);
}

// What a promoted replica or a restored dump holds: an owner that is not
// the server running the script.
TEST_F(RedisEpochOwnerTest, AnotherOwnerStartsANewEpochThatGoesOnFromTheHead) {
  StartBroker();
  const Id before = Publish("a");
  redis_.Command({"SET", kOwnerKey, "another-process:another-history"});
  const Id after = Publish("b");
  EXPECT_NE(after.epoch, before.epoch);
  EXPECT_GT(after.seq, before.seq);
  EXPECT_EQ(Get({"GET", kOwnerKey}), ServerIdentity());
  EXPECT_EQ(Publish("c").epoch, after.epoch) << "replaced once, then kept";
}

// Data written before owners existed (an upgrade): adopted, not reset.
TEST_F(RedisEpochOwnerTest, AnEpochWithoutAnOwnerIsAdopted) {
  StartBroker();
  const Id before = Publish("a");
  redis_.Command({"DEL", kOwnerKey});
  const Id after = Publish("b");
  EXPECT_EQ(after.epoch, before.epoch);
  EXPECT_EQ(Get({"GET", kOwnerKey}), ServerIdentity());
}

TEST_F(RedisEpochOwnerTest, ARestartWithItsDataStartsANewEpoch) {
  StartBroker();
  const Id before = Publish("a");
  const std::string old_identity = ServerIdentity();
  ASSERT_TRUE(redis_.ShutdownSave());
  std::string error;
  ASSERT_TRUE(redis_.Start(&error)) << error;
  ASSERT_NE(ServerIdentity(), old_identity);
  const Id after = Publish("b");
  EXPECT_NE(after.epoch, before.epoch);
  EXPECT_GT(after.seq, before.seq) << "seq goes on from the dump's head";
  EXPECT_EQ(Get({"GET", kOwnerKey}), ServerIdentity());
}

// A Redis user without +info: the check cannot run. Publishing goes on,
// and the operator is told once what that costs.
TEST_F(RedisEpochOwnerTest, AServerThatRefusesInfoLeavesTheCheckOffAndSaysSo) {
  ASSERT_EQ(Get({"ACL", "SETUSER", "default", "-info"}), "OK");
  StartBroker();
  const Id first = Publish("a");
  const Id second = Publish("b");
  EXPECT_EQ(second.epoch, first.epoch);
  EXPECT_EQ(Get({"GET", kOwnerKey}), "") << "no owner recorded";
  const auto warned = States("redis_epoch_owner_unknown");
  ASSERT_FALSE(warned.empty());
  EXPECT_LE(warned.size(), 2u) << "once by the publish path, once by the fan-out at most";
  EXPECT_TRUE(absl::StrContains(warned[0].second, "NOPERM")) << warned[0].second;
  EXPECT_TRUE(absl::StrContains(warned[0].second, "--redis_reset_on_primary_change"))
      << warned[0].second;
}

TEST_F(RedisEpochOwnerTest, WithTheCheckOffAnotherOwnerKeepsTheEpoch) {
  StartBroker(/*reset_on_primary_change=*/false);
  const Id before = Publish("a");
  EXPECT_EQ(Get({"GET", kOwnerKey}), "");
  redis_.Command({"SET", kOwnerKey, "another-process:another-history"});
  EXPECT_EQ(Publish("b").epoch, before.epoch);
  EXPECT_TRUE(States("redis_epoch_owner_unknown").empty());
}

}  // namespace
}  // namespace ssebridge
