// POST /v1/publish answered on the HTTP reader thread: with the memory
// broker, a single event of at most 16 KiB is parsed, published and answered
// by the thread that read it (ssebridge_http_publishes_on_reader_total counts
// them), on a kept-alive connection as on fresh ones, with the same answers
// and deliveries as a pool thread gives. A batch, an NDJSON body, a larger
// event and every publish through Redis go to a pool thread, where waiting is
// allowed.
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/harness/bridge_process.h"
#include "tests/harness/hostile_wire.h"
#include "tests/harness/http_request.h"
#include "tests/harness/http_wire.h"
#include "tests/harness/json_util.h"
#include "tests/harness/redis_fixture.h"
#include "tests/harness/sse_client.h"
#include "tests/harness/test_helpers.h"

namespace ssebridge_it {
namespace {

constexpr char kOnReader[] = "ssebridge_http_publishes_on_reader_total";

std::string PublishRequest(const std::string& channel, const std::string& data) {
  const std::string body = absl::StrCat(R"({"channel":")", channel, R"(","data":")", data, "\"}");
  return absl::StrCat(kPublishHead, "Content-Length: ", body.size(), "\r\n\r\n", body);
}

// The next answer on a kept-alive connection: 200 with a publish id.
testing::AssertionResult ReadPublishAnswer(int fd, std::string* buffer, std::string* id) {
  HttpResponse r = ReadResponse(fd, absl::Now() + kWait, buffer);
  if (!r.ok()) return testing::AssertionFailure() << r.error;
  if (r.status != 200) return testing::AssertionFailure() << r.status << " " << r.body;
  ::ssebridge::v1::PublishResponse answer;
  std::string error;
  if (!ParsePublishResponseJson(r.body, &answer, &error)) {
    return testing::AssertionFailure() << error << ": " << r.body;
  }
  *id = answer.id();
  return testing::AssertionSuccess();
}

TEST(HttpPublishOnReaderTest, SingleEventsOnAKeptAliveConnectionAreAnsweredOnTheReader) {
  auto bridge = StartBridge();
  ASSERT_NE(bridge, nullptr);
  SseClient sse;
  ASSERT_TRUE(sse.Open(bridge->http_port(), EventsTarget({"reader"}))) << sse.error();
  const long long before = MetricValue(bridge->admin_port(), kOnReader);
  ASSERT_GE(before, 0) << "the metric is missing";

  // One request at a time, as a publisher that waits for each answer: every
  // request finds the previous answer acknowledged (the request carries the
  // ack), so each is answered on the reader.
  constexpr int kEvents = 40;
  std::string error;
  const int fd = ConnectLoopback(bridge->http_port(), 0, kWait, &error);
  ASSERT_GE(fd, 0) << error;
  std::string buffer;
  std::vector<std::string> ids;
  for (int i = 0; i < kEvents; ++i) {
    ASSERT_TRUE(
        SendAll(fd, PublishRequest("reader", absl::StrCat("e", i)), absl::Now() + kWait, &error))
        << error;
    ASSERT_TRUE(ReadPublishAnswer(fd, &buffer, &ids.emplace_back())) << "answer " << i;
  }
  ::close(fd);
  // A fresh connection's first request too.
  HttpResponse fresh =
      HttpPostJson(bridge->http_port(), "/v1/publish", R"({"channel":"reader","data":"fresh"})");
  ASSERT_EQ(fresh.status, 200) << fresh.error << fresh.body;

  ASSERT_TRUE(sse.WaitForEvents(kEvents + 1, kWait)) << sse.Describe();
  for (int i = 0; i < kEvents; ++i) {
    EXPECT_EQ(sse.events()[i].data, absl::StrCat("e", i));
    EXPECT_EQ(sse.events()[i].id, ids[i]);
  }
  EXPECT_EQ(sse.events()[kEvents].data, "fresh");
  EXPECT_EQ(CheckIdsIncreasing(EventIds(sse.events())), "");
  EXPECT_EQ(MetricValue(bridge->admin_port(), kOnReader) - before, kEvents + 1);
}

// Pipelined: the answers of the first requests are not acknowledged yet when
// the next ones are read, so those go to a pool thread, which hands the
// connection back to the reader and may answer the next one right there (a
// path that must not re-enter the reader's locks). Every answer comes, in
// order, and so does every event.
TEST(HttpPublishOnReaderTest, PipelinedPublishesAreAllAnsweredInOrder) {
  auto bridge = StartBridge();
  ASSERT_NE(bridge, nullptr);
  SseClient sse;
  ASSERT_TRUE(sse.Open(bridge->http_port(), EventsTarget({"piped"}))) << sse.error();
  constexpr int kEvents = 90;  // within --http_keepalive_requests (100)
  std::string requests;
  for (int i = 0; i < kEvents; ++i) {
    absl::StrAppend(&requests, PublishRequest("piped", absl::StrCat("p", i)));
  }
  std::string error;
  const int fd = ConnectLoopback(bridge->http_port(), 0, kWait, &error);
  ASSERT_GE(fd, 0) << error;
  ASSERT_TRUE(SendAll(fd, requests, absl::Now() + kWait, &error)) << error;
  std::string buffer;
  std::vector<std::string> ids;
  for (int i = 0; i < kEvents; ++i) {
    ASSERT_TRUE(ReadPublishAnswer(fd, &buffer, &ids.emplace_back())) << "answer " << i;
  }
  ::close(fd);
  ASSERT_TRUE(sse.WaitForEvents(kEvents, kWait)) << sse.Describe();
  EXPECT_EQ(EventIds(sse.events()), ids);
  for (int i = 0; i < kEvents; ++i) EXPECT_EQ(sse.events()[i].data, absl::StrCat("p", i));
}

TEST(HttpPublishOnReaderTest, BatchesNdjsonAndLargeEventsGoToAPoolThread) {
  auto bridge = StartBridge();
  ASSERT_NE(bridge, nullptr);
  SseClient sse;
  ASSERT_TRUE(sse.Open(bridge->http_port(), EventsTarget({"pool"}))) << sse.error();
  const long long before = MetricValue(bridge->admin_port(), kOnReader);
  ASSERT_GE(before, 0);

  HttpResponse array = HttpPostJson(bridge->http_port(), "/v1/publish",
                                    R"([{"channel":"pool","data":"a1"},)"
                                    R"({"channel":"pool","data":"a2"}])");
  EXPECT_EQ(array.status, 200) << array.error << array.body;
  bool closed = false;
  std::string error;
  const std::string ndjson_body =
      "{\"channel\":\"pool\",\"data\":\"n1\"}\n{\"channel\":\"pool\",\"data\":\"n2\"}\n";
  std::string got = SendRawHttp(
      bridge->http_port(),
      absl::StrCat("POST /v1/publish HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-ndjson\r\n"
                   "Content-Length: ",
                   ndjson_body.size(), "\r\nConnection: close\r\n\r\n", ndjson_body),
      kWait, &closed, &error);
  EXPECT_EQ(FirstResponse(got).status, 200) << got << error;
  // Just past 16 KiB of body.
  const std::string large(16 * 1024, 'x');
  HttpResponse big = HttpPostJson(bridge->http_port(), "/v1/publish",
                                  absl::StrCat(R"({"channel":"pool","data":")", large, "\"}"));
  EXPECT_EQ(big.status, 200) << big.error << big.body;

