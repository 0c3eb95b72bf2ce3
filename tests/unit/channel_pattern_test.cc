// ChannelPatterns: exact names, `prefix*`, '*', what is invalid, and the
// edges of matching.
#include "bridge/core/channel_pattern.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace ssebridge {
namespace {

ChannelPatterns Must(absl::string_view list) {
  absl::StatusOr<ChannelPatterns> p = ChannelPatterns::Parse(list);
  EXPECT_TRUE(p.ok()) << list << ": " << p.status();
  return p.ok() ? *p : ChannelPatterns();
}

TEST(ChannelPatternsTest, DefaultAndEmptyMatchNothing) {
  ChannelPatterns none;
  EXPECT_TRUE(none.empty());
  EXPECT_FALSE(none.Matches("tasks"));
  EXPECT_TRUE(Must("").empty());
  EXPECT_TRUE(Must("   ").empty());
  EXPECT_FALSE(Must("").Matches("tasks"));
  absl::StatusOr<ChannelPatterns> from_empty = ChannelPatterns::FromList({});
  ASSERT_TRUE(from_empty.ok());
  EXPECT_FALSE(from_empty->Matches("x"));
}

TEST(ChannelPatternsTest, ExactNames) {
  ChannelPatterns p = Must("tasks, news");
  EXPECT_TRUE(p.Matches("tasks"));
  EXPECT_TRUE(p.Matches("news"));
  EXPECT_FALSE(p.Matches("task"));
  EXPECT_FALSE(p.Matches("tasks2"));
  EXPECT_FALSE(p.Matches("Tasks"));  // case-sensitive
  EXPECT_FALSE(p.Matches(""));
  EXPECT_FALSE(p.matches_all());
  EXPECT_EQ(p.patterns(), (std::vector<std::string>{"tasks", "news"}));
}

TEST(ChannelPatternsTest, PrefixWildcard) {
  ChannelPatterns p = Must("user.alice.*,tasks*");
  EXPECT_TRUE(p.Matches("user.alice.inbox"));
  EXPECT_TRUE(p.Matches("user.alice."));  // '*' matches zero characters
  EXPECT_FALSE(p.Matches("user.alice"));
  EXPECT_FALSE(p.Matches("user.alicebob.x"));
  EXPECT_FALSE(p.Matches("user.bob.inbox"));
  EXPECT_FALSE(p.Matches("USER.alice.inbox"));
  EXPECT_TRUE(p.Matches("tasks"));  // prefix equal to the channel
  EXPECT_TRUE(p.Matches("tasks.42"));
  EXPECT_TRUE(p.Matches("tasksXYZ"));
  EXPECT_FALSE(p.Matches("task"));
  EXPECT_FALSE(p.Matches("xtasks"));
}

TEST(ChannelPatternsTest, StarMatchesEveryChannel) {
  ChannelPatterns p = Must("*");
  EXPECT_TRUE(p.matches_all());
  EXPECT_TRUE(p.Matches("a"));
  EXPECT_TRUE(p.Matches("anything.at:all-_"));
  EXPECT_FALSE(p.Matches(""));
  EXPECT_TRUE(Must("tasks, *").matches_all());
}

TEST(ChannelPatternsTest, InvalidPatternsAreNamed) {
  struct Case {
    const char* list;
    const char* message;
  };
  for (const Case& c : std::vector<Case>{
           {"a*b", "\"a*b\": '*' is only allowed once, at the end"},
           {"**", "\"**\": '*' is only allowed once"},
           {"*a", "\"*a\": '*' is only allowed once"},
           {"a,,b", "empty item"},
           {"a,", "empty item"},
           {",a", "empty item"},
           {"a, ,b", "empty item"},
           {"tasks/1", "\"tasks/1\": has a character outside"},
           {"a b", "\"a b\": has a character outside"},
           {"caf\xc3\xa9*", "has a character outside"},
           {"new\nline", "\"new\\nline\""},
       }) {
    absl::StatusOr<ChannelPatterns> p = ChannelPatterns::Parse(c.list);
    ASSERT_FALSE(p.ok()) << c.list;
    EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(absl::StrContains(p.status().message(), c.message))
        << c.list << " -> " << p.status().message();
  }
  EXPECT_FALSE(ChannelPatterns::FromList({"ok", ""}).ok());
  EXPECT_FALSE(ChannelPatterns::FromList({" ok"}).ok());  // only Parse trims
}

TEST(ChannelPatternsTest, LengthLimitFollowsChannelNames) {
  EXPECT_TRUE(ChannelPatterns::Validate(std::string(128, 'x')).ok());
  EXPECT_TRUE(ChannelPatterns::Validate(std::string(128, 'x') + "*").ok());
  EXPECT_FALSE(ChannelPatterns::Validate(std::string(129, 'x')).ok());
  absl::Status s = ChannelPatterns::Validate(std::string(1000, 'x') + "/");
  ASSERT_FALSE(s.ok());
  EXPECT_LT(s.message().size(), 150u) << "a long pattern is echoed in full";
}

TEST(ChannelPatternsTest, FromListDeduplicatesAndKeepsOrder) {
  absl::StatusOr<ChannelPatterns> p = ChannelPatterns::FromList({"b", "a*", "b", "a*", "c"});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->patterns(), (std::vector<std::string>{"b", "a*", "c"}));
  EXPECT_TRUE(p->Matches("abc"));
  EXPECT_TRUE(p->Matches("c"));
  EXPECT_FALSE(p->Matches("d"));
}

// Issue 16 finding 6: the de-dup compared each pattern with every earlier
// one (n/2 comparisons per pattern: 15,000 at 30,000 patterns). The hash and
// equality operations per pattern must stay a small constant at any size
// (about 2 in a release build; debug builds of the hash set add checks).
TEST(ChannelPatternsTest, FromListWorkIsLinear) {
  for (size_t n : {300, 3000, 30000}) {
    std::vector<std::string> distinct;
    for (size_t i = 0; i < n; ++i) distinct.push_back(absl::StrCat("c.", i));
    size_t work = 0;
    absl::StatusOr<ChannelPatterns> set = ChannelPatterns::FromList(distinct, &work);
    ASSERT_TRUE(set.ok());
    EXPECT_EQ(set->patterns().size(), n);
    EXPECT_GE(work, n);
    EXPECT_LE(work, 16 * n) << n << " patterns";
    work = 0;
    ASSERT_TRUE(ChannelPatterns::FromList(std::vector<std::string>(n, "c"), &work).ok());
    EXPECT_LE(work, 16 * n) << n << " copies of one pattern";
  }
}

}  // namespace
}  // namespace ssebridge
