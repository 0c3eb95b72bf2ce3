// Redis Sentinel (issue 21, item 6), against real redis-server and
// redis-sentinel processes (a primary, one replica, three sentinels):
//   - the bridge finds the primary through the sentinels; publish and
//     subscribe work;
//   - under a publish load the primary is SIGKILLed, the sentinels fail
//     over, and the bridge follows without a restart: no id is handed out
//     twice, every acknowledged event reaches a subscriber that keeps
//     reconnecting with Last-Event-ID, or that subscriber is reset past
//     it; /readyz is 200 again;
//   - a failover to a replica that lagged (it missed acknowledged
//     publishes) is Redis going back in time (item 2): a new epoch, no id
//     handed out twice, the reader reset past what was lost;
//   - a failover that leaves the old primary running (SENTINEL FAILOVER)
//     moves every connection of the bridge off it;
//   - --redis_sentinels with a --redis_url naming another server is
//     refused at startup, naming both flags.
// A missing redis-sentinel fails the tests (scripts/setup-deps.sh installs
// it): nothing is skipped silently.
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
#include "tests/harness/sse_client.h"
#include "tests/harness/test_helpers.h"

namespace ssebridge_it {
namespace {

constexpr absl::Duration kFailover = absl::Seconds(60);

class RedisSentinelSlowTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(FindRedisSentinel().empty())
        << "redis-sentinel is not installed: run scripts/setup-deps.sh "
           "(apt-get install redis-server redis-sentinel)";
    std::string error;
    ASSERT_TRUE(cluster_.Start(&error)) << error;
  }

  std::unique_ptr<BridgeProcess> StartSentinelBridge() {
    auto bridge = StartBridge({"--broker=redis", "--redis_sentinels=" + cluster_.SentinelsFlag(),
                               std::string("--redis_sentinel_master=") +
                                   RedisSentinelCluster::kMaster,
                               "--redis_sentinel_timeout=500ms", "--redis_reconnect_min=50ms",
                               "--redis_reconnect_max=300ms", "--redis_command_timeout=2s",
                               "--queue_bytes=33554432", "--history_size=100000"});
    if (bridge != nullptr && !WaitReady(bridge->http_port(), 200, kWait)) {
      ADD_FAILURE() << "bridge never became ready\n" << bridge->LogText(60);
      return nullptr;
    }
    return bridge;
  }

  static bool WaitReady(int port, int status, absl::Duration timeout) {
    const absl::Time end = absl::Now() + timeout;
    while (ReadyStatus(port) != status) {
      if (absl::Now() > end) return false;
      absl::SleepFor(absl::Milliseconds(20));
    }
    return true;
  }

  RedisSentinelCluster cluster_;
};

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

// A reader that follows the stream as a browser does: on a close it
// reconnects with the last id it saw, until it sees `until`.
struct FollowingReader {
  std::vector<SseEvent> all;
  int connections = 0;
  bool attached = false;  // the first stream is attached
  std::mutex mu;

  void Run(int port, const std::string& channel, const std::string& until,
           absl::Duration timeout) {
    const absl::Time end = absl::Now() + timeout;
    std::string last;
    while (absl::Now() < end) {
      SseClient c;
      SseClientOptions o;
      if (!last.empty()) o.headers.emplace_back("Last-Event-ID", last);
      if (!OpenAttached(&c, port, EventsTarget({channel}), o)) {
        absl::SleepFor(absl::Milliseconds(50));  // not ready yet: pace retries
        continue;
      }
      {
        std::lock_guard<std::mutex> lock(mu);
        ++connections;
        attached = true;
      }
      auto seen_end = [&] {
        for (const auto& e : c.events()) {
          if (e.data == until) return true;
        }
        return false;
      };
      c.ReadUntil(seen_end, end - absl::Now());
      {
        std::lock_guard<std::mutex> lock(mu);
        all.insert(all.end(), c.events().begin(), c.events().end());
      }
      if (!c.parser().last_event_id().empty()) last = c.parser().last_event_id();
      if (seen_end()) return;
    }
  }
};

