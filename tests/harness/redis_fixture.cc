#include "tests/harness/redis_fixture.h"

#include "tests/harness/http_request.h"
#include "tests/harness/test_helpers.h"

namespace ssebridge_it {

void RedisScaleOutTest::SetUp() {
  if (FindRedisServer().empty()) {
    GTEST_SKIP() << "redis-server is not installed; scripts/setup-deps.sh "
                    "installs it (apt-get install redis-server)";
  }
  redis_ = std::make_unique<RedisServer>();
  std::string error;
  ASSERT_TRUE(redis_->Start(&error)) << error;
}

std::vector<std::string> RedisScaleOutTest::ReplicaFlags() const {
  return {"--broker=redis",
          "--redis_url=" + redis_->url(),
          "--redis_reconnect_min=50ms",
          "--redis_reconnect_max=300ms",
          "--redis_command_timeout=2s",
          "--queue_bytes=33554432",
          "--history_size=100000"};
}

std::unique_ptr<BridgeProcess> RedisScaleOutTest::StartReplica(std::vector<std::string> extra) {
  std::vector<std::string> flags = ReplicaFlags();
  flags.insert(flags.end(), extra.begin(), extra.end());
  auto bridge = StartBridge(flags);
  if (bridge == nullptr) return nullptr;
  const absl::Time end = absl::Now() + kWait;
  while (ReadyStatus(bridge->http_port()) != 200) {
    if (absl::Now() > end) {
      ADD_FAILURE() << "replica never became ready\n" << bridge->LogText();
      return nullptr;
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  return bridge;
}

bool OpenAttached(SseClient* client, int port, const std::string& target,
                  const SseClientOptions& options) {
  if (!client->Open(port, target, options)) return false;
  return client->ReadUntil([client] { return !client->parser().last_event_id().empty(); }, kWait);
}

std::thread ReadInBackground(SseClient* client, std::function<bool()> pred,
                             absl::Duration timeout) {
  return std::thread(
      [client, pred = std::move(pred), timeout] { client->ReadUntil(pred, timeout); });
}

int ReadyStatus(int port) { return HttpGet(port, "/readyz").status; }

}  // namespace ssebridge_it
