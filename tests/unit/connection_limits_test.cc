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
  std::vector<std::unique_ptr<ConnectionLimits::Lease>> leases;
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

}  // namespace
}  // namespace ssebridge
