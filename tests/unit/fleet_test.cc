// The fleet's pure parts (bridge/core/fleet.h) and ConnectionLimits over a
// fake Fleet: the per-user cap counts the fleet, falls back to the local
// count when the fleet is away, and gives back what it took.
#include "bridge/core/fleet.h"

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "bridge/auth/connection_limits.h"
#include "gtest/gtest.h"

namespace ssebridge {
namespace {

TEST(FleetStreamKeyTest, UsersAndMintedPairsNeverCollide) {
  EXPECT_EQ(FleetStreamKey("", "alice"), "u:alice");
  EXPECT_EQ(FleetStreamKey("pub", "alice"), "m:3:pub:alice");
  // A minter name with a colon cannot pose as another split.
  EXPECT_NE(FleetStreamKey("a:b", "c"), FleetStreamKey("a", "b:c"));
  EXPECT_NE(FleetStreamKey("", "m:1:a:b"), FleetStreamKey("a", "b"));
}

TEST(ReplicaStatsCodecTest, RoundTripsAndRejectsOtherText) {
  ReplicaStats s;
  s.replica = "ignored";
  s.connections = 7;
  s.grpc_subscribers = 2;
  s.channels = 3;
  s.users = 5;
  s.published = 123456789012ULL;
  s.reported_at = absl::FromUnixMicros(1700000000123456);
  ReplicaStats back;
  ASSERT_TRUE(DecodeReplicaStats("pod-a", EncodeReplicaStats(s), &back));
  EXPECT_EQ(back.replica, "pod-a");
  EXPECT_EQ(back.connections, 7u);
  EXPECT_EQ(back.grpc_subscribers, 2u);
  EXPECT_EQ(back.channels, 3u);
  EXPECT_EQ(back.users, 5u);
  EXPECT_EQ(back.published, 123456789012ULL);
  EXPECT_EQ(back.reported_at, s.reported_at);
  EXPECT_FALSE(DecodeReplicaStats("x", "", &back));
  EXPECT_FALSE(DecodeReplicaStats("x", "v2 1 2 3 4 5 6", &back));
  EXPECT_FALSE(DecodeReplicaStats("x", "v1 1 2 3 4 5", &back));
  EXPECT_FALSE(DecodeReplicaStats("x", "v1 1 2 3 -4 5 6", &back));
}

TEST(ReplicaStatsCodecTest, SumAddsEveryCount) {
  ReplicaStats a, b;
  a.replica = "a";
  a.connections = 1;
  a.grpc_subscribers = 2;
  a.channels = 3;
  a.users = 4;
  a.published = 5;
  b.replica = "b";
  b.connections = 10;
  b.grpc_subscribers = 20;
  b.channels = 30;
  b.users = 40;
  b.published = 50;
  const ReplicaStats sum = SumReplicaStats({a, b});
  EXPECT_EQ(sum.replica, "");
  EXPECT_EQ(sum.connections, 11u);
  EXPECT_EQ(sum.grpc_subscribers, 22u);
  EXPECT_EQ(sum.channels, 33u);
  EXPECT_EQ(sum.users, 44u);
  EXPECT_EQ(sum.published, 55u);
  EXPECT_EQ(SumReplicaStats({}).connections, 0u);
}

// A fleet where `others` streams of every key are open elsewhere.
class FakeFleet : public Fleet {
 public:
  const std::string& replica() const override { return name_; }
  absl::Status Start(Hooks) override { return absl::OkStatus(); }
  void Stop(absl::Time) override {}
  absl::StatusOr<bool> TakeStream(absl::string_view key, size_t limit, size_t* held) override {
    if (away) return absl::UnavailableError("away");
    *held = others + mine[key];
    if (limit > 0 && *held >= limit) return false;
    ++mine[key];
    return true;
  }
  void ReleaseStream(absl::string_view key) override { --mine[key]; }
  void CountUnchecked(absl::string_view key) override {
    ++mine[key];
    ++unchecked[key];
  }
  absl::StatusOr<FleetDisconnect> DisconnectElsewhere(const std::string&) override {
    return FleetDisconnect{};
  }
  absl::StatusOr<std::vector<ReplicaStats>> Stats() override { return std::vector<ReplicaStats>{}; }

  size_t others = 0;
  bool away = false;
  absl::flat_hash_map<std::string, int> mine;
  absl::flat_hash_map<std::string, int> unchecked;

 private:
  std::string name_ = "fake";
};

TEST(ConnectionLimitsFleetTest, CountsTheUsersStreamsOnOtherReplicas) {
  FakeFleet fleet;
  fleet.others = 2;
  ConnectionLimits limits(3, 0, &fleet);
  auto first = limits.Acquire("alice", "10.0.0.1");
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(fleet.mine["u:alice"], 1);
  auto second = limits.Acquire("alice", "10.0.0.1");
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(second.status().message().find("on all replicas"), std::string::npos);
  EXPECT_NE(second.status().message().find("--max_connections_per_user"), std::string::npos);
  // The refused stream left no local slot behind.
  EXPECT_EQ(limits.ConnectionsOf("alice"), 1u);
  first->reset();
  EXPECT_EQ(fleet.mine["u:alice"], 0);
  EXPECT_EQ(limits.ConnectionsOf("alice"), 0u);
}

TEST(ConnectionLimitsFleetTest, ConfinedTicketsAreCountedPerPairInTheFleet) {
  FakeFleet fleet;
  ConnectionLimits limits(1, 0, &fleet);
  auto lease = limits.Acquire("pub", "alice", "10.0.0.1");
  ASSERT_TRUE(lease.ok());
  EXPECT_EQ(fleet.mine[FleetStreamKey("pub", "alice")], 1);
  auto again = limits.Acquire("pub", "alice", "10.0.0.1");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), absl::StatusCode::kResourceExhausted);
}

TEST(ConnectionLimitsFleetTest, AFleetAwayFallsBackToTheLocalCount) {
  FakeFleet fleet;
  fleet.others = 5;
  fleet.away = true;
  ConnectionLimits limits(2, 0, &fleet);
  auto a = limits.Acquire("alice", "10.0.0.1");
  auto b = limits.Acquire("alice", "10.0.0.1");
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b.ok());
  EXPECT_FALSE(limits.Acquire("alice", "10.0.0.1").ok());  // the local cap holds
  EXPECT_EQ(limits.fleet_unchecked(), 2u);
  // Let in unchecked, but counted in the fleet for when its store is back,
  // and given back there like any other.
  EXPECT_EQ(fleet.unchecked["u:alice"], 2);
  EXPECT_EQ(fleet.mine["u:alice"], 2);
  fleet.away = false;
  a->reset();
  EXPECT_EQ(fleet.mine["u:alice"], 1);
  b->reset();
  EXPECT_EQ(fleet.mine["u:alice"], 0);
}

TEST(ConnectionLimitsFleetTest, AnonymousAndUnlimitedNeverAskTheFleet) {
  FakeFleet fleet;
  fleet.away = true;
  ConnectionLimits unlimited(0, 0, &fleet);
  ASSERT_TRUE(unlimited.Acquire("alice", "10.0.0.1").ok());
  ConnectionLimits limited(1, 0, &fleet);
  ASSERT_TRUE(limited.Acquire("", "10.0.0.1").ok());
  EXPECT_EQ(unlimited.fleet_unchecked() + limited.fleet_unchecked(), 0u);
}

}  // namespace
}  // namespace ssebridge
