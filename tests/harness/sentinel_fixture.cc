#include "tests/harness/sentinel_fixture.h"

#include "absl/time/clock.h"
#include "tests/harness/redis_fixture.h"
#include "tests/harness/test_helpers.h"

namespace ssebridge_it {

void RedisSentinelTest::SetUp() {
  ASSERT_FALSE(FindRedisSentinel().empty())
      << "redis-sentinel is not installed: run scripts/setup-deps.sh "
         "(apt-get install redis-server redis-sentinel)";
  std::string error;
  ASSERT_TRUE(cluster_.Start(&error)) << error;
}

std::unique_ptr<BridgeProcess> RedisSentinelTest::StartSentinelBridge(
    std::vector<std::string> extra) {
  std::vector<std::string> flags = {
      "--broker=redis",
      "--redis_sentinels=" + cluster_.SentinelsFlag(),
      std::string("--redis_sentinel_master=") + RedisSentinelCluster::kMaster,
      "--redis_sentinel_timeout=500ms",
      "--redis_reconnect_min=50ms",
      "--redis_reconnect_max=300ms",
      "--redis_command_timeout=2s",
      "--queue_bytes=33554432",
      "--history_size=100000"};
  flags.insert(flags.end(), extra.begin(), extra.end());
  auto bridge = StartBridge(flags);
  if (bridge != nullptr && !WaitReady(bridge->http_port(), 200, kWait)) {
    ADD_FAILURE() << "bridge never became ready\n" << bridge->LogText(60);
    return nullptr;
  }
  return bridge;
}

bool RedisSentinelTest::WaitReady(int port, int status, absl::Duration timeout) {
  const absl::Time end = absl::Now() + timeout;
  while (ReadyStatus(port) != status) {
    if (absl::Now() > end) return false;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return true;
}

}  // namespace ssebridge_it
