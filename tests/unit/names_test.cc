// Names: channel names, event types, user ids and UTF-8 validity.
#include "bridge/core/names.h"

#include <string>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace ssebridge {
namespace {

void ExpectInvalidName(const absl::Status& s, const std::string& field, const std::string& what) {
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << what << ": " << s;
  EXPECT_TRUE(absl::StartsWith(s.message(), field)) << what << ": " << s;
}

TEST(ChannelNameTest, AcceptsTheAllowedAlphabet) {
  EXPECT_TRUE(ValidateChannelName("a", "channel").ok());
  EXPECT_TRUE(ValidateChannelName("Tasks_01.user-7:done", "channel").ok());
  EXPECT_TRUE(ValidateChannelName("ABCXYZabcxyz0189_.:-", "channel").ok());
  EXPECT_TRUE(ValidateChannelName(std::string(128, 'x'), "channel").ok());
  EXPECT_TRUE(ValidateChannelName("-", "channel").ok());
}

TEST(ChannelNameTest, RejectsEmptyAndTooLong) {
  ExpectInvalidName(ValidateChannelName("", "channel"), "channel", "empty");
  ExpectInvalidName(ValidateChannelName(std::string(129, 'x'), "channels[2]"), "channels[2]",
                    "129 chars");
}

TEST(ChannelNameTest, RejectsOtherCharacters) {
  for (const char* bad : {"a b", "a/b", "a*", "a,b", "a\nb", "a=b", "a?b", "#", "a%20",
                          "\xC3\xA9t\xC3\xA9", "a\tb", "a+b", "a@b"}) {
    ExpectInvalidName(ValidateChannelName(bad, "ch"), "ch", bad);
  }
  ExpectInvalidName(ValidateChannelName(std::string("a\0b", 3), "ch"), "ch", "NUL");
}

TEST(EventTypeTest, Accepts) {
  EXPECT_TRUE(ValidateEventType("", "event").ok());  // means "message"
  EXPECT_TRUE(ValidateEventType("message", "event").ok());
  EXPECT_TRUE(ValidateEventType("task done: ok", "event").ok());
  EXPECT_TRUE(ValidateEventType(std::string(64, 't'), "event").ok());
  EXPECT_TRUE(ValidateEventType("\xC3\xA9v\xC3\xA9nement", "event").ok());
  EXPECT_TRUE(ValidateEventType("ssebridge", "event").ok());
  EXPECT_TRUE(ValidateEventType("my.ssebridge.x", "event").ok());
}

TEST(EventTypeTest, RejectsLineBreaksAndNul) {
  ExpectInvalidName(ValidateEventType("a\nb", "event"), "event", "LF");
  ExpectInvalidName(ValidateEventType("a\rb", "event"), "event", "CR");
  ExpectInvalidName(ValidateEventType("a\r\n", "event"), "event", "CRLF");
  ExpectInvalidName(ValidateEventType(std::string("a\0b", 3), "event"), "event", "NUL");
}

TEST(EventTypeTest, RejectsTooLong) {
  ExpectInvalidName(ValidateEventType(std::string(65, 't'), "event"), "event", "65 chars");
}

TEST(EventTypeTest, RejectsReservedPrefix) {
  ExpectInvalidName(ValidateEventType("ssebridge.reset", "event"), "event", "reset");
  ExpectInvalidName(ValidateEventType("ssebridge.", "event"), "event", "prefix");
  ExpectInvalidName(ValidateEventType("ssebridge.anything", "evt"), "evt", "any");
}

TEST(EventTypeTest, RejectsInvalidUtf8) {
  ExpectInvalidName(ValidateEventType("\xFF", "event"), "event", "0xFF");
}

TEST(UserIdTest, AcceptsAndRejects) {
  EXPECT_TRUE(ValidateUserId("u", "user").ok());
  EXPECT_TRUE(ValidateUserId("user@example.com", "user").ok());
  EXPECT_TRUE(ValidateUserId(std::string(256, 'u'), "user").ok());
  EXPECT_TRUE(ValidateUserId("\xE7\x94\xA8\xE6\x88\xB7", "user").ok());
  ExpectInvalidName(ValidateUserId("", "user_ids[0]"), "user_ids[0]", "empty");
  ExpectInvalidName(ValidateUserId(std::string(257, 'u'), "user_ids[4]"), "user_ids[4]",
                    "257 bytes");
  ExpectInvalidName(ValidateUserId("a\xC3", "sub"), "sub", "truncated UTF-8");
}

TEST(Utf8Test, ValidSequences) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("ascii only ~"));
  EXPECT_TRUE(IsValidUtf8(std::string("nul\0inside", 10)));
  EXPECT_TRUE(IsValidUtf8("\xC2\x80"));          // U+0080, smallest 2-byte
  EXPECT_TRUE(IsValidUtf8("\xC3\xA9"));          // é
  EXPECT_TRUE(IsValidUtf8("\xDF\xBF"));          // U+07FF
  EXPECT_TRUE(IsValidUtf8("\xE0\xA0\x80"));      // U+0800, smallest 3-byte
  EXPECT_TRUE(IsValidUtf8("\xE2\x82\xAC"));      // €
  EXPECT_TRUE(IsValidUtf8("\xED\x9F\xBF"));      // U+D7FF, below surrogates
  EXPECT_TRUE(IsValidUtf8("\xEE\x80\x80"));      // U+E000, above surrogates
  EXPECT_TRUE(IsValidUtf8("\xEF\xBF\xBF"));      // U+FFFF
  EXPECT_TRUE(IsValidUtf8("\xF0\x90\x80\x80"));  // U+10000, smallest 4-byte
  EXPECT_TRUE(IsValidUtf8("\xF0\x9F\x98\x80"));  // 😀
  EXPECT_TRUE(IsValidUtf8("\xF4\x8F\xBF\xBF"));  // U+10FFFF, the last
  EXPECT_TRUE(
      IsValidUtf8("a\xC3\xA9"
                  "b\xF0\x9F\x98\x80"
                  "c"));
}