// The "head" id of a reset notice's JSON data.
std::string ResetHead(const std::string& data) {
  const std::string key = "\"head\":\"";
  size_t at = data.find(key);
  if (at == std::string::npos) return "";
  at += key.size();
  return data.substr(at, data.find('"', at) - at);
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
  std::map<std::string, int> failures;                     // status code name
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
  ASSERT_TRUE(wait_acked(acked_count() + 200))
      << "publishes never came back after the failover\n" << bridge->LogText(60);
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
  EXPECT_EQ(reader.all.back().data, "end");
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
            << " acked=" << acked.size() << " at_kill=" << at_kill
            << " failed:" << failed << " delivered=" << delivered.size()
            << " resets=" << reset_heads.size() << " covered_by_reset=" << covered
            << " lost=" << lost << " reader_connections=" << reader.connections
            << " new_epoch=" << (first.epoch != last.epoch ? "yes" : "no") << "\n";
}

// The replica is cut off (stopped, its link dropped by the primary), 20
// publishes are acknowledged by the primary alone, the primary is killed
// and the replica resumed: the sentinels promote a primary that lacks them.
TEST_F(RedisSentinelSlowTest, FailoverToALaggingReplicaStartsANewEpoch) {
  auto bridge = StartSentinelBridge();
  ASSERT_TRUE(bridge);
  const int port = bridge->http_port();
  SseClient reader;
  ASSERT_TRUE(OpenAttached(&reader, port, EventsTarget({"lag"}))) << reader.Describe();
  GrpcClient grpc(bridge->grpc_port());
  std::vector<std::string> acked;
  for (int i = 0; i < 10; ++i) acked.push_back(grpc.MustPublish("lag", absl::StrCat("r", i)).id());
  // Replicated for sure before the cut: the replica's offset caught up.
  const absl::Time synced_end = absl::Now() + kWait;
  while (RespCommand(cluster_.replica_port(), {"GET", "{ssebridge}:seq"}).text !=
         RespCommand(cluster_.primary_port(), {"GET", "{ssebridge}:seq"}).text) {
    ASSERT_LT(absl::Now(), synced_end) << "the replica never caught up";
    absl::SleepFor(absl::Milliseconds(10));
  }
  std::string error;
  {
    struct Resume {
      RedisSentinelCluster* c;
      ~Resume() { c->ResumeReplica(); }
    } resume{&cluster_};
    ASSERT_TRUE(cluster_.CutOffReplica(&error)) << error;
    for (int i = 0; i < 20; ++i) acked.push_back(grpc.MustPublish("lag", absl::StrCat("lost", i)).id());
    cluster_.KillPrimary();
  }
  ASSERT_TRUE(cluster_.WaitFailover(kFailover, &error)) << error;
  // The bridge follows, notices the new primary is behind, and publishes
  // again in a new epoch.
  const absl::Time end = absl::Now() + kFailover;
  std::string after;
  while (after.empty()) {
    v1::PublishResponse resp;
    grpc::Status s = grpc.Publish(MakePublish("lag", "after"), &resp);
    if (s.ok()) {
      after = resp.id();
      acked.push_back(after);
    } else {
      ASSERT_LT(absl::Now(), end) << s.error_message() << "\n" << bridge->LogText(60);
      absl::SleepFor(absl::Milliseconds(20));  // pacing of retries only
    }
  }
  std::set<std::string> distinct(acked.begin(), acked.end());
  EXPECT_EQ(distinct.size(), acked.size()) << "an id was handed out twice";
  ParsedId before, now;
  ASSERT_TRUE(ParseEventId(acked[acked.size() - 2], &before));
  ASSERT_TRUE(ParseEventId(after, &now));
  EXPECT_NE(before.epoch, now.epoch) << "the new primary lagged: a new epoch";
  // The open stream had every event up to the crash, once, then a reset
  // whose head covers "after" unless "after" came live behind it, then
  // goes on live in the new epoch.
  auto reset_seen = [&] {
    for (const auto& e : reader.events()) {
      if (e.event == "ssebridge.reset") return true;
    }
    return false;
  };
  ASSERT_TRUE(reader.ReadUntil(reset_seen, kFailover)) << reader.Describe();
  std::vector<std::string> before_reset;
  std::string head;
  for (const auto& e : reader.events()) {
    if (e.event == "ssebridge.reset") {
      head = ResetHead(e.data);
      break;
    }
    before_reset.push_back(e.id);
  }
  // Before the reset: acknowledged events in order, each once. The last
  // few may be missing -- Redis may die between answering the publish and
  // writing its pub/sub message -- and then the reset (into the new epoch)
  // covers them: the page refetches.
  ASSERT_LE(before_reset.size(), 30u);
  EXPECT_EQ(before_reset, std::vector<std::string>(acked.begin(),
                                                   acked.begin() + before_reset.size()))
      << "acknowledged events before the crash, in order, once";
  ParsedId head_id;
  ASSERT_TRUE(ParseEventId(head, &head_id)) << head;
  EXPECT_EQ(head_id.epoch, now.epoch) << "the reset leads into the new epoch";
  const std::string live = grpc.MustPublish("lag", "live").id();
  ASSERT_TRUE(reader.WaitForData("live", kWait)) << reader.Describe();
  EXPECT_EQ(reader.events().back().id, live);
  if (now.seq > head_id.seq) {
    bool came = false;
    for (size_t i = before_reset.size() + 1; i < reader.events().size(); ++i) {
      if (reader.events()[i].id == after) came = true;
    }
    std::vector<std::string> all;
    for (const auto& e : reader.events()) all.push_back(e.id + " " + e.event + " " + e.data);
    EXPECT_TRUE(came) << "\"after\" (" << after << ") is past the reset's head (" << head
                      << "): it must come live\n" << absl::StrJoin(all, "\n");
  }
  EXPECT_TRUE(WaitReady(port, 200, kWait));
}

