#include "bridge/http/chunked_body.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace ssebridge {
namespace {

using ChunkState = ChunkedBody::State;

// Feeds `wire` in pieces of `step` bytes; returns the bytes consumed.
size_t FeedInSteps(ChunkedBody& c, const std::string& wire, size_t step, std::string* body) {
  size_t used = 0;
  while (used < wire.size() && c.state() == ChunkState::kNeedMore) {
    const size_t n = std::min(step, wire.size() - used);
    const size_t took = c.Feed(absl::string_view(wire).substr(used, n), body);
    used += took;
    if (took < n) break;
  }
  return used;
}

TEST(ChunkedBodyTest, DecodesAnyWayItIsSplitAndStopsAtItsEnd) {
  const std::string wire =
      "5;name=value\r\nhello\r\n6\r\n world\r\nA \t; x\r\n0123456789\r\n000\r\n"
      "X-Trailer: t\r\n\r\nGET / HTTP/1.1\r\n";
  const size_t end = wire.find("GET");
  for (size_t step : {size_t{1}, size_t{2}, size_t{7}, wire.size()}) {
    SCOPED_TRACE(step);
    ChunkedBody c(1000, 1000);
    std::string body;
    EXPECT_EQ(FeedInSteps(c, wire, step, &body), end);
    EXPECT_EQ(c.state(), ChunkState::kComplete);
    EXPECT_EQ(body, "hello world0123456789");
    // Nothing more is taken once complete.
    EXPECT_EQ(c.Feed("more", &body), 0u);
  }
}

TEST(ChunkedBodyTest, EmptyBody) {
  ChunkedBody c(0, 100);
  std::string body;
  EXPECT_EQ(c.Feed("0\r\n\r\n", &body), 5u);
  EXPECT_EQ(c.state(), ChunkState::kComplete);
  EXPECT_EQ(body, "");
}

TEST(ChunkedBodyTest, OverTheLimitIs413AtTheChunkSizeLine) {
  {
    ChunkedBody c(10, 100);
    std::string body;
    c.Feed("a\r\n0123456789\r\n1\r\n", &body);
    EXPECT_EQ(c.state(), ChunkState::kRejected);
    EXPECT_EQ(c.reject_status(), 413);
    EXPECT_NE(c.reject_message().find("--max_body_bytes"), std::string::npos);
    EXPECT_EQ(body.size(), 10u);
  }
  {
    // Announced, not sent: refused before any data comes.
    ChunkedBody c(1 << 20, 100);
    std::string body;
    c.Feed("10000000\r\n", &body);
    EXPECT_EQ(c.state(), ChunkState::kRejected);
    EXPECT_EQ(c.reject_status(), 413);
    EXPECT_TRUE(body.empty());
  }
}

TEST(ChunkedBodyTest, MalformedIs400) {
  const std::vector<std::pair<const char*, std::string>> cases = {
      {"not hex", "zz\r\nab\r\n0\r\n\r\n"},
      {"no digits", ";x\r\n"},
      {"sign", "+5\r\nhello\r\n"},
      {"overflow", "10000000000000000\r\n"},
      {"junk after size", "5 x\r\nhello\r\n"},
      {"data too long", "5\r\nhelloX\r\n0\r\n\r\n"},
      {"data too short", "5\r\nhell\r\n0\r\n\r\n"},
      {"bare LF after size", "5\nhello\r\n"},
      {"bare CR", "5\rhello\r\n"},
      {"bare LF after data", "5\r\nhello\n0\r\n\r\n"},
      {"control char in extension", std::string("5;a\x01\r\nhello\r\n")},
      {"trailer without colon", "0\r\nX-Trailer\r\n\r\n"},
      {"trailer name with a space", "0\r\nX T: v\r\n\r\n"},
      {"trailer ends in bare LF", "0\r\n\n"},
  };
  for (const auto& [name, wire] : cases) {
    SCOPED_TRACE(name);
    ChunkedBody c(1000, 1000);
    std::string body;
    c.Feed(wire, &body);
    EXPECT_EQ(c.state(), ChunkState::kRejected);
    EXPECT_EQ(c.reject_status(), 400);
    EXPECT_NE(c.reject_message().find("chunk"), std::string::npos) << c.reject_message();
  }
}

TEST(ChunkedBodyTest, LongLinesAreRefusedBeforeTheyAreBuffered) {
  {
    ChunkedBody c(1000, 1000);
    std::string body;
    c.Feed(absl::StrCat("5;", std::string(ChunkedBody::kMaxChunkLineBytes, 'e')), &body);
    EXPECT_EQ(c.state(), ChunkState::kRejected);
    EXPECT_EQ(c.reject_status(), 400);
  }
  {
    // Leading zeros are no way around the 16-digit limit.
    ChunkedBody c(1000, 1000);
    std::string body;
    EXPECT_EQ(c.Feed(absl::StrCat(std::string(100, '0'), "5\r\nhello\r\n0\r\n\r\n"), &body), 115u);
    EXPECT_EQ(c.state(), ChunkState::kComplete);
  }
  {
    ChunkedBody c(1000, 20);
    std::string body;
    c.Feed(absl::StrCat("0\r\nX-T: ", std::string(30, 't')), &body);
    EXPECT_EQ(c.state(), ChunkState::kRejected);
    EXPECT_EQ(c.reject_status(), 431);
  }
}

}  // namespace
}  // namespace ssebridge
