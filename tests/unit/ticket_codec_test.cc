// TicketCodec: the grant a shared ticket store keeps in Redis survives the
// round trip whole, and a record that is not one the codec wrote is refused
// (never half-read into a grant).
#include "bridge/auth/ticket_codec.h"

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace ssebridge {
namespace {

ChannelPatterns Patterns(const std::vector<std::string>& list) {
  absl::StatusOr<ChannelPatterns> p = ChannelPatterns::FromList(list);
  EXPECT_TRUE(p.ok()) << p.status();
  return p.ok() ? *p : ChannelPatterns();
}

TicketGrant Sample() {
  TicketGrant g;
  g.user_id = "alice";
  g.channels = Patterns({"tasks", "user.alice.*"});
  g.minted_by = "backend-1";
  g.expires_at = absl::FromUnixMicros(1700000030123456);
  return g;
}

void ExpectSame(const TicketGrant& a, const TicketGrant& b) {
  EXPECT_EQ(a.user_id, b.user_id);
  EXPECT_EQ(a.channels.patterns(), b.channels.patterns());
  EXPECT_EQ(a.channels.matches_all(), b.channels.matches_all());
  EXPECT_EQ(a.minted_by, b.minted_by);
  EXPECT_EQ(a.expires_at, b.expires_at);
  ASSERT_EQ(a.confined_to.has_value(), b.confined_to.has_value());
  if (a.confined_to.has_value()) {
    EXPECT_EQ(a.confined_to->patterns(), b.confined_to->patterns());
  }
}

TEST(TicketCodecTest, RoundTripsAGrant) {
  const TicketGrant g = Sample();
  absl::StatusOr<TicketGrant> back = DecodeTicketGrant(EncodeTicketGrant(g));
  ASSERT_TRUE(back.ok()) << back.status();
  ExpectSame(g, *back);
  EXPECT_TRUE(back->channels.Matches("user.alice.inbox"));
  EXPECT_FALSE(back->channels.Matches("user.bob.inbox"));
}

TEST(TicketCodecTest, RoundTripsConfinementEmptyListsAndOddBytes) {
  TicketGrant g = Sample();
  g.channels = ChannelPatterns();  // grants no private channel
  g.minted_by = "";
  g.confined_to = Patterns({"shop.*", "*"});
  // Separators of the format inside values must not confuse it.
  g.user_id = "u:12:3,-";
  absl::StatusOr<TicketGrant> back = DecodeTicketGrant(EncodeTicketGrant(g));
  ASSERT_TRUE(back.ok()) << back.status();
  ExpectSame(g, *back);
  EXPECT_TRUE(back->confined_to->matches_all());

  g.confined_to = ChannelPatterns();  // confined to nothing is not "not confined"
  back = DecodeTicketGrant(EncodeTicketGrant(g));
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_TRUE(back->confined_to.has_value());
  EXPECT_TRUE(back->confined_to->empty());
}

TEST(TicketCodecTest, KeepsTheExpiryToTheMicrosecond) {
  TicketGrant g = Sample();
  for (int64_t us : {int64_t{0}, int64_t{1}, int64_t{1700000000000001}}) {
    g.expires_at = absl::FromUnixMicros(us);
    absl::StatusOr<TicketGrant> back = DecodeTicketGrant(EncodeTicketGrant(g));
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(absl::ToUnixMicros(back->expires_at), us);
  }
}

TEST(TicketCodecTest, RefusesWhatItDidNotWrite) {
  const std::string good = EncodeTicketGrant(Sample());
  const std::vector<std::string> bad = {
      "",
      "t2" + good.substr(2),            // another version
      good.substr(0, good.size() - 1),  // truncated
      good + "x",                       // trailing bytes
      "t15:alice",                      // stops after the user
      "t15:alice0:3:abc",               // expiry not a number
      "t15:alice0:1:51:2",              // count without its patterns
      "t15:alice0:1:51:10:1:-",         // a bad pattern (empty)
      "t15:alice0:1:51:12:a*b1:-",      // a bad pattern ('*' inside)
      "t1999999999999:x",               // a length past the end
      "t15:alice0:1:51:x1:-",           // count not a number
  };
  for (const std::string& record : bad) {
    absl::StatusOr<TicketGrant> g = DecodeTicketGrant(record);
    EXPECT_FALSE(g.ok()) << "accepted: " << record;
    if (!g.ok()) {
      EXPECT_EQ(g.status().code(), absl::StatusCode::kDataLoss) << record;
      EXPECT_TRUE(absl::StartsWith(g.status().message(), "ticket record: ")) << record;
    }
  }
}

TEST(TicketCodecTest, EveryPrefixOfARecordIsRefused) {
  TicketGrant g = Sample();
  g.confined_to = Patterns({"tasks"});
  const std::string record = EncodeTicketGrant(g);
  for (size_t n = 0; n < record.size(); ++n) {
    EXPECT_FALSE(DecodeTicketGrant(record.substr(0, n)).ok()) << record.substr(0, n);
  }
}

}  // namespace
}  // namespace ssebridge