// The old primary stays up as a replica: nothing tells the bridge's
// connections to it that it was demoted but the +switch-master watch (and a
// write meeting READONLY). Every one must leave it.
TEST_F(RedisSentinelSlowTest, FailoverWithTheOldPrimaryAliveMovesEveryConnection) {
  auto bridge = StartSentinelBridge();
  ASSERT_TRUE(bridge);
  SseClient reader;
  ASSERT_TRUE(OpenAttached(&reader, bridge->http_port(), EventsTarget({"mv"})))
      << reader.Describe();
  GrpcClient grpc(bridge->grpc_port());
  const std::string first = grpc.MustPublish("mv", "before").id();
  ASSERT_TRUE(reader.WaitForData("before", kWait)) << reader.Describe();
  const int old_primary = cluster_.primary_port();
  ASSERT_GT(cluster_.OtherClients(old_primary), 0) << "the bridge is not on the primary?";
  std::string error;
  ASSERT_TRUE(cluster_.ForceFailover(&error)) << error;
  ASSERT_TRUE(cluster_.WaitFailover(kFailover, &error)) << error;
  ASSERT_EQ(cluster_.old_primary_port(), old_primary);
  const absl::Time end = absl::Now() + kFailover;
  while (cluster_.OtherClients(old_primary) != 0) {
    ASSERT_LT(absl::Now(), end) << cluster_.OtherClients(old_primary)
                                << " connections stayed on the demoted primary\n"
                                << RespCommand(old_primary, {"CLIENT", "LIST"}).text << "\n"
                                << bridge->LogText(40);
    absl::SleepFor(absl::Milliseconds(20));
  }
  // Publishes go to the new primary; nothing was lost, so no reset.
  std::string after;
  while (after.empty()) {
    v1::PublishResponse resp;
    grpc::Status s = grpc.Publish(MakePublish("mv", "after"), &resp);
    if (s.ok()) {
      after = resp.id();
    } else {
      ASSERT_LT(absl::Now(), end) << s.error_message();
      absl::SleepFor(absl::Milliseconds(20));  // pacing of retries only
    }
  }
  ASSERT_TRUE(reader.WaitForData("after", kWait)) << reader.Describe();
  EXPECT_EQ(reader.events().back().id, after);
  ParsedId a, b;
  ASSERT_TRUE(ParseEventId(first, &a));
  ASSERT_TRUE(ParseEventId(after, &b));
  EXPECT_EQ(a.epoch, b.epoch) << "the new primary had everything: same epoch";
  for (const auto& e : reader.events()) EXPECT_NE(e.event, "ssebridge.reset");
  EXPECT_GT(cluster_.OtherClients(cluster_.primary_port()), 0);
  EXPECT_TRUE(WaitReady(bridge->http_port(), 200, kWait));
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
