// Self-checks of the test harness itself (no bridge): the SSE parser follows
// the WHATWG algorithm, chunked decoding, log-line port extraction.
#include <cstdint>
#include <string>

#include "gtest/gtest.h"
#include "tests/harness/bridge_process.h"
#include "tests/harness/http_wire.h"
#include "tests/harness/sse_parser.h"

namespace ssebridge_it {
namespace {

TEST(HarnessTest, SseParserFollowsTheSpec) {
  SseParser p;
  const std::string stream =
      "\xEF\xBB\xBF: hello\nretry: 3000\nretry: x1\n\n"
      "id: 1\nevent: t\ndata: a\ndata:b\ndata:  c\n\n"
      "data: no type\r\n\r\n"
      "id\ndata: empty id\r\rdata\n\n"
      "unknown: field\ndata: x\n";  // unterminated: never dispatched
  // Feed byte by byte to exercise every split point.
  for (char c : stream) p.Feed(std::string(1, c));
  ASSERT_EQ(p.events().size(), 4u);
  EXPECT_EQ(p.comments(), std::vector<std::string>{" hello"});
  EXPECT_EQ(p.retries(), std::vector<int64_t>{3000});
  EXPECT_EQ(p.events()[0].id, "1");
  EXPECT_EQ(p.events()[0].event, "t");
  EXPECT_EQ(p.events()[0].data, "a\nb\n c");
  EXPECT_EQ(p.events()[0].data_lines, 3);
  EXPECT_EQ(p.events()[1].event, "message");
  EXPECT_FALSE(p.events()[1].had_event_field);
  EXPECT_EQ(p.events()[1].id, "1");  // the last event ID persists
  EXPECT_FALSE(p.events()[1].had_id_field);
  EXPECT_EQ(p.events()[2].id, "");
  EXPECT_EQ(p.events()[2].data, "empty id");
  EXPECT_EQ(p.events()[3].data, "");
  EXPECT_TRUE(p.has_pending());
}

// The browser's view of ids: the last event ID moves at dispatch (also of a
// block without data), an id with a NUL is ignored, an over-long retry
// saturates, and a block of fields alone is pending until its blank line.
TEST(HarnessTest, SseParserSetsTheLastEventIdAtDispatch) {
  SseParser p;
  p.Feed("id: 7\n");
  EXPECT_EQ(p.last_event_id(), "");
  EXPECT_TRUE(p.has_pending());
  EXPECT_FALSE(p.has_pending_event());
  p.Feed("\n");
  EXPECT_EQ(p.last_event_id(), "7");
  EXPECT_EQ(p.empty_dispatches(), 1u);
  EXPECT_TRUE(p.events().empty());
  constexpr char kNulId[] = "id: x\0y\ndata: d\n\n";
  p.Feed(std::string(kNulId, sizeof(kNulId) - 1));
  ASSERT_EQ(p.events().size(), 1u);
  EXPECT_EQ(p.events()[0].id, "7");
  EXPECT_FALSE(p.events()[0].had_id_field);
  p.Feed("retry: 99999999999999999999999\n\n");
  ASSERT_TRUE(p.retry_millis().has_value());
  EXPECT_EQ(*p.retry_millis(), UINT64_MAX);
  EXPECT_EQ(p.fields().size(), 4u);  // the NUL id is a field too, ignored
  EXPECT_FALSE(p.has_pending());
}

TEST(HarnessTest, ChunkedDecoder) {
  ChunkedDecoder d;
  std::string out;
  const std::string body = "5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\n\r\n";
  for (char c : body) ASSERT_TRUE(d.Feed(std::string(1, c), &out));
  EXPECT_TRUE(d.done());
  EXPECT_EQ(out, "hello, world");
}

TEST(HarnessTest, ExtractJsonInt) {
  long long v = 0;
  EXPECT_TRUE(
      ExtractJsonInt(R"({"msg":"listening","http_port":4321,"grpc_port" : 99})", "grpc_port", &v));
  EXPECT_EQ(v, 99);
  EXPECT_TRUE(ExtractJsonInt(R"({"http_port":"8080"})", "http_port", &v));
  EXPECT_EQ(v, 8080);
  EXPECT_FALSE(ExtractJsonInt(R"({"http_port":null})", "http_port", &v));
}

}  // namespace
}  // namespace ssebridge_it
