// StreamShares (issue 16 finding 9): gRPC Subscribe and publish streams per
// key and overall.
#include "bridge/auth/stream_shares.h"

#include <memory>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace ssebridge {
namespace {

TEST(StreamSharesTest, PerPrincipalAndTotal) {
  StreamShares shares(3, 2);
  std::vector<std::unique_ptr<StreamShares::Lease>> held;
  held.push_back(*shares.Acquire("a"));
  held.push_back(*shares.Acquire("a"));
  absl::Status s = shares.Acquire("a").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(absl::StrContains(s.message(), "--max_grpc_subscribe_streams_per_key")) << s;
  held.push_back(*shares.Acquire("b"));
  s = shares.Acquire("c").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(absl::StrContains(s.message(), "(--max_grpc_subscribe_streams)")) << s;
  EXPECT_EQ(shares.open(), 3u);
  EXPECT_EQ(shares.OpenBy("a"), 2u);
  held.erase(held.begin());  // one of a's ends
  EXPECT_EQ(shares.OpenBy("a"), 1u);
  EXPECT_TRUE(shares.Acquire("c").ok());  // and is released again at once
  held.clear();
  EXPECT_EQ(shares.open(), 0u);
  EXPECT_EQ(shares.OpenBy("a"), 0u);
}

TEST(StreamSharesTest, ZeroPerPrincipalLeavesOnlyTheTotal) {
  StreamShares shares(2, 0);
  auto a = shares.Acquire("a");
  auto b = shares.Acquire("a");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_FALSE(shares.Acquire("a").ok());
}

TEST(StreamSharesTest, RefusalsNameTheirOwnStreamsAndFlags) {
  StreamShares shares(
      2, 1,
      {"gRPC publish streams", "max_grpc_publish_streams", "max_grpc_publish_streams_per_key"});
  auto a = shares.Acquire("a");
  ASSERT_TRUE(a.ok());
  absl::Status s = shares.Acquire("a").status();
  EXPECT_EQ(s.message(),
            "publisher 'a' already has 1 gRPC publish streams open "
            "(--max_grpc_publish_streams_per_key)");
  auto b = shares.Acquire("b");
  ASSERT_TRUE(b.ok());
  s = shares.Acquire("c").status();
  EXPECT_EQ(s.message(),
            "this bridge holds its limit of 2 gRPC publish streams (--max_grpc_publish_streams); "
            "retry later");
}

}  // namespace
}  // namespace ssebridge
