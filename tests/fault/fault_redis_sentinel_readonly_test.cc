// Redis Sentinel: the primary demoted under the bridge's pooled connections
// before the sentinels notice (redis_connection.h, READONLY), against real
// redis-server and redis-sentinel processes. The replica is promoted and the
// primary made its replica by hand (REPLICAOF), so the bridge's idle
// connections still point at a server that now refuses writes:
//   - the publish that meets READONLY answers UNAVAILABLE (it certainly did
//     not run: its data never reaches a stream), naming READONLY, and no
//     publish answers anything but UNAVAILABLE or DEADLINE_EXCEEDED
//     meanwhile;
//   - the bridge asks the sentinels again and, once they name the new
//     primary, reconnects there through the locator; publishes succeed
//     again without a restart and reach a following reader (or a reset
//     covers them), nothing delivered twice, no id issued twice.
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/harness/bridge_process.h"
#include "tests/harness/grpc_client.h"
#include "tests/harness/redis_fixture.h"
#include "tests/harness/redis_sentinel_cluster.h"
#include "tests/harness/sentinel_fixture.h"
#include "tests/harness/test_helpers.h"

namespace ssebridge_it {
namespace {

class RedisSentinelReadonlySlowTest : public RedisSentinelTest {};

TEST_F(RedisSentinelReadonlySlowTest, DemotedUnderThePoolAnswersUnavailableThenFollows) {
  auto bridge = StartSentinelBridge();
  ASSERT_TRUE(bridge);
  const int old_primary = cluster_.primary_port();
  const int new_primary = cluster_.replica_port();

  FollowingReader reader;
  std::thread reading([&] { reader.Run(bridge->http_port(), "ro", "end", kFailover + 2 * kWait); });
  struct Joiner {
    std::thread* t;
    ~Joiner() {
      if (t->joinable()) t->join();
    }
  } join_reader{&reading};
  ASSERT_TRUE(reader.WaitAttached(kWait)) << "the reader never attached";

  GrpcClient grpc(bridge->grpc_port());
  std::vector<std::pair<std::string, std::string>> acked;  // id, data
  // Pooled connections exist and are idle on the primary.
  for (int i = 0; i < 3; ++i) {
    const std::string data = absl::StrCat("before", i);
    acked.emplace_back(grpc.MustPublish("ro", data).id(), data);
  }
  ASSERT_GT(cluster_.OtherClients(old_primary), 0);

  // The demotion the sentinels have not seen: the replica takes over as a
  // master first (so the two never replicate from each other), then the old
  // primary follows it. The bridge's connections to it stay open.
  ASSERT_EQ(RespCommand(new_primary, {"REPLICAOF", "NO", "ONE"}).type, '+');
  ASSERT_EQ(RespCommand(old_primary, {"REPLICAOF", "127.0.0.1", absl::StrCat(new_primary)}).type,
            '+');
  ASSERT_FALSE(cluster_.IsMaster(old_primary));
  ASSERT_EQ(cluster_.AgreedPrimaryPort(), old_primary) << "the sentinels noticed too early";

  // Publish until one is acknowledged again. The first one meets READONLY on
  // an idle pooled connection.
  std::vector<std::pair<grpc::StatusCode, std::string>> failed;  // code, message
  std::vector<std::string> failed_data;
  bool asked_failover = false;
  std::string error;
  const absl::Time end = absl::Now() + kFailover;
  for (int i = 0;; ++i) {
    ASSERT_LT(absl::Now(), end) << "publishes never came back after the demotion\n"
                                << bridge->LogText(60);
    const std::string data = absl::StrCat("during", i);
    v1::PublishResponse resp;
    grpc::Status s = grpc.Publish(MakePublish("ro", data), &resp);
    if (s.ok()) {
      acked.emplace_back(resp.id(), data);
      break;
    }
    failed.emplace_back(s.error_code(), s.error_message());
    failed_data.push_back(data);
    if (!asked_failover) {
      // Sentinel alone notices a master that reports itself a replica only
      // after down-after plus two INFO periods (~21s): ask it to fail over
      // now. It promotes the only replica it knows -- the one already
      // promoted by hand.
      asked_failover = cluster_.ForceFailover(&error);
    }
    absl::SleepFor(absl::Milliseconds(20));  // pacing of retries only
  }
  ASSERT_FALSE(failed.empty()) << "no publish met the demotion";
  EXPECT_EQ(failed.front().first, grpc::StatusCode::UNAVAILABLE) << failed.front().second;
  EXPECT_TRUE(absl::StrContains(failed.front().second, "READONLY")) << failed.front().second;
  size_t readonly = 0, not_primary = 0;
  std::map<int, int> codes;
  for (const auto& [code, message] : failed) {
    ++codes[code];
    if (absl::StrContains(message, "not the primary")) ++not_primary;
    if (absl::StrContains(message, "READONLY")) {
      ++readonly;
      // Whatever met READONLY was refused before it ran.
      EXPECT_EQ(code, grpc::StatusCode::UNAVAILABLE) << message;
    }
    // Only "not run" or, when a socket was shut down under a call by the
    // move, "outcome unknown".
    EXPECT_TRUE(code == grpc::StatusCode::UNAVAILABLE ||
                code == grpc::StatusCode::DEADLINE_EXCEEDED)
        << code << " " << message;
  }

  // A connection that met READONLY is dropped, not used again: at most one
  // READONLY per pooled connection (--redis_pool_size, 4 by default), then
  // reconnects through the locator, whose ROLE check refuses the demoted
  // server while the sentinels still name it.
  EXPECT_LE(readonly, 4u);
  if (failed.size() > readonly + 5) {
    EXPECT_GT(not_primary, 0u);
  }

  // The sentinels now name the new primary, the bridge followed them there.
  ASSERT_TRUE(cluster_.WaitFailover(kFailover, &error)) << error;
  ASSERT_EQ(cluster_.primary_port(), new_primary);
  EXPECT_TRUE(bridge->WaitForLog("redis_primary_moved", kWait)) << bridge->LogText(60);
  EXPECT_GT(cluster_.OtherClients(new_primary), 0);
  for (int i = 0; i < 3; ++i) {
    const std::string data = absl::StrCat("after", i);
    acked.emplace_back(grpc.MustPublish("ro", data).id(), data);
  }
  acked.emplace_back(grpc.MustPublish("ro", "end").id(), "end");
  reader.SetEndId(acked.back().first);
  reading.join();
  EXPECT_TRUE(WaitReady(bridge->http_port(), 200, kWait)) << bridge->LogText(40);
  EXPECT_TRUE(bridge->Running());

  const DeliveryAudit audit = AuditDelivery(acked, reader.all);
  ASSERT_FALSE(reader.all.empty());
  EXPECT_TRUE(reader.ReachedEnd("end")) << "the end, or a reset covering it";
  // A publish answered UNAVAILABLE did not run: its data is nowhere.
  for (const auto& e : reader.all) {
    for (size_t i = 0; i < failed.size(); ++i) {
      if (failed[i].first == grpc::StatusCode::UNAVAILABLE) {
        EXPECT_NE(e.data, failed_data[i]) << "refused publish delivered: " << e.id;
      }
    }
  }
  std::string failures;
  for (const auto& [code, n] : codes) absl::StrAppend(&failures, " code", code, "=", n);
  std::cout << "[ readonly ] failed:" << failures << " readonly=" << readonly
            << " not_primary=" << not_primary
            << " asked_failover=" << (asked_failover ? "yes" : "no")
            << " delivered=" << audit.delivered << " resets=" << audit.resets
            << " covered_by_reset=" << audit.covered_by_reset
            << " reader_connections=" << reader.connections << "\n";
}

}  // namespace
}  // namespace ssebridge_it
