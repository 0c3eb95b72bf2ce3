// Redis Sentinel over TLS: every process of the cluster speaks TLS to the
// others (tls-port, tls-replication), the sentinels hand out TLS ports, and
// --redis_sentinels lists the sentinels' TLS ports, which do not speak plain
// RESP. With rediss:// the bridge asks the sentinels over TLS with the
// same context (--redis_tls_ca_file) as Redis:
//   - it finds the primary, and an event goes from publish to a stream;
//   - the primary is killed; the bridge follows the failover (the
//     +switch-master watch is a TLS connection too) without a restart,
//     "lossless, or a reset";
//   - a CA that did not sign the sentinels' certificates leaves the bridge
//     unready, the sentinels unavailable, and says why.
#include <iostream>
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
#include "tests/harness/sse_client.h"
#include "tests/harness/temp_dir.h"
#include "tests/harness/test_certs.h"
#include "tests/harness/test_helpers.h"

namespace ssebridge_it {
namespace {

class RedisSentinelTlsSlowTest : public RedisSentinelTest {
 protected:
  void SetUp() override {
    ca_ = TestCa::Create("sentinel test CA");
    ASSERT_NE(ca_, nullptr);
    const PemPair server = ca_->Issue("redis", {"IP:127.0.0.1", "DNS:localhost"}, true);
    ca_file_ = dir_.Write("ca.pem", ca_->cert_pem());
    cluster_.EnableTls(dir_.Write("redis.crt", server.cert), dir_.Write("redis.key", server.key),
                       ca_file_);
    RedisSentinelTest::SetUp();
  }

  // `sentinels`: the --redis_sentinels value (default: the TLS ports).
  std::unique_ptr<BridgeProcess> StartTlsBridge(const std::string& ca_file,
                                                std::vector<std::string> extra = {},
                                                std::string sentinels = "") {
    std::vector<std::string> flags = {
        "--broker=redis",
        // --redis_url's default host:port, only the scheme changed.
        "--redis_url=rediss://127.0.0.1:6379/0", "--redis_tls_ca_file=" + ca_file,
        "--redis_sentinels=" + (sentinels.empty() ? cluster_.SentinelsFlag() : sentinels),
        std::string("--redis_sentinel_master=") + RedisSentinelCluster::kMaster,
        "--redis_sentinel_timeout=500ms", "--redis_reconnect_min=50ms",
        "--redis_reconnect_max=300ms", "--redis_command_timeout=2s"};
    flags.insert(flags.end(), extra.begin(), extra.end());
    return StartBridge(flags);
  }

