// sentinel_fixture: the base of the Redis Sentinel fault tests -- a
// RedisSentinelCluster started in SetUp() (a missing redis-sentinel fails
// the test with how to install it: nothing is skipped silently), and a
// bridge that finds the primary through the sentinels.
#ifndef SSEBRIDGE_TESTS_HARNESS_SENTINEL_FIXTURE_H_
#define SSEBRIDGE_TESTS_HARNESS_SENTINEL_FIXTURE_H_

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/harness/bridge_process.h"
#include "tests/harness/redis_sentinel_cluster.h"
#include "tests/harness/sse_parser.h"
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

// A reader that follows the stream as a browser does: on a close it
// reconnects with the last id it saw, until it sees the data `until`.
struct FollowingReader {
  std::vector<SseEvent> all;
  int connections = 0;
  bool attached = false;  // the first stream is attached
  std::mutex mu;

  // Reads until the event with data `until` arrived, or a reset covered it
  // (its head at or past SetEndId()'s id: the page refetches it instead).
  void Run(int port, const std::string& channel, const std::string& until, absl::Duration timeout);
  // Waits until the first stream is attached.
  bool WaitAttached(absl::Duration timeout);
  // The id `until` was acknowledged with, once it is.
  void SetEndId(const std::string& id);
  // Whether Run() got there: `until` delivered, or covered by a reset.
  bool ReachedEnd(const std::string& until);

 private:
  bool Covers(const std::vector<SseEvent>& events, const std::string& until);
  std::string end_id_;  // guarded by mu
};

// What a reader saw across a failover, against what was acknowledged
// (id, data), under "lossless, or a reset": every acknowledged event was
// delivered, or a reset covered it (its epoch was left, or its seq is at
// most the reset's head); no id was acknowledged or delivered twice; an
// acknowledged id carries the data it was acknowledged with. Records test
// failures; returns the counts for the log line.
struct DeliveryAudit {
  size_t delivered = 0;
  size_t resets = 0;
  size_t covered_by_reset = 0;
  size_t lost = 0;
};
DeliveryAudit AuditDelivery(const std::vector<std::pair<std::string, std::string>>& acked,
                            const std::vector<SseEvent>& seen);

}  // namespace ssebridge_it

#endif  // SSEBRIDGE_TESTS_HARNESS_SENTINEL_FIXTURE_H_
