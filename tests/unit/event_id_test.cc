// EventId: "<epoch>-<seq>" parsing, formatting and fresh epochs.
#include "bridge/core/event_id.h"

#include <string>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace ssebridge {
namespace {

TEST(EventIdTest, ToString) {
  EventId id{"abc123", 42};
  EXPECT_EQ(id.ToString(), "abc123-42");
  EXPECT_EQ((EventId{"z", 0}).ToString(), "z-0");
}

TEST(EventIdTest, Equality) {
  EXPECT_TRUE((EventId{"a", 1}) == (EventId{"a", 1}));
  EXPECT_FALSE((EventId{"a", 1}) == (EventId{"a", 2}));
  EXPECT_FALSE((EventId{"a", 1}) == (EventId{"b", 1}));
}

TEST(EventIdTest, ParsesValidIds) {
  absl::StatusOr<EventId> id = ParseEventId("k9x2-17", "cursor");
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->epoch, "k9x2");
  EXPECT_EQ(id->seq, 17u);

  id = ParseEventId("0-0", "cursor");
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->epoch, "0");
  EXPECT_EQ(id->seq, 0u);

  id = ParseEventId("e-18446744073709551615", "cursor");
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->seq, 18446744073709551615ull);

  // A 32-character epoch is the longest allowed.
  id = ParseEventId(std::string(32, 'a') + "-5", "cursor");
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->epoch, std::string(32, 'a'));
}

TEST(EventIdTest, RoundTrip) {
  EventId in{"lq0z8m1abc", 123456789};
  absl::StatusOr<EventId> out = ParseEventId(in.ToString(), "f");
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_TRUE(*out == in);
}

void ExpectRejected(const std::string& text) {
  absl::StatusOr<EventId> id = ParseEventId(text, "Last-Event-ID");
  ASSERT_FALSE(id.ok()) << "accepted \"" << text << "\"";
  EXPECT_EQ(id.status().code(), absl::StatusCode::kInvalidArgument) << text;
  EXPECT_TRUE(absl::StartsWith(id.status().message(), "Last-Event-ID"))
      << text << " -> " << id.status();
}

TEST(EventIdTest, RejectsMalformed) {
  ExpectRejected("");
  ExpectRejected("abc");                        // missing dash
  ExpectRejected("abc17");                      // missing dash
  ExpectRejected("-17");                        // empty epoch
  ExpectRejected("abc-");                       // empty seq
  ExpectRejected("-");                          // both empty
  ExpectRejected("ABC-1");                      // uppercase epoch
  ExpectRejected("aBc-1");                      // uppercase epoch
  ExpectRejected("ab_c-1");                     // epoch punctuation
  ExpectRejected("ab c-1");                     // epoch space
  ExpectRejected("a-b-1");                      // dash inside epoch
  ExpectRejected("abc-1x");                     // non-digit seq
  ExpectRejected("abc-+1");                     // sign
  ExpectRejected("abc--1");                     // negative
  ExpectRejected("abc- 1");                     // space
  ExpectRejected("abc-1 ");                     // trailing space
  ExpectRejected("abc-0x10");                   // hex
  ExpectRejected(std::string(33, 'a') + "-1");  // epoch over 32
}

TEST(EventIdTest, RejectsOverflow) {
  ExpectRejected("e-18446744073709551616");   // uint64 max + 1
  ExpectRejected("e-99999999999999999999");   // 20 digits, too big
  ExpectRejected("e-123456789012345678901");  // 21 digits
}

TEST(EventIdTest, RejectsOverLongText) {
  // 65 characters overall, each part otherwise fine.
  std::string text = std::string(32, 'a') + "-" + std::string(32, '0');
  ASSERT_EQ(text.size(), 65u);
  ExpectRejected(text);
  ExpectRejected(std::string(1000, '1'));
}

TEST(EventIdTest, ErrorNamesTheFieldPassedIn) {
  absl::StatusOr<EventId> id = ParseEventId("nope", "my_field");
  ASSERT_FALSE(id.ok());
  EXPECT_TRUE(absl::StrContains(id.status().message(), "my_field")) << id.status();
  id = ParseEventId("x-y", "other.field");
  ASSERT_FALSE(id.ok());
  EXPECT_TRUE(absl::StrContains(id.status().message(), "other.field")) << id.status();
  EXPECT_FALSE(absl::StrContains(id.status().message(), "my_field"));
}

bool IsBase36Lower(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z'))) return false;
  }
  return true;
}

TEST(NewEpochTest, IsLowercaseBase36AndParsesAsEpoch) {
  std::string e = NewEpoch();
  EXPECT_TRUE(IsBase36Lower(e)) << e;
  EXPECT_LE(e.size(), 32u);
  absl::StatusOr<EventId> id = ParseEventId(e + "-1", "f");
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->epoch, e);
}

TEST(NewEpochTest, TwoCallsDiffer) {
  std::string a = NewEpoch();
  std::string b = NewEpoch();
  EXPECT_NE(a, b);
  EXPECT_TRUE(IsBase36Lower(a)) << a;
  EXPECT_TRUE(IsBase36Lower(b)) << b;
}

}  // namespace
}  // namespace ssebridge
