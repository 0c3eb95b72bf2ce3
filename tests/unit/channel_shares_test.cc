// ChannelShares (issue 16 finding 9): a publisher's share of --max_channels.
#include "bridge/auth/channel_shares.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/unit/fixed_clock.h"

namespace ssebridge {
namespace {

TEST(ChannelSharesTest, EachPrincipalHoldsAtMostItsShare) {
  ChannelShares shares(2, absl::Minutes(1));
  ASSERT_TRUE(shares.Charge("k1", "a", kT0).ok());
  ASSERT_TRUE(shares.Charge("k1", "b", kT0).ok());
  ASSERT_TRUE(shares.Charge("k1", "a", kT0).ok());  // held already
  absl::Status s = shares.Charge("k1", "c", kT0);
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(absl::StrContains(s.message(), "--max_channels_per_key")) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "'k1'")) << s;
  // Others are not affected, even on the same channels.
  EXPECT_TRUE(shares.Charge("k2", "a", kT0).ok());
  EXPECT_TRUE(shares.Charge("k2", "c", kT0).ok());
  EXPECT_EQ(shares.ChannelsOf("k1"), 2u);
}

TEST(ChannelSharesTest, AChannelIsFreedALifetimeAfterTheLastPublish) {
  ChannelShares shares(2, absl::Minutes(1));
  ASSERT_TRUE(shares.Charge("k", "a", kT0).ok());
  ASSERT_TRUE(shares.Charge("k", "b", kT0 + absl::Seconds(30)).ok());
  EXPECT_FALSE(shares.Charge("k", "c", kT0 + absl::Seconds(59)).ok());
  // "a" expired at kT0 + 60 s; "b" is still held. The refusal above swept
  // at 59 s, so the next sweep may run a second later.
  EXPECT_TRUE(shares.Charge("k", "c", kT0 + absl::Seconds(60)).ok());
  EXPECT_FALSE(shares.Charge("k", "d", kT0 + absl::Seconds(61)).ok());
  // A publish keeps its channel held.
  ASSERT_TRUE(shares.Charge("k", "b", kT0 + absl::Seconds(85)).ok());
  EXPECT_FALSE(shares.Charge("k", "d", kT0 + absl::Seconds(100)).ok());
  EXPECT_TRUE(shares.Charge("k", "d", kT0 + absl::Seconds(121)).ok());  // "c" went
}

TEST(ChannelSharesTest, ZeroKeepsNothing) {
  ChannelShares shares(0, absl::Minutes(1));
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(shares.Charge("k", absl::StrCat("c", i), kT0).ok());
  }
  EXPECT_EQ(shares.ChannelsOf("k"), 0u);
}

}  // namespace
}  // namespace ssebridge
