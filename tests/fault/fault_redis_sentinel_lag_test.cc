// Redis Sentinel failovers the bridge must tell apart (issue 21, items 6
// and 2), against real redis-server and redis-sentinel processes:
//   - a failover to a replica that lagged (it missed acknowledged
//     publishes) is Redis going back in time: a new epoch, no id handed
//     out twice, the reader reset past what was lost;
//   - with several bridge replicas, one that saw none of the lost seqs
//     still never hands one out again (every new primary process starts a
//     new epoch: --redis_reset_on_primary_change);
//   - a failover that leaves the old primary running (SENTINEL FAILOVER)
//     moves every connection of the bridge off it (in the same epoch when
//     --redis_reset_on_primary_change is off).
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <functional>
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

class RedisSentinelFailoverSlowTest : public RedisSentinelTest {
 protected:
  void MovesEveryConnection(bool reset_on_primary_change);

  // Waits until the replica has every write so far (its seq caught up).
  void WaitReplicaCaughtUp() {
    const absl::Time end = absl::Now() + kWait;
    while (RespCommand(cluster_.replica_port(), {"GET", "{ssebridge}:seq"}).text !=
           RespCommand(cluster_.primary_port(), {"GET", "{ssebridge}:seq"}).text) {
      ASSERT_LT(absl::Now(), end) << "the replica never caught up";
      absl::SleepFor(absl::Milliseconds(10));
    }
  }

  // Cuts the replica off, publishes `lost` events on "lag" through `grpc`
  // (acknowledged by the primary alone, appended to `acked`), runs
  // `before_kill`, SIGKILLs the primary and resumes the replica: the
  // sentinels then promote a primary that lacks those events.
  void LoseOnTheReplica(
      GrpcClient& grpc, int lost, std::vector<std::string>* acked,
      const std::function<void()>& before_kill = [] {}) {
    struct Resume {
      RedisSentinelCluster* c;
      ~Resume() { c->ResumeReplica(); }
    } resume{&cluster_};
    std::string error;
    ASSERT_TRUE(cluster_.CutOffReplica(&error)) << error;
    for (int i = 0; i < lost; ++i) {
      acked->push_back(grpc.MustPublish("lag", absl::StrCat("lost", i)).id());
    }
    before_kill();
    cluster_.KillPrimary();
  }

  // Publishes until the bridge accepts it (it is following a failover);
  // "" and a failure with the bridge's log after kFailover.
  static std::string PublishUntilAccepted(GrpcClient& grpc, const std::string& channel,
                                          const std::string& data, const BridgeProcess& bridge) {
    const absl::Time end = absl::Now() + kFailover;
    for (;;) {
      v1::PublishResponse resp;
      grpc::Status s = grpc.Publish(MakePublish(channel, data), &resp);
      if (s.ok()) return resp.id();
      if (absl::Now() >= end) {
        ADD_FAILURE() << "publishes never came back: " << s.error_message() << "\n"
                      << bridge.LogText(60);
        return "";
      }
      absl::SleepFor(absl::Milliseconds(20));  // pacing of retries only
    }
  }
};

// The replica is cut off (stopped, its link dropped by the primary), 20
// publishes are acknowledged by the primary alone, the primary is killed
// and the replica resumed: the sentinels promote a primary that lacks them.
TEST_F(RedisSentinelFailoverSlowTest, FailoverToALaggingReplicaStartsANewEpoch) {
  auto bridge = StartSentinelBridge();
  ASSERT_TRUE(bridge);
  const int port = bridge->http_port();
  SseClient reader;
  ASSERT_TRUE(OpenAttached(&reader, port, EventsTarget({"lag"}))) << reader.Describe();
  GrpcClient grpc(bridge->grpc_port());
  std::vector<std::string> acked;
  for (int i = 0; i < 10; ++i) acked.push_back(grpc.MustPublish("lag", absl::StrCat("r", i)).id());
  // Replicated for sure before the cut: the replica's offset caught up.
  ASSERT_NO_FATAL_FAILURE(WaitReplicaCaughtUp());
  ASSERT_NO_FATAL_FAILURE(LoseOnTheReplica(grpc, 20, &acked));
  std::string error;
  ASSERT_TRUE(cluster_.WaitFailover(kFailover, &error)) << error;
  // The bridge follows, notices the new primary is behind, and publishes
  // again in a new epoch.
  const std::string after = PublishUntilAccepted(grpc, "lag", "after", *bridge);
  ASSERT_FALSE(after.empty());
  acked.push_back(after);
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
  EXPECT_EQ(before_reset,
            std::vector<std::string>(acked.begin(), acked.begin() + before_reset.size()))
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
                      << "): it must come live\n"
                      << absl::StrJoin(all, "\n");
  }
  EXPECT_TRUE(WaitReady(port, 200, kWait));
}

