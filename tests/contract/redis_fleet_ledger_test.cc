// RedisFleet's ledger against a real redis-server: a stream let in while
// Redis was away (TakeStream not OK, then CountUnchecked) is counted in the
// fleet once Redis is back, so the user's other replicas enforce the
// per-user limit with it, and giving it back frees the slot there too.
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "bridge/broker/redis/redis_fleet.h"
#include "bridge/broker/redis/redis_url.h"
#include "gtest/gtest.h"
#include "tests/harness/redis_server.h"

namespace ssebridge {
namespace {

constexpr absl::Duration kWait = absl::Seconds(20);

class RedisFleetLedgerTest : public testing::Test {
 protected:
  void SetUp() override {
    if (ssebridge_it::FindRedisServer().empty()) {
      GTEST_SKIP() << "redis-server is not installed (scripts/setup-deps.sh)";
    }
    std::string error;
    ASSERT_TRUE(redis_.Start(&error)) << error;
  }

  std::unique_ptr<RedisFleet> StartFleet(const std::string& name) {
    absl::StatusOr<RedisUrl> url = ParseRedisUrl(redis_.url());
    EXPECT_TRUE(url.ok()) << url.status();
    RedisFleet::Options o;
    o.connect.url = *url;
    o.connect.connect_timeout = absl::Milliseconds(500);
    o.connect.command_timeout = absl::Milliseconds(500);
    o.replica = name;
    o.backoff.min = absl::Milliseconds(20);
    o.backoff.max = absl::Milliseconds(200);
    auto fleet = std::make_unique<RedisFleet>(o);
    EXPECT_TRUE(fleet->Start(Fleet::Hooks{}).ok());
    return fleet;
  }

  // How many streams of `key` Redis counts for `replica`.
  std::string CountIn(const std::string& key, const std::string& replica) {
    return redis_.Command({"EVAL", "return tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')",
                           "1", absl::StrCat("{ssebridge}:fleet:streams:", key), replica});
  }

  bool WaitForCount(const std::string& key, const std::string& replica, const std::string& want) {
    const absl::Time end = absl::Now() + kWait;
    while (CountIn(key, replica) != want && absl::Now() < end) {
      absl::SleepFor(absl::Milliseconds(10));
    }
    return CountIn(key, replica) == want;
  }

  ssebridge_it::RedisServer redis_;
};

TEST_F(RedisFleetLedgerTest, AStreamLetInWhileRedisWasAwayCountsOnceRedisIsBack) {
  std::unique_ptr<RedisFleet> a = StartFleet("replica-a");
  std::unique_ptr<RedisFleet> b = StartFleet("replica-b");
  const std::string key = FleetStreamKey("", "carol");
  size_t held = 0;

  redis_.Kill();
  absl::StatusOr<bool> taken = a->TakeStream(key, 1, &held);
  ASSERT_FALSE(taken.ok()) << "Redis is gone, yet the take was answered";
  a->CountUnchecked(key);  // what ConnectionLimits does when it lets the stream in

  // Redis comes back empty; A's fleet reconnects and writes its ledger.
  std::string error;
  ASSERT_TRUE(redis_.Start(&error)) << error;
  ASSERT_TRUE(WaitForCount(key, "replica-a", ":1")) << "Redis never learnt of A's stream";

  // B enforces carol's limit of 1 with A's stream in it.
  absl::StatusOr<bool> on_b = b->TakeStream(key, 1, &held);
  ASSERT_TRUE(on_b.ok()) << on_b.status();
  EXPECT_FALSE(*on_b);
  EXPECT_EQ(held, 1u);

  // Given back on A, the slot is free on B.
  a->ReleaseStream(key);
  ASSERT_TRUE(WaitForCount(key, "replica-a", ":0")) << "A's release never reached Redis";
  on_b = b->TakeStream(key, 1, &held);
  ASSERT_TRUE(on_b.ok()) << on_b.status();
  EXPECT_TRUE(*on_b);

  a->Stop(absl::Now() + absl::Seconds(5));
  b->Stop(absl::Now() + absl::Seconds(5));
}

}  // namespace
}  // namespace ssebridge