TEST(Utf8Test, Overlong) {
  EXPECT_FALSE(IsValidUtf8("\xC0\x80"));
  EXPECT_FALSE(IsValidUtf8("\xC1\xBF"));
  EXPECT_FALSE(IsValidUtf8("\xE0\x80\x80"));
  EXPECT_FALSE(IsValidUtf8("\xE0\x9F\xBF"));
  EXPECT_FALSE(IsValidUtf8("\xF0\x80\x80\x80"));
  EXPECT_FALSE(IsValidUtf8("\xF0\x8F\xBF\xBF"));
}

TEST(Utf8Test, Surrogates) {
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));              // U+D800
  EXPECT_FALSE(IsValidUtf8("\xED\xBF\xBF"));              // U+DFFF
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\xBD\xED\xB8\x80"));  // CESU-8 pair
}

TEST(Utf8Test, Truncated) {
  EXPECT_FALSE(IsValidUtf8("\xC3"));
  EXPECT_FALSE(IsValidUtf8("\xE2\x82"));
  EXPECT_FALSE(IsValidUtf8("\xF0\x9F\x98"));
  EXPECT_FALSE(IsValidUtf8("ok\xF0"));
  EXPECT_FALSE(
      IsValidUtf8("\xE2\x82"
                  "a"));  // continuation replaced by ASCII
}

TEST(Utf8Test, AboveMaxCodePoint) {
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // U+110000
  EXPECT_FALSE(IsValidUtf8("\xF5\x80\x80\x80"));
  EXPECT_FALSE(IsValidUtf8("\xF7\xBF\xBF\xBF"));
  EXPECT_FALSE(IsValidUtf8("\xF8\x88\x80\x80\x80"));      // 5-byte form
  EXPECT_FALSE(IsValidUtf8("\xFC\x84\x80\x80\x80\x80"));  // 6-byte form
}

TEST(Utf8Test, StrayBytes) {
  EXPECT_FALSE(IsValidUtf8("\x80"));
  EXPECT_FALSE(IsValidUtf8("a\xBF"));
  EXPECT_FALSE(IsValidUtf8("\xFE"));
  EXPECT_FALSE(IsValidUtf8("\xFF"));
  EXPECT_FALSE(IsValidUtf8("\xC3\xA9\x80"));  // extra continuation
}

}  // namespace
}  // namespace ssebridge
