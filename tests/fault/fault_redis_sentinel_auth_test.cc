// Redis Sentinel with a password on the sentinels themselves (requirepass;
// --redis_sentinel_password_file), against real redis-server and
// redis-sentinel processes:
//   - with the right password the bridge finds the primary through the
//     sentinels (which refuse anyone who did not AUTH) and an event goes
//     from publish to a stream;
//   - with a wrong password, or none, the bridge starts but never becomes
//     ready: /readyz stays 503 and the log says the sentinels refused, and
//     names --redis_sentinel_password_file.
#include <iostream>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/harness/bridge_process.h"
#include "tests/harness/grpc_client.h"
#include "tests/harness/redis_fixture.h"
#include "tests/harness/redis_sentinel_cluster.h"
#include "tests/harness/sentinel_fixture.h"
#include "tests/harness/sse_client.h"
#include "tests/harness/temp_dir.h"
#include "tests/harness/test_helpers.h"

namespace ssebridge_it {
namespace {

constexpr const char* kSentinelPassword = "s3ntinel-only pw";

class RedisSentinelAuthSlowTest : public RedisSentinelTest {
 protected:
  void SetUp() override {
    cluster_.SetSentinelPassword(kSentinelPassword);
    RedisSentinelTest::SetUp();
  }

  std::vector<std::string> BridgeFlags(const std::string& password_file) const {
    std::vector<std::string> flags = {
        "--broker=redis",
        "--redis_sentinels=" + cluster_.SentinelsFlag(),
        std::string("--redis_sentinel_master=") + RedisSentinelCluster::kMaster,
        "--redis_sentinel_timeout=500ms",
        "--redis_reconnect_min=50ms",
        "--redis_reconnect_max=300ms"};
    if (!password_file.empty()) flags.push_back("--redis_sentinel_password_file=" + password_file);
    return flags;
  }

  TempDir dir_;
};

TEST_F(RedisSentinelAuthSlowTest, RightPasswordFindsThePrimaryAndDelivers) {
  // The sentinels really require it: without AUTH they refuse to answer.
  RespReply refused = RespCommand(cluster_.sentinel_port(0), {"SENTINEL", "get-master-addr-by-name",
                                                              RedisSentinelCluster::kMaster});
  ASSERT_EQ(refused.type, '-') << refused.text;
  EXPECT_TRUE(absl::StrContains(refused.text, "NOAUTH")) << refused.text;

  // A trailing newline, as editors and `echo` leave it, is not part of it.
  const std::string file = dir_.Write("sentinel-password", std::string(kSentinelPassword) + "\n");
  auto bridge = StartBridge(BridgeFlags(file));
  ASSERT_TRUE(bridge);
  ASSERT_TRUE(WaitReady(bridge->http_port(), 200, kWait)) << bridge->LogText(40);
  EXPECT_TRUE(bridge->WaitForLog(absl::StrCat("127.0.0.1:", cluster_.primary_port()), kWait))
      << bridge->LogText(40);
  EXPECT_FALSE(absl::StrContains(bridge->LogText(), "sentinel_unavailable")) << bridge->LogText(40);

  SseClient reader;
  ASSERT_TRUE(OpenAttached(&reader, bridge->http_port(), EventsTarget({"auth"})))
      << reader.Describe();
  GrpcClient grpc(bridge->grpc_port());
  const std::string id = grpc.MustPublish("auth", "through-sentinels").id();
  ASSERT_TRUE(reader.WaitForData("through-sentinels", kWait)) << reader.Describe();
  EXPECT_EQ(reader.events().back().id, id);
  // It went to the primary the sentinels name.
  EXPECT_EQ(RespCommand(cluster_.primary_port(), {"EXISTS", "{ssebridge}:epoch"}).text, "1");
  // The password never reaches the log.
  EXPECT_FALSE(absl::StrContains(bridge->LogText(), kSentinelPassword));
}

// What a refused bridge looks like: up (so /readyz can say why it is not
// ready), never ready, and the reason in the log.
void ExpectRefusedBySentinels(BridgeProcess* bridge, const std::string& why) {
  ASSERT_TRUE(bridge->WaitForLog("sentinel_unavailable", kWait)) << bridge->LogText(40);
  EXPECT_TRUE(bridge->WaitForLog(why, kWait)) << bridge->LogText(40);
  EXPECT_TRUE(bridge->WaitForLog("--redis_sentinel_password_file", kWait)) << bridge->LogText(40);
  EXPECT_TRUE(bridge->Running());
  // Logged after every sentinel refused, i.e. after a whole Locate() failed:
  // the broker cannot have connected, and it cannot later either.
  EXPECT_EQ(ReadyStatus(bridge->http_port()), 503) << bridge->LogText(40);
  EXPECT_FALSE(absl::StrContains(bridge->LogText(), "redis_connected")) << bridge->LogText(40);
  EXPECT_FALSE(absl::StrContains(bridge->LogText(), kSentinelPassword));
  // What an operator reads.
  const std::string log = bridge->LogText();
  const size_t at = log.find("sentinel_unavailable");
  const size_t begin = log.rfind('\n', at) == std::string::npos ? 0 : log.rfind('\n', at) + 1;
  std::cout << "[ sentinel-auth ] " << log.substr(begin, log.find('\n', at) - begin) << "\n";
}

TEST_F(RedisSentinelAuthSlowTest, WrongPasswordIsNeverReadyAndSaysWhy) {
  const std::string file = dir_.Write("sentinel-password", "not-the-password");
  auto bridge = StartBridge(BridgeFlags(file));
  ASSERT_TRUE(bridge);
  ExpectRefusedBySentinels(bridge.get(), "WRONGPASS");
}

TEST_F(RedisSentinelAuthSlowTest, NoPasswordIsNeverReadyAndSaysWhy) {
  auto bridge = StartBridge(BridgeFlags(""));
  ASSERT_TRUE(bridge);
  ExpectRefusedBySentinels(bridge.get(), "NOAUTH");
}

}  // namespace
}  // namespace ssebridge_it
