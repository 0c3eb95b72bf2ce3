// BuildTicketGrant (issue 16 findings 4 and 6): what a minter may grant,
// the bounds naming their flags, and work linear in the list.
#include "bridge/auth/ticket_request.h"

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace ssebridge {
namespace {

PublisherIdentity Limited(const std::string& patterns) {
  PublisherIdentity who;
  who.name = "tasks_only";
  who.channels = *ChannelPatterns::Parse(patterns);
  return who;
}

PublisherIdentity Everything() {
  PublisherIdentity who;
  who.name = "backend";
  who.channels = *ChannelPatterns::Parse("*");
  who.all_channels = true;
  return who;
}

TicketStore::Options Wide() {
  TicketStore::Options o;
  o.max_channels_per_ticket = 1000000;
  return o;
}

std::vector<std::string> Distinct(size_t n) {
  std::vector<std::string> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) out.push_back(absl::StrCat("tasks.", i));
  return out;
}

TEST(TicketRequestTest, LimitedMinterIsConfinedAndEmptyMeansItsPatterns) {
  absl::StatusOr<TicketGrant> g = BuildTicketGrant(Limited("tasks*"), "alice", {}, {});
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(g->channels.patterns(), std::vector<std::string>{"tasks*"});
  ASSERT_TRUE(g->confined_to.has_value());
  EXPECT_TRUE(g->confined_to->Matches("tasks.1"));
  EXPECT_FALSE(g->confined_to->Matches("news"));
  EXPECT_EQ(g->minted_by, "tasks_only");

  g = BuildTicketGrant(Limited("tasks*"), "alice", {"tasks.a", "tasks.b*"}, {});
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(g->channels.patterns(), (std::vector<std::string>{"tasks.a", "tasks.b*"}));
  EXPECT_TRUE(g->confined_to.has_value());

  g = BuildTicketGrant(Limited("tasks*"), "alice", {"tasks", "billing"}, {});
  EXPECT_EQ(g.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(absl::StrContains(g.status().message(), "'billing'")) << g.status();
  EXPECT_EQ(BuildTicketGrant(Limited("tasks*"), "alice", {"*"}, {}).status().code(),
            absl::StatusCode::kPermissionDenied);
}

TEST(TicketRequestTest, UnrestrictedMinterIsNotConfined) {
  absl::StatusOr<TicketGrant> g = BuildTicketGrant(Everything(), "alice", {}, {});
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_TRUE(g->channels.empty());  // public channels only, as before
  EXPECT_FALSE(g->confined_to.has_value());
  // A JWT publisher whose claim is "*" is unrestricted too.
  PublisherIdentity jwt = Limited("*");
  g = BuildTicketGrant(jwt, "alice", {"billing"}, {});
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_FALSE(g->confined_to.has_value());
}

TEST(TicketRequestTest, BoundsNameTheirFlags) {
  TicketStore::Options o;
  o.max_channels_per_ticket = 4;
  o.max_pattern_bytes = 10;
  absl::Status s = BuildTicketGrant(Everything(), "u", Distinct(5), o).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(s.message(), "--max_ticket_channels")) << s;
  EXPECT_TRUE(BuildTicketGrant(Everything(), "u", Distinct(4), o).ok());
  s = BuildTicketGrant(Everything(), "u", {"tasks", std::string(11, 'a')}, o).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(s.message(), "channels[1]")) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "--max_ticket_pattern_bytes")) << s;
  s = BuildTicketGrant(Everything(), "u", {"a*b"}, o).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
}

// Issue 16 finding 6: issuing took 0.12 / 0.30 / 1.6 / 7.5 s for 10k / 20k /
// 40k / 80k patterns (a pairwise de-dup: n/2 comparisons per pattern). The
// work counter counts every hash, equality and grant comparison; per
// pattern it must stay a constant (the de-dup's few operations, more in a
// debug build, plus one per pattern of the minter) whatever the list's size.
TEST(TicketRequestTest, WorkIsLinearInThePatterns) {
  for (const PublisherIdentity& who : {Everything(), Limited("tasks.*,billing")}) {
    const size_t per_pattern = 16 + who.channels.patterns().size() + 1;
    for (size_t n : {200, 2000, 20000}) {
      size_t work = 0;
      ASSERT_TRUE(BuildTicketGrant(who, "u", Distinct(n), Wide(), &work).ok());
      EXPECT_GE(work, n);
      EXPECT_LE(work, per_pattern * n) << who.name << ", " << n << " patterns";
      work = 0;
      absl::StatusOr<TicketGrant> g =
          BuildTicketGrant(who, "u", std::vector<std::string>(n, "tasks.x"), Wide(), &work);
      ASSERT_TRUE(g.ok());
      EXPECT_EQ(g->channels.patterns().size(), 1u);
      EXPECT_LE(work, per_pattern * n) << who.name << ", " << n << " duplicates";
    }
  }
}

}  // namespace
}  // namespace ssebridge