// The defect an outside review found with several bridge replicas: each
// knows only the seqs it published or delivered, so after a failover to a
// replica that lagged, a bridge replica that never saw the lost seqs could
// be the first to publish and be handed one of them again. Replica A
// publishes on "lag" (B has no stream there, so B never sees those seqs);
// the Redis replica is cut off for A's last 20; A is frozen so that B
// certainly publishes first on the new primary. B's ids must not repeat
// any of A's, and A's reader and a reader resuming from A's last id
// through B are reset, not silently moved past B's event.
TEST_F(RedisSentinelFailoverSlowTest, AReplicaThatSawNoneOfTheLostSeqsNeverReusesThem) {
  auto a = StartSentinelBridge();
  auto b = StartSentinelBridge();
  ASSERT_TRUE(a && b);
  SseClient on_a, on_b;
  ASSERT_TRUE(OpenAttached(&on_a, a->http_port(), EventsTarget({"lag"}))) << on_a.Describe();
  ASSERT_TRUE(OpenAttached(&on_b, b->http_port(), EventsTarget({"elsewhere"}))) << on_b.Describe();
  GrpcClient via_a(a->grpc_port());
  GrpcClient via_b(b->grpc_port());
  std::vector<std::string> acked;
  for (int i = 0; i < 10; ++i) acked.push_back(via_a.MustPublish("lag", absl::StrCat("r", i)).id());
  ASSERT_NO_FATAL_FAILURE(WaitReplicaCaughtUp());
  ASSERT_NO_FATAL_FAILURE(LoseOnTheReplica(via_a, 20, &acked, [&] {
    ASSERT_TRUE(on_a.WaitForData("lost19", kWait)) << on_a.Describe();
    ASSERT_TRUE(a->Freeze()) << "replica A did not stop";
  }));
  struct Thaw {
    BridgeProcess* p;
    ~Thaw() {
      if (p != nullptr) p->Signal(SIGCONT);
    }
  } thaw{a.get()};
  std::string error;
  ASSERT_TRUE(cluster_.WaitFailover(kFailover, &error)) << error;
  const std::string from_b = PublishUntilAccepted(via_b, "lag", "from b", *b);
  ASSERT_FALSE(from_b.empty());
  EXPECT_EQ(std::count(acked.begin(), acked.end(), from_b), 0)
      << from_b << " was acknowledged to A before the failover: an id handed out twice";
  ParsedId last_a, b_id;
  ASSERT_TRUE(ParseEventId(acked.back(), &last_a));
  ASSERT_TRUE(ParseEventId(from_b, &b_id));
  EXPECT_TRUE(b_id.epoch != last_a.epoch || b_id.seq > last_a.seq)
      << "B's " << from_b << " is inside what A handed out (up to " << acked.back() << ")";
  // A browser that read up to A's last id reconnects through B (once B's
  // fan-out is back too: until then it refuses new streams with 503).
  ASSERT_TRUE(WaitReady(b->http_port(), 200, kFailover)) << b->LogText(60);
  SseClientOptions resume_from;
  resume_from.headers.emplace_back("Last-Event-ID", acked.back());
  SseClient moved;
  ASSERT_TRUE(moved.Open(b->http_port(), EventsTarget({"lag"}), resume_from));
  ASSERT_TRUE(moved.ReadUntil(
      [&] {
        for (const auto& e : moved.events()) {
          if (e.event == "ssebridge.reset" || e.id == from_b) return true;
        }
        return false;
      },
      kWait))
      << moved.Describe();
  EXPECT_EQ(moved.events().front().event, "ssebridge.reset")
      << "resuming past A's last id must not skip B's event\n"
      << moved.Describe();
  // A wakes up: its open reader is reset into B's epoch, then goes on live.
  thaw.p->Signal(SIGCONT);
  thaw.p = nullptr;
  auto reset_seen = [&] {
    for (const auto& e : on_a.events()) {
      if (e.event == "ssebridge.reset") return true;
    }
    return false;
  };
  ASSERT_TRUE(on_a.ReadUntil(reset_seen, kFailover)) << on_a.Describe();
  std::vector<std::string> before_reset;
  for (const auto& e : on_a.events()) {
    if (e.event == "ssebridge.reset") break;
    before_reset.push_back(e.id);
  }
  EXPECT_EQ(before_reset, acked) << "A's reader had every acknowledged event, once";
  const std::string live = PublishUntilAccepted(via_a, "lag", "live", *a);
  ASSERT_FALSE(live.empty());
  ASSERT_TRUE(on_a.WaitForData("live", kWait)) << on_a.Describe();
  EXPECT_EQ(on_a.events().back().id, live);
}

