// What a fresh SSE stream looks like before any event: the response head,
// the opening comment and the jittered retry: field; CORS on the stream.
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/harness/bridge_process.h"
#include "tests/harness/sse_client.h"
#include "tests/harness/test_helpers.h"

namespace ssebridge_it {
namespace {

TEST(StreamOpenTest, HeadersAreExactAndOpeningBytesArriveAtOnce) {
  auto bridge = StartBridge();
  ASSERT_NE(bridge, nullptr);
  SseClient sse;
  // Open() waits for a comment and a retry: field, with no event published.
  ASSERT_TRUE(sse.Open(bridge->http_port(), EventsTarget({"news"}))) << sse.error();
  EXPECT_EQ(sse.status(), 200);
  EXPECT_EQ(sse.Header("Content-Type").value_or("<absent>"), "text/event-stream");
  EXPECT_EQ(CountHeader(sse.headers(), "Content-Type"), 1);
  EXPECT_EQ(sse.Header("Cache-Control").value_or("<absent>"), "no-cache");
  EXPECT_EQ(sse.Header("X-Accel-Buffering").value_or("<absent>"), "no");
  EXPECT_FALSE(sse.Header("Content-Length").has_value()) << sse.raw_head();
  EXPECT_FALSE(sse.Header("Transfer-Encoding").has_value())
      << "the body is delimited by connection close; head: " << sse.raw_head();
  EXPECT_FALSE(sse.Header("Content-Encoding").has_value()) << sse.raw_head();
  EXPECT_TRUE(sse.events().empty());
  ASSERT_FALSE(sse.raw_body().empty());
  EXPECT_EQ(sse.raw_body()[0], ':') << "the body opens with a comment: " << sse.raw_body();
  EXPECT_FALSE(sse.closed()) << sse.Describe();
}

// Retry loops in the tests reuse one client: what it reports must be the
// answer to the latest request, not a leftover of the one before.
TEST(StreamOpenTest, ReusedClientReportsTheNewResponse) {
  auto bridge = StartBridge();
  ASSERT_NE(bridge, nullptr);
  SseClient sse;
  ASSERT_TRUE(sse.Connect(bridge->http_port(), "/v1/events?channel=bad%20name"));
  ASSERT_TRUE(sse.ReadHead(absl::Seconds(20))) << sse.error();
  ASSERT_EQ(sse.status(), 400) << sse.Describe();
  ASSERT_TRUE(sse.Open(bridge->http_port(), EventsTarget({"news"}))) << sse.Describe();
  EXPECT_EQ(sse.status(), 200);
  EXPECT_EQ(sse.Header("Content-Type").value_or("<absent>"), "text/event-stream");
  EXPECT_EQ(sse.raw_body()[0], ':') << sse.Describe();
}

TEST(StreamOpenTest, DefaultRetryIsBetweenThreeAndFiveSeconds) {
  auto bridge = StartBridge();
  ASSERT_NE(bridge, nullptr);
  for (int i = 0; i < 3; ++i) {
    SseClient sse;
    ASSERT_TRUE(sse.Open(bridge->http_port(), EventsTarget({"r"}))) << sse.error();
    ASSERT_FALSE(sse.retries().empty());
    EXPECT_GE(sse.retries()[0], 3000);
    EXPECT_LE(sse.retries()[0], 5000);
  }
}

TEST(StreamOpenTest, RetryFlagsBoundTheJitteredValue) {
  auto bridge = StartBridge({"--retry=1s", "--retry_jitter=500ms"});
  ASSERT_NE(bridge, nullptr);
  for (int i = 0; i < 5; ++i) {
    SseClient sse;
    ASSERT_TRUE(sse.Open(bridge->http_port(), EventsTarget({"r"}))) << sse.error();
    ASSERT_FALSE(sse.retries().empty());
    EXPECT_GE(sse.retries()[0], 1000);
    EXPECT_LE(sse.retries()[0], 1500);
  }
}

TEST(StreamOpenTest, ZeroJitterGivesExactRetry) {
  auto bridge = StartBridge({"--retry=2500ms", "--retry_jitter=0s"});
  ASSERT_NE(bridge, nullptr);
  SseClient sse;
  ASSERT_TRUE(sse.Open(bridge->http_port(), EventsTarget({"r"}))) << sse.error();
  ASSERT_FALSE(sse.retries().empty());
  EXPECT_EQ(sse.retries()[0], 2500);
}

TEST(StreamOpenTest, AllowedCorsOriginIsEchoedOthersAreNot) {
  auto bridge = StartBridge({"--cors_origins=https://app.example.com,https://b.example.com"});
  ASSERT_NE(bridge, nullptr);
  {
    SseClient sse;
    ASSERT_TRUE(
        sse.Open(bridge->http_port(), EventsTarget({"c"}), {{{"Origin", "https://b.example.com"}}}))
        << sse.error();
    EXPECT_EQ(sse.Header("Access-Control-Allow-Origin").value_or("<absent>"),
              "https://b.example.com")
        << sse.raw_head();
  }
  {
    SseClient sse;
    ASSERT_TRUE(sse.Connect(bridge->http_port(), EventsTarget({"c"}),
                            {{{"Origin", "https://evil.example.net"}}}))
        << sse.error();
    ASSERT_TRUE(sse.ReadHead(kWait)) << sse.error();
    std::string acao = sse.Header("Access-Control-Allow-Origin").value_or("");
    EXPECT_NE(acao, "https://evil.example.net") << sse.raw_head();
    EXPECT_NE(acao, "*") << sse.raw_head();
  }
}

}  // namespace
}  // namespace ssebridge_it
