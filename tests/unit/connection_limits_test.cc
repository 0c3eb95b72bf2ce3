#include "bridge/auth/connection_limits.h"

#include <gtest/gtest.h>

namespace ssebridge {
namespace {

TEST(ConnectionLimitsTest, PerUserLimitAndRelease) {
  ConnectionLimits limits(2, 0);
  auto a1 = limits.Acquire("alice", "10.0.0.1");
  auto a2 = limits.Acquire("alice", "10.0.0.2");
  ASSERT_TRUE(a1.ok());
  ASSERT_TRUE(a2.ok());
  auto a3 = limits.Acquire("alice", "10.0.0.3");
  ASSERT_FALSE(a3.ok());
  EXPECT_EQ(a3.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(a3.status().message().find("--max_connections_per_user"), std::string::npos);
  EXPECT_TRUE(limits.Acquire("bob", "10.0.0.1").ok());
  a1->reset();
  EXPECT_EQ(limits.ConnectionsOf("alice"), 1u);
  EXPECT_TRUE(limits.Acquire("alice", "10.0.0.3").ok());
}

TEST(ConnectionLimitsTest, AnonymousCountsOnlyPerAddress) {
  ConnectionLimits limits(1, 2);
  auto x = limits.Acquire("", "127.0.0.1");
  auto y = limits.Acquire("", "127.0.0.1");
  ASSERT_TRUE(x.ok());
  ASSERT_TRUE(y.ok());
  auto z = limits.Acquire("carol", "127.0.0.1");
  ASSERT_FALSE(z.ok());
  EXPECT_NE(z.status().message().find("--max_connections_per_ip"), std::string::npos);
  // The refused user must not keep a phantom slot.
  EXPECT_EQ(limits.ConnectionsOf("carol"), 0u);
  EXPECT_EQ(limits.users(), 0u);
  EXPECT_TRUE(limits.Acquire("carol", "127.0.0.2").ok());
}

TEST(ConnectionLimitsTest, ZeroMeansUnlimited) {
  ConnectionLimits limits(0, 0);
  std::vector<std::shared_ptr<ConnectionLimits::Lease>> leases;
  for (int i = 0; i < 1000; ++i) {
    auto l = limits.Acquire("u", "a");
    ASSERT_TRUE(l.ok());
    leases.push_back(std::move(*l));
  }
  EXPECT_EQ(limits.ConnectionsOf("u"), 1000u);
  leases.clear();
  EXPECT_EQ(limits.ConnectionsOf("u"), 0u);
  EXPECT_EQ(limits.users(), 0u);
}

// The replica's total (--max_connections) is counted by the leases
// themselves: a refused request takes no slot of any kind, and a lease
// dropped anywhere gives its total slot back.
TEST(ConnectionLimitsTest, TotalCapCountsLeasesAndRefusesUnavailable) {
  ConnectionLimits limits(0, 2);
  auto a = limits.Acquire("", "ann", "10.0.0.1", /*max_streams=*/2);
  auto b = limits.Acquire("", "", "10.0.0.2", 2);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(limits.streams(), 2u);
  auto full = limits.Acquire("", "bob", "10.0.0.3", 2);
  ASSERT_FALSE(full.ok());
  EXPECT_EQ(full.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(full.status().message().find("limit of 2 streams (--max_connections)"),
            std::string::npos)
      << full.status();
  EXPECT_EQ(limits.ConnectionsOf("bob"), 0u);
  auto c = limits.Acquire("", "", "10.0.0.4", 3);
  ASSERT_TRUE(c.ok());
  auto d = limits.Acquire("", "", "10.0.0.4", 0);  // no total cap: still per address
  ASSERT_TRUE(d.ok());
  EXPECT_FALSE(limits.Acquire("", "", "10.0.0.4", 0).ok());
  EXPECT_EQ(limits.streams(), 4u);  // the refusal took no total slot
  a->reset();
  EXPECT_EQ(limits.streams(), 3u);
  EXPECT_TRUE(limits.Acquire("", "bob", "10.0.0.3", 4).ok());  // taken, then dropped
  EXPECT_EQ(limits.streams(), 3u);
}

// Issue 16 finding 4: tickets minted by a channel-limited key for "alice"
// used up alice's --max_connections_per_user.
TEST(ConnectionLimitsTest, ConfinedTicketsAreCountedPerMinterAndUser) {
  ConnectionLimits limits(2, 0);
  SubscriberIdentity minted;
  minted.user_id = "alice";
  minted.minted_by = "tasks_only";
  minted.confined_to = *ChannelPatterns::Parse("tasks*");
  auto m1 = limits.Acquire(minted, "10.0.0.1");
  auto m2 = limits.Acquire(minted, "10.0.0.1");
  ASSERT_TRUE(m1.ok() && m2.ok());
  auto m3 = limits.Acquire(minted, "10.0.0.1");
  ASSERT_FALSE(m3.ok());
  EXPECT_NE(m3.status().message().find("tickets of publisher 'tasks_only'"), std::string::npos)
      << m3.status();
  EXPECT_EQ(limits.ConnectionsOf("tasks_only", "alice"), 2u);
  EXPECT_EQ(limits.ConnectionsOf("alice"), 0u);
  // The real alice keeps her whole budget.
  SubscriberIdentity real;
  real.user_id = "alice";
  auto r1 = limits.Acquire(real, "10.0.0.2");
  auto r2 = limits.Acquire(real, "10.0.0.2");
  ASSERT_TRUE(r1.ok() && r2.ok());
  EXPECT_FALSE(limits.Acquire(real, "10.0.0.2").ok());
  EXPECT_EQ(limits.users(), 2u);
  m1->reset();
  m2->reset();
  EXPECT_EQ(limits.ConnectionsOf("tasks_only", "alice"), 0u);
  EXPECT_EQ(limits.users(), 1u);
}

}  // namespace
}  // namespace ssebridge