// The old primary stays up as a replica: nothing tells the bridge's
// connections to it that it was demoted but the +switch-master watch (and a
// write meeting READONLY). Every one must leave it. By default the new
// primary's first script starts a new epoch (another server history), so
// the open stream gets exactly one reset and goes on live; with
// --redis_reset_on_primary_change=false and nothing lost, the epoch stays
// and nothing is reset.
void RedisSentinelFailoverSlowTest::MovesEveryConnection(bool reset_on_primary_change) {
  auto bridge = StartSentinelBridge({absl::StrCat("--redis_reset_on_primary_change=",
                                                  reset_on_primary_change ? "true" : "false")});
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
  auto publish = [&](const std::string& data) {
    return PublishUntilAccepted(grpc, "mv", data, *bridge);
  };
  const std::string after = publish("after");
  ASSERT_FALSE(after.empty());
  ParsedId a, b;
  ASSERT_TRUE(ParseEventId(first, &a));
  ASSERT_TRUE(ParseEventId(after, &b));
  int resets = 0;
  if (reset_on_primary_change) {
    EXPECT_NE(a.epoch, b.epoch) << "another server history: a new epoch";
    EXPECT_GT(b.seq, a.seq);
    auto reset_seen = [&] {
      for (const auto& e : reader.events()) {
        if (e.event == "ssebridge.reset") return true;
      }
      return false;
    };
    ASSERT_TRUE(reader.ReadUntil(reset_seen, kWait)) << reader.Describe();
    const std::string live = publish("live");
    ASSERT_TRUE(reader.WaitForData("live", kWait)) << reader.Describe();
    EXPECT_EQ(reader.events().back().id, live);
  } else {
    ASSERT_TRUE(reader.WaitForData("after", kWait)) << reader.Describe();
    EXPECT_EQ(reader.events().back().id, after);
    EXPECT_EQ(a.epoch, b.epoch) << "the new primary had everything: same epoch";
  }
  for (const auto& e : reader.events()) resets += e.event == "ssebridge.reset";
  EXPECT_EQ(resets, reset_on_primary_change ? 1 : 0) << reader.Describe();
  EXPECT_EQ(reader.events().front().id, first) << "nothing before the failover was lost";
  EXPECT_GT(cluster_.OtherClients(cluster_.primary_port()), 0);
  EXPECT_TRUE(WaitReady(bridge->http_port(), 200, kWait));
}

TEST_F(RedisSentinelFailoverSlowTest, FailoverWithTheOldPrimaryAliveMovesEveryConnection) {
  MovesEveryConnection(/*reset_on_primary_change=*/true);
}

TEST_F(RedisSentinelFailoverSlowTest, FailoverWithTheOldPrimaryAliveKeepsTheEpochWhenAskedTo) {
  MovesEveryConnection(/*reset_on_primary_change=*/false);
}

}  // namespace
}  // namespace ssebridge_it
