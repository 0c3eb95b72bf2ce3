// sentinel_fixture: the base of the Redis Sentinel fault tests -- a
// RedisSentinelCluster started in SetUp() (a missing redis-sentinel fails
// the test with how to install it: nothing is skipped silently), and a
// bridge that finds the primary through the sentinels.
#ifndef SSEBRIDGE_TESTS_HARNESS_SENTINEL_FIXTURE_H_
#define SSEBRIDGE_TESTS_HARNESS_SENTINEL_FIXTURE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/harness/bridge_process.h"
#include "tests/harness/redis_sentinel_cluster.h"
#include "tests/harness/test_helpers.h"

namespace ssebridge_it {

// How long a failover (and the bridge following it) may take at most.
inline constexpr absl::Duration kFailover = absl::Seconds(60);

class RedisSentinelTest : public ::testing::Test {
 protected:
  void SetUp() override;
  // --broker=redis --redis_sentinels=<the cluster's> (and `extra`); waits
  // until ready.
  std::unique_ptr<BridgeProcess> StartSentinelBridge(std::vector<std::string> extra = {});
  static bool WaitReady(int port, int status, absl::Duration timeout);

  RedisSentinelCluster cluster_;
};

}  // namespace ssebridge_it

#endif  // SSEBRIDGE_TESTS_HARNESS_SENTINEL_FIXTURE_H_