  ASSERT_TRUE(sse.WaitForEvents(5, kWait)) << sse.Describe();
  EXPECT_EQ(EventDatas(sse.events()), (std::vector<std::string>{"a1", "a2", "n1", "n2", large}));
  EXPECT_EQ(MetricValue(bridge->admin_port(), kOnReader), before);
}

using HttpPublishOnReaderRedisTest = RedisScaleOutTest;

// A Redis publish waits for Redis (up to --redis_command_timeout): never on
// the thread that reads every other request.
TEST_F(HttpPublishOnReaderRedisTest, PublishesThroughRedisAreAnsweredOnAPoolThread) {
  auto bridge = StartReplica();
  ASSERT_NE(bridge, nullptr);
  SseClient sse;
  ASSERT_TRUE(OpenAttached(&sse, bridge->http_port(), EventsTarget({"redis"}))) << sse.error();
  for (int i = 0; i < 5; ++i) {
    HttpResponse r = HttpPostJson(bridge->http_port(), "/v1/publish",
                                  absl::StrCat(R"({"channel":"redis","data":"r)", i, "\"}"));
    ASSERT_EQ(r.status, 200) << r.error << r.body;
  }
  ASSERT_TRUE(sse.WaitForEvents(5, kWait)) << sse.Describe();
  EXPECT_EQ(MetricValue(bridge->admin_port(), kOnReader), 0);
}

}  // namespace
}  // namespace ssebridge_it
