// redis_fixture: one real Redis and up to a few ssebridge replicas on it,
// for the scale-out tests (tests/integration/redis_*_test.cc).
#ifndef SSEBRIDGE_TESTS_HARNESS_REDIS_FIXTURE_H_
#define SSEBRIDGE_TESTS_HARNESS_REDIS_FIXTURE_H_

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "tests/harness/bridge_process.h"
#include "tests/harness/grpc_client.h"
#include "tests/harness/redis_server.h"
#include "tests/harness/sse_client.h"

namespace ssebridge_it {

class RedisScaleOutTest : public ::testing::Test {
 protected:
  void SetUp() override;

  // Starts a replica on the test's Redis and waits until it is connected.
  std::unique_ptr<BridgeProcess> StartReplica(std::vector<std::string> extra = {});
  std::vector<std::string> ReplicaFlags() const;

  std::unique_ptr<RedisServer> redis_;
};

// Opens a stream and waits until its snapshot arrived (the id-only head
// block moved the cursor): from then on it is attached.
bool OpenAttached(SseClient* client, int port, const std::string& target,
                  const SseClientOptions& options = {});

// Reads `client` on a thread until `pred` holds (or timeout); join() it
// before looking at the client again.
std::thread ReadInBackground(SseClient* client, std::function<bool()> pred, absl::Duration timeout);

// GET /readyz: the HTTP status.
int ReadyStatus(int port);

}  // namespace ssebridge_it

#endif  // SSEBRIDGE_TESTS_HARNESS_REDIS_FIXTURE_H_
