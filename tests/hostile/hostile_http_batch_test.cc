// Hostile batch bodies for POST /v1/publish (a JSON array or NDJSON), each
// within the body byte limit: far more events than --max_publish_batch,
// endless blank lines, deep nesting, and a full batch of events that all
// fail. Each is refused (or answered) whole, publishes nothing it should not,
// and leaves the bridge's memory where it was and its door open.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/harness/auth_fixture.h"
#include "tests/harness/bridge_process.h"
#include "tests/harness/http_request.h"
#include "tests/harness/json_util.h"
#include "tests/harness/process_stats.h"
#include "tests/harness/sse_client.h"
#include "tests/harness/test_helpers.h"

namespace ssebridge_it {
namespace {

// The default --max_body_bytes: 6 x 64 KiB + 64 KiB.
constexpr size_t kBodyLimit = 448 * 1024;

HttpResponse Post(int port, const std::string& body, const std::string& type) {
  return HttpRequest(port, "POST", "/v1/publish", body, {{"Content-Type", type}},
                     absl::Seconds(60));
}

// `item` repeated (separated by `sep`) to just under the body limit.
std::string Fill(const std::string& open, const std::string& item, const std::string& sep,
                 const std::string& close) {
  std::string body = open;
  while (body.size() + item.size() + sep.size() + close.size() < kBodyLimit) {
    if (body.size() > open.size()) body += sep;
    body += item;
  }
  return body + close;
}

TEST(HostileHttpBatchTest, HugeBatchesWithinTheByteLimitAreRefusedWholeAndMemoryStays) {
  auto bridge = StartBridge();
  ASSERT_NE(bridge, nullptr);
  const int port = bridge->http_port();
  SseClient sse;
  ASSERT_TRUE(sse.Open(port, EventsTarget({"h"}))) << sse.error();
  const ProcessStats before = ReadProcessStats(bridge->pid());
  ASSERT_GT(before.rss_kib, 0);

  const std::string tiny = R"({"channel":"h","data":"x"})";
  struct Case {
    std::string body, type;
    int status;
    std::string error;
  };
  const std::vector<Case> cases = {
      // ~150,000 and ~16,000 events: the count is refused at event 1,001.
      {Fill("[", "{}", ",", "]"), "application/json", 413, "payload_too_large"},
      {Fill("", "{}", "\n", "\n"), "application/x-ndjson", 413, "payload_too_large"},
      {Fill("[", tiny, ",", "]"), "application/json", 413, "payload_too_large"},
      {Fill("", tiny, "\n", ""), "application/x-ndjson", 413, "payload_too_large"},
      // Nothing but blank lines, or whitespace: an empty batch.
      {Fill("", " ", "\r\n", ""), "application/x-ndjson", 400, "invalid_json"},
      {Fill("[", " ", "", "]"), "application/json", 400, "invalid_json"},
      // Nesting far past kMaxBatchJsonDepth, and an array that never closes.
      {Fill("[{\"a\":", "[", "", ""), "application/json", 400, "invalid_json"},
      {Fill("[", "[", "", ""), "application/json", 400, "invalid_json"},
      // An unterminated string that runs to the end of the body.
      {Fill("[{\"channel\":\"", "a", "", ""), "application/json", 400, "invalid_json"},
  };
  for (int round = 0; round < 3; ++round) {
    for (size_t i = 0; i < cases.size(); ++i) {
      SCOPED_TRACE(
          absl::StrCat("round ", round, " case ", i, " (", cases[i].body.size(), " bytes)"));
      ASSERT_LT(cases[i].body.size(), kBodyLimit);
      HttpResponse r = Post(port, cases[i].body, cases[i].type);
      ASSERT_TRUE(r.ok()) << r.error;
      ExpectJsonError(r, cases[i].status, cases[i].error);
    }
  }
  const ProcessStats after = ReadProcessStats(bridge->pid());
  std::printf("27 hostile batch bodies: %s -> %s\n", before.Describe().c_str(),
              after.Describe().c_str());
  // Under a sanitizer RSS says little (ASan's quarantine keeps every freed
  // body, TSan's shadow memory doubles it): the answers above still hold.
  if (!BridgeIsSanitized()) {
    EXPECT_LE(after.rss_peak_kib - before.rss_kib, 32 * 1024)
        << before.Describe() << " -> " << after.Describe();
  }

  // Nothing of them was published: the stream's first event is this one.
  HttpResponse ok = Post(port, R"({"channel":"h","data":"after"})", "application/json");
  ASSERT_EQ(ok.status, 200) << ok.body;
  ASSERT_TRUE(sse.WaitForEvents(1, kWait)) << sse.Describe();
  EXPECT_EQ(EventDatas(sse.events()), std::vector<std::string>{"after"});
}

TEST(HostileHttpBatchTest, AFullBatchOfFailingEventsIsAnsweredEventByEvent) {
  auto bridge = StartBridge();
  ASSERT_NE(bridge, nullptr);
  const int port = bridge->http_port();
  // 1,000 events (the default limit) that all fail: validation (no channel),
  // and decoding (an unknown field), the slow path of the batch decoder.
  for (const std::string& item : {std::string("{}"), std::string(R"({"nope":1})")}) {
    std::string body = "[";
    for (int i = 0; i < 1000; ++i) absl::StrAppend(&body, i ? "," : "", item);
    body += "]";
    HttpResponse r = Post(port, body, "application/json");
    ASSERT_EQ(r.status, 200) << r.body.substr(0, 300);
    std::vector<PublishResult> results;
    std::string err;
    ASSERT_TRUE(ParsePublishResultsJson(r.body, &results, &err)) << err;
    ASSERT_EQ(results.size(), 1000u);
    for (size_t i = 0; i < results.size(); ++i) {
      ASSERT_EQ(results[i].error, "invalid_argument") << i;
      ASSERT_EQ(results[i].message.rfind(absl::StrCat("event ", i, ": "), 0), 0u)
          << results[i].message;
    }
  }
  EXPECT_EQ(HttpGet(port, "/healthz").status, 200);
}

}  // namespace
}  // namespace ssebridge_it
