// DeliveryPolicy names and the per-channel PolicyTable.
#include "bridge/core/delivery_policy.h"

#include <string>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "bridge/core/channel_pattern.h"
#include "gtest/gtest.h"

namespace ssebridge {
namespace {

TEST(DeliveryPolicyTest, ParseKnownNames) {
  EXPECT_EQ(*ParseDeliveryPolicy("disconnect"), DeliveryPolicy::kDisconnect);
  EXPECT_EQ(*ParseDeliveryPolicy("drop-oldest"), DeliveryPolicy::kDropOldest);
  EXPECT_EQ(*ParseDeliveryPolicy("latest-only"), DeliveryPolicy::kLatestOnly);
}

TEST(DeliveryPolicyTest, ParseRejectsUnknown) {
  for (const char* bad :
       {"", "Disconnect", "drop_oldest", "latest", " disconnect", "drop-oldest ", "none"}) {
    absl::StatusOr<DeliveryPolicy> p = ParseDeliveryPolicy(bad);
    EXPECT_FALSE(p.ok()) << "accepted \"" << bad << "\"";
    if (!p.ok()) {
      EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
    }
  }
}

TEST(DeliveryPolicyTest, NamesRoundTrip) {
  for (DeliveryPolicy p :
       {DeliveryPolicy::kDisconnect, DeliveryPolicy::kDropOldest, DeliveryPolicy::kLatestOnly}) {
    absl::StatusOr<DeliveryPolicy> back = ParseDeliveryPolicy(DeliveryPolicyName(p));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, p);
  }
  EXPECT_EQ(DeliveryPolicyName(DeliveryPolicy::kDropOldest), "drop-oldest");
}

TEST(ChannelPatternTest, Matches) {
  EXPECT_TRUE(MatchesPattern("a", "a"));
  EXPECT_FALSE(MatchesPattern("a", "ab"));
  EXPECT_FALSE(MatchesPattern("a", "a.b"));
  EXPECT_TRUE(MatchesPattern("dash.*", "dash.cpu"));
  EXPECT_TRUE(MatchesPattern("dash.*", "dash.cpu.load"));
  EXPECT_FALSE(MatchesPattern("dash.*", "dash"));
  EXPECT_FALSE(MatchesPattern("dash.*", "dashboard"));
  EXPECT_FALSE(MatchesPattern("dash.*", "x.dash.cpu"));
  EXPECT_TRUE(MatchesPattern("*", "anything"));
  // One rule everywhere: no pattern matches the empty string (the policy
  // table once said "*" did, the credential sets that nothing did).
  EXPECT_FALSE(MatchesPattern("*", ""));
  EXPECT_FALSE(MatchesPattern("a*", ""));
  EXPECT_FALSE(MatchesPattern("", ""));
}

TEST(PolicyTableTest, DefaultIsDisconnect) {
  PolicyTable empty;
  EXPECT_EQ(empty.For("x"), DeliveryPolicy::kDisconnect);
  absl::StatusOr<PolicyTable> t = PolicyTable::Parse("", "--policies");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->For("x"), DeliveryPolicy::kDisconnect);
}

TEST(PolicyTableTest, ExactPrefixAndStar) {
  absl::StatusOr<PolicyTable> t =
      PolicyTable::Parse("tasks=disconnect, dash.*=latest-only ,feed=drop-oldest", "--policies");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->For("tasks"), DeliveryPolicy::kDisconnect);
  EXPECT_EQ(t->For("dash.cpu"), DeliveryPolicy::kLatestOnly);
  EXPECT_EQ(t->For("feed"), DeliveryPolicy::kDropOldest);
  EXPECT_EQ(t->For("feed2"), DeliveryPolicy::kDisconnect);
  EXPECT_EQ(t->For("dash"), DeliveryPolicy::kDisconnect);

  t = PolicyTable::Parse("*=drop-oldest", "--policies");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->For("whatever"), DeliveryPolicy::kDropOldest);
}

TEST(PolicyTableTest, FirstMatchWins) {
  absl::StatusOr<PolicyTable> t =
      PolicyTable::Parse("dash.cpu=drop-oldest,dash.*=latest-only,*=drop-oldest", "f");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->For("dash.cpu"), DeliveryPolicy::kDropOldest);
  EXPECT_EQ(t->For("dash.mem"), DeliveryPolicy::kLatestOnly);
  EXPECT_EQ(t->For("other"), DeliveryPolicy::kDropOldest);

  t = PolicyTable::Parse("*=latest-only,dash.cpu=disconnect", "f");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->For("dash.cpu"), DeliveryPolicy::kLatestOnly);
}

TEST(PolicyTableTest, ToleratesWhitespaceAndEmptyRules) {
  absl::StatusOr<PolicyTable> t = PolicyTable::Parse(" a = latest-only ,, ,b=drop-oldest,", "f");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->For("a"), DeliveryPolicy::kLatestOnly);
  EXPECT_EQ(t->For("b"), DeliveryPolicy::kDropOldest);
}

void ExpectBadRule(const std::string& text) {
  absl::StatusOr<PolicyTable> t = PolicyTable::Parse(text, "--delivery_policies");
  ASSERT_FALSE(t.ok()) << "accepted \"" << text << "\"";
  EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(t.status().message(), "--delivery_policies"))
      << text << " -> " << t.status();
}

TEST(PolicyTableTest, RejectsBadRules) {
  ExpectBadRule("tasks");                 // no '='
  ExpectBadRule("=disconnect");           // no pattern
  ExpectBadRule("tasks=");                // no policy
  ExpectBadRule("tasks=sometimes");       // unknown policy
  ExpectBadRule("tasks=disconnect,x=y");  // one bad rule spoils the table
  ExpectBadRule("bad name=disconnect");   // not a channel name
  ExpectBadRule("a/b.*=disconnect");      // bad prefix
  ExpectBadRule("a*b=disconnect");        // star in the middle
  ExpectBadRule("**=disconnect");
}

}  // namespace
}  // namespace ssebridge
