// Redis Sentinel (issue 21, item 6), against real redis-server and
// redis-sentinel processes (a primary, one replica, three sentinels):
//   - the bridge finds the primary through the sentinels; publish and
//     subscribe work;
//   - under a publish load the primary is SIGKILLed, the sentinels fail
//     over, and the bridge follows without a restart: no id is handed out
//     twice, every acknowledged event reaches a subscriber that keeps
//     reconnecting with Last-Event-ID, or that subscriber is reset past
//     it; /readyz is 200 again;
//   - --redis_sentinels with a --redis_url naming another server is
//     refused at startup, naming both flags.
// The failovers to a lagging replica and away from a live primary are in
// fault_redis_sentinel_lag_test.cc.
#include <algorithm>
#include <atomic>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/harness/bridge_process.h"
#include "tests/harness/grpc_client.h"
#include "tests/harness/redis_fixture.h"
#include "tests/harness/redis_sentinel_cluster.h"
#include "tests/harness/sentinel_fixture.h"
#include "tests/harness/sse_client.h"
#include "tests/harness/test_helpers.h"

namespace ssebridge_it {
namespace {

class RedisSentinelSlowTest : public RedisSentinelTest {};

TEST_F(RedisSentinelSlowTest, FindsThePrimaryThroughTheSentinels) {
  auto bridge = StartSentinelBridge();
  ASSERT_TRUE(bridge);
  EXPECT_TRUE(bridge->WaitForLog(absl::StrCat("127.0.0.1:", cluster_.primary_port()), kWait))
      << bridge->LogText(40);
  SseClient reader;
  ASSERT_TRUE(OpenAttached(&reader, bridge->http_port(), EventsTarget({"snt"})))
      << reader.Describe();
  GrpcClient grpc(bridge->grpc_port());
  const std::string id = grpc.MustPublish("snt", "hello").id();
  ASSERT_TRUE(reader.WaitForData("hello", kWait)) << reader.Describe();
  EXPECT_EQ(reader.events().back().id, id);
  // It went to the primary.
  EXPECT_EQ(RespCommand(cluster_.primary_port(), {"EXISTS", "{ssebridge}:epoch"}).text, "1");
}

TEST_F(RedisSentinelSlowTest, PrimaryKilledUnderLoadFailsOverWithoutLossOrReuse) {
  auto bridge = StartSentinelBridge();
  ASSERT_TRUE(bridge);
  const int port = bridge->http_port();
  const int old_primary = cluster_.primary_port();

  FollowingReader reader;
  std::thread reading([&] { reader.Run(port, "fo", "end", absl::Seconds(150)); });
  struct Joiner {
    std::thread* t;
    ~Joiner() {
      if (t->joinable()) t->join();
    }
  } join_reader{&reading};
  const absl::Time attach_end = absl::Now() + kWait;
  while (true) {
    {
      std::lock_guard<std::mutex> lock(reader.mu);
      if (reader.attached) break;
    }
    ASSERT_LT(absl::Now(), attach_end) << "the reader never attached";
    absl::SleepFor(absl::Milliseconds(10));
  }

  // Bounded load: one publish every 2ms at most, at most 20000.
  std::mutex mu;
  std::vector<std::pair<std::string, std::string>> acked;  // id, data
  std::vector<absl::Time> acked_at;
  std::map<std::string, int> failures;  // status code name
  std::atomic<bool> stop{false};
  std::thread publishing([&] {
    GrpcClient grpc(bridge->grpc_port());
    for (int i = 0; i < 20000 && !stop.load(); ++i) {
      const std::string data = absl::StrCat("p", i);
      v1::PublishResponse resp;
      grpc::Status s = grpc.Publish(MakePublish("fo", data), &resp);
      std::lock_guard<std::mutex> lock(mu);
      if (s.ok()) {
        acked.emplace_back(resp.id(), data);
        acked_at.push_back(absl::Now());
      } else {
        ++failures[absl::StrCat(s.error_code())];
      }
      absl::SleepFor(absl::Milliseconds(2));  // pacing of the load only
    }
  });
  struct Stopper {
    std::atomic<bool>* stop;
    std::thread* t;
    ~Stopper() {
      stop->store(true);
      if (t->joinable()) t->join();
    }
  } join_publisher{&stop, &publishing};
  auto acked_count = [&] {
    std::lock_guard<std::mutex> lock(mu);
    return acked.size();
  };
  auto wait_acked = [&](size_t n) {
    const absl::Time end = absl::Now() + kFailover;
    while (acked_count() < n) {
      if (absl::Now() > end) return false;
      absl::SleepFor(absl::Milliseconds(10));
    }
    return true;
  };
  ASSERT_TRUE(wait_acked(200)) << bridge->LogText(40);

  cluster_.KillPrimary();
  const size_t at_kill = acked_count();
  std::string error;
  ASSERT_TRUE(cluster_.WaitFailover(kFailover, &error)) << error;
  ASSERT_NE(cluster_.primary_port(), old_primary);
  // The bridge follows without a restart: publishes are acknowledged again.
  ASSERT_TRUE(wait_acked(acked_count() + 200)) << "publishes never came back after the failover\n"
                                               << bridge->LogText(60);
  stop.store(true);
  publishing.join();
  {
    const absl::Time end = absl::Now() + kWait;
    GrpcClient grpc(bridge->grpc_port());
    while (true) {
      v1::PublishResponse resp;
      grpc::Status s = grpc.Publish(MakePublish("fo", "end"), &resp);
      if (s.ok()) {
        acked.emplace_back(resp.id(), "end");
        reader.SetEndId(resp.id());
        break;
      }
      ASSERT_LT(absl::Now(), end) << s.error_message();
      absl::SleepFor(absl::Milliseconds(20));  // pacing of retries only
    }
  }
  reading.join();
  EXPECT_TRUE(WaitReady(port, 200, kWait)) << bridge->LogText(40);
  EXPECT_TRUE(bridge->Running());
  EXPECT_TRUE(bridge->WaitForLog("redis_primary_moved", kWait)) << bridge->LogText(60);

  // No id handed out twice.
  std::map<std::string, std::string> by_id;
  for (const auto& [id, data] : acked) {
    EXPECT_TRUE(by_id.emplace(id, data).second) << "id " << id << " handed out twice";
  }
  // What the reader saw: ids never repeat, and an acknowledged id always
  // carries the data it was acknowledged with.
  std::set<std::string> delivered;
  std::vector<ParsedId> reset_heads;
  for (const auto& e : reader.all) {
    if (e.event == "ssebridge.reset") {
      ParsedId head;
      if (ParseEventId(ResetHead(e.data), &head)) reset_heads.push_back(head);
      continue;
    }
    EXPECT_TRUE(delivered.insert(e.id).second) << "delivered twice: " << e.id;
    auto it = by_id.find(e.id);
    if (it != by_id.end()) {
      EXPECT_EQ(it->second, e.data) << "id " << e.id << " reused for other data";
    }
  }
  ASSERT_FALSE(reader.all.empty());
  EXPECT_TRUE(reader.ReachedEnd("end")) << "the end, or a reset covering it";
  // Each acknowledged event was delivered, or a reset covered it (an older
  // epoch than the reset's head, or at most its seq).
  size_t lost = 0, covered = 0;
  for (const auto& [id, data] : acked) {
    if (delivered.count(id)) continue;
    ParsedId p;
    ASSERT_TRUE(ParseEventId(id, &p)) << id;
    bool reset_past = false;
    for (const ParsedId& h : reset_heads) {
      if (h.epoch != p.epoch || p.seq <= h.seq) reset_past = true;
    }
    if (reset_past) {
      ++covered;
    } else {
      ++lost;
      ADD_FAILURE() << "acknowledged " << id << " (" << data
                    << ") neither delivered nor covered by a reset";
    }
  }
  ParsedId first, last;
  ASSERT_TRUE(ParseEventId(acked.front().first, &first));
  ASSERT_TRUE(ParseEventId(acked.back().first, &last));
  std::string failed;
  for (const auto& [code, n] : failures) absl::StrAppend(&failed, " code", code, "=", n);
  absl::Duration longest_gap;  // the publish outage the failover caused
  for (size_t i = 1; i < acked_at.size(); ++i) {
    longest_gap = std::max(longest_gap, acked_at[i] - acked_at[i - 1]);
  }
  std::cout << "[ sentinel ] publish_outage=" << absl::FormatDuration(longest_gap)
            << " acked=" << acked.size() << " at_kill=" << at_kill << " failed:" << failed
            << " delivered=" << delivered.size() << " resets=" << reset_heads.size()
            << " covered_by_reset=" << covered << " lost=" << lost
            << " reader_connections=" << reader.connections
            << " new_epoch=" << (first.epoch != last.epoch ? "yes" : "no") << "\n";
}

TEST_F(RedisSentinelSlowTest, SentinelsAndAnotherRedisUrlAreRefusedNamingBoth) {
  BridgeOptions o;
  o.flags = {"--broker=redis", "--redis_sentinels=" + cluster_.SentinelsFlag(),
             "--redis_url=redis://10.1.2.3:6379/0"};
  BridgeProcess p(o);
  std::string error;
  EXPECT_FALSE(p.Start(&error)) << "started with both flags";
  ExitInfo info;
  p.WaitExit(kWait, &info);
  EXPECT_TRUE(info.exited && info.exit_code != 0) << info.Describe();
  EXPECT_TRUE(absl::StrContains(p.LogText(), "--redis_sentinels")) << p.LogText();
  EXPECT_TRUE(absl::StrContains(p.LogText(), "--redis_url")) << p.LogText();
}

}  // namespace
}  // namespace ssebridge_it