  TempDir dir_;
  std::unique_ptr<TestCa> ca_;
  std::string ca_file_;
};

TEST_F(RedisSentinelTlsSlowTest, AsksTheSentinelsOverTlsAndDelivers) {
  // The ports the bridge is given speak TLS only.
  ASSERT_EQ(RespCommand(cluster_.sentinel_port(0), {"PING"}).text, "PONG");
  const std::string flag = cluster_.SentinelsFlag();
  ASSERT_TRUE(absl::StrContains(flag, absl::StrCat(":", cluster_.sentinel_tls_port(0)))) << flag;
  ASSERT_FALSE(absl::StrContains(flag, absl::StrCat(":", cluster_.sentinel_port(0), ","))) << flag;
  EXPECT_NE(RespCommand(cluster_.sentinel_tls_port(0), {"PING"}, absl::Seconds(1)).text, "PONG");

  auto bridge = StartTlsBridge(ca_file_);
  ASSERT_TRUE(bridge);
  ASSERT_TRUE(WaitReady(bridge->http_port(), 200, kWait)) << bridge->LogText(40);
  EXPECT_FALSE(absl::StrContains(bridge->LogText(), "sentinel_unavailable")) << bridge->LogText(40);
  EXPECT_TRUE(bridge->WaitForLog("sentinel_watching", kWait)) << bridge->LogText(40);

  SseClient reader;
  ASSERT_TRUE(OpenAttached(&reader, bridge->http_port(), EventsTarget({"tls"})))
      << reader.Describe();
  GrpcClient grpc(bridge->grpc_port());
  const std::string id = grpc.MustPublish("tls", "sealed").id();
  ASSERT_TRUE(reader.WaitForData("sealed", kWait)) << reader.Describe();
  EXPECT_EQ(reader.events().back().id, id);
  EXPECT_EQ(RespCommand(cluster_.primary_port(), {"EXISTS", "{ssebridge}:epoch"}).text, "1");
}

// Sentinels reached on their plain ports (no tls-port in front of a TLS
// Redis): --redis_sentinel_tls=false asks them in plain TCP, and Redis
// itself is still reached over TLS.
TEST_F(RedisSentinelTlsSlowTest, PlainSentinelsInFrontOfATlsRedisWhenAskedTo) {
  std::string plain;
  for (int i = 0; i < 3; ++i) {
    absl::StrAppend(&plain, i ? "," : "", "127.0.0.1:", cluster_.sentinel_port(i));
  }
  auto refused = StartTlsBridge(ca_file_, {}, plain);
  ASSERT_TRUE(refused);
  EXPECT_TRUE(refused->WaitForLog("sentinel_unavailable", kWait)) << refused->LogText(40);
  EXPECT_NE(ReadyStatus(refused->http_port()), 200) << "TLS to a plain port cannot work";

  auto bridge = StartTlsBridge(ca_file_, {"--redis_sentinel_tls=false"}, plain);
  ASSERT_TRUE(bridge);
  ASSERT_TRUE(WaitReady(bridge->http_port(), 200, kWait)) << bridge->LogText(40);
  SseClient reader;
  ASSERT_TRUE(OpenAttached(&reader, bridge->http_port(), EventsTarget({"mixed"})))
      << reader.Describe();
  GrpcClient grpc(bridge->grpc_port());
  const std::string id = grpc.MustPublish("mixed", "sealed").id();
  ASSERT_TRUE(reader.WaitForData("sealed", kWait)) << reader.Describe();
  EXPECT_EQ(reader.events().back().id, id);
}

TEST_F(RedisSentinelTlsSlowTest, FollowsAFailoverOverTls) {
  auto bridge = StartTlsBridge(ca_file_);
  ASSERT_TRUE(bridge);
  ASSERT_TRUE(WaitReady(bridge->http_port(), 200, kWait)) << bridge->LogText(40);
  const int old_primary = cluster_.primary_port();

  FollowingReader reader;
  std::thread reading(
      [&] { reader.Run(bridge->http_port(), "tfo", "end", kFailover + 2 * kWait); });
  struct Joiner {
    std::thread* t;
    ~Joiner() {
      if (t->joinable()) t->join();
    }
  } join_reader{&reading};
  ASSERT_TRUE(reader.WaitAttached(kWait)) << "the reader never attached";

  GrpcClient grpc(bridge->grpc_port());
  std::vector<std::pair<std::string, std::string>> acked;  // id, data
  for (int i = 0; i < 5; ++i) {
    const std::string data = absl::StrCat("before", i);
    acked.emplace_back(grpc.MustPublish("tfo", data).id(), data);
  }
  cluster_.KillPrimary();
  std::string error;
  ASSERT_TRUE(cluster_.WaitFailover(kFailover, &error)) << error;
  ASSERT_NE(cluster_.primary_port(), old_primary);
  // Publishes come back without a restart; those refused meanwhile are not
  // acknowledged and need not arrive.
  const absl::Time end = absl::Now() + kFailover;
  for (int i = 0; acked.size() < 10; ++i) {
    ASSERT_LT(absl::Now(), end) << "publishes never came back\n" << bridge->LogText(60);
    const std::string data = absl::StrCat("after", i);
    v1::PublishResponse resp;
    if (grpc.Publish(MakePublish("tfo", data), &resp).ok()) {
      acked.emplace_back(resp.id(), data);
    } else {
      absl::SleepFor(absl::Milliseconds(20));  // pacing of retries only
    }
  }
  acked.emplace_back(grpc.MustPublish("tfo", "end").id(), "end");
  reader.SetEndId(acked.back().first);
  reading.join();
  EXPECT_TRUE(bridge->WaitForLog("redis_primary_moved", kWait)) << bridge->LogText(60);
  EXPECT_TRUE(WaitReady(bridge->http_port(), 200, kWait)) << bridge->LogText(40);
  EXPECT_TRUE(bridge->Running());
  const DeliveryAudit audit = AuditDelivery(acked, reader.all);
  ASSERT_FALSE(reader.all.empty());
  EXPECT_TRUE(reader.ReachedEnd("end")) << "the end, or a reset covering it";
  std::cout << "[ sentinel-tls ] acked=" << acked.size() << " delivered=" << audit.delivered
            << " resets=" << audit.resets << " covered_by_reset=" << audit.covered_by_reset
            << " reader_connections=" << reader.connections << "\n";
}

TEST_F(RedisSentinelTlsSlowTest, ACaThatDidNotSignTheSentinelsIsNeverReady) {
  std::unique_ptr<TestCa> other = TestCa::Create("another CA");
  ASSERT_NE(other, nullptr);
  auto bridge = StartTlsBridge(dir_.Write("other-ca.pem", other->cert_pem()));
  ASSERT_TRUE(bridge);
  ASSERT_TRUE(bridge->WaitForLog("sentinel_unavailable", kWait)) << bridge->LogText(40);
  EXPECT_TRUE(bridge->WaitForLog("certificate does not verify", kWait)) << bridge->LogText(40);
  EXPECT_EQ(ReadyStatus(bridge->http_port()), 503) << bridge->LogText(40);
  EXPECT_FALSE(absl::StrContains(bridge->LogText(), "redis_connected")) << bridge->LogText(40);
  EXPECT_TRUE(bridge->Running());
}

}  // namespace
}  // namespace ssebridge_it
