// The batch form of POST /v1/publish (a JSON array, or NDJSON): each event
// published as a single publish would be, delivered over a real SSE socket
// in order with the ids the answer lists; one bad event fails alone; a batch
// over --max_publish_batch (which also bounds gRPC PublishBatch) or a
// malformed body publishes nothing.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/harness/auth_fixture.h"
#include "tests/harness/bridge_process.h"
#include "tests/harness/grpc_client.h"
#include "tests/harness/http_request.h"
#include "tests/harness/json_util.h"
#include "tests/harness/sse_client.h"
#include "tests/harness/test_helpers.h"

namespace ssebridge_it {
namespace {

constexpr int kMaxBatch = 8;

std::string Event(const std::string& channel, const std::string& data,
                  const std::string& type = "") {
  return absl::StrCat(R"({"channel":")", channel, R"(",)",
                      type.empty() ? "" : absl::StrCat(R"("event":")", type, R"(",)"),
                      R"("data":")", data, R"("})");
}

class HttpBatchPublishTest : public ::testing::Test {
 protected:
  void SetUp() override {
    bridge_ = StartBridge({absl::StrCat("--max_publish_batch=", kMaxBatch)});
    ASSERT_NE(bridge_, nullptr);
    grpc_ = std::make_unique<GrpcClient>(bridge_->grpc_port());
  }
  int http_port() const { return bridge_->http_port(); }

  HttpResponse Post(const std::string& body, const std::string& content_type) {
    return HttpRequest(http_port(), "POST", "/v1/publish", body, {{"Content-Type", content_type}});
  }
  // Posts a batch that must be answered 200 with one result per event.
  std::vector<PublishResult> PostBatch(const std::string& body, const std::string& content_type,
                                       size_t events) {
    HttpResponse r = Post(body, content_type);
    EXPECT_TRUE(r.ok()) << r.error;
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_NE(r.Header("Content-Type").value_or("").find("application/json"), std::string::npos);
    std::vector<PublishResult> results;
    std::string err;
    EXPECT_TRUE(ParsePublishResultsJson(r.body, &results, &err)) << err << ": " << r.body;
    EXPECT_EQ(results.size(), events) << r.body;
    return results;
  }

  std::unique_ptr<BridgeProcess> bridge_;
  std::unique_ptr<GrpcClient> grpc_;
};

TEST_F(HttpBatchPublishTest, JsonArrayIsDeliveredInOrderWithTheAnsweredIds) {
  SseClient sse;
  ASSERT_TRUE(sse.Open(http_port(), EventsTarget({"orders", "audit"}))) << sse.error();
  std::vector<PublishResult> results = PostBatch(
      absl::StrCat("[", Event("orders", "o1", "order.created"), ",\n", Event("audit", "a1"), ",",
                   Event("orders", "o2"), ",", Event("orders", "o3", "order.paid"), "]"),
      "application/json", 4);
  ASSERT_EQ(results.size(), 4u);
  std::vector<std::string> ids;
  for (const PublishResult& r : results) {
    EXPECT_EQ(r.error, "") << r.message;
    EXPECT_EQ(r.published.subscribers(), 1u);
    EXPECT_TRUE(r.published.has_published_at());
    ids.push_back(r.published.id());
  }
  EXPECT_EQ(CheckIdsIncreasing(ids), "") << Summarize(ids);

  ASSERT_TRUE(sse.WaitForEvents(4, kWait)) << sse.Describe();
  EXPECT_EQ(EventIds(sse.events()), ids);
  EXPECT_EQ(EventDatas(sse.events()), (std::vector<std::string>{"o1", "a1", "o2", "o3"}));
  EXPECT_EQ(sse.events()[0].event, "order.created");
  EXPECT_EQ(sse.events()[1].event, "message");
  EXPECT_EQ(sse.events()[3].event, "order.paid");

  // The batch shares the id sequence with the other doors.
  std::string next = grpc_->MustPublish("orders", "after").id();
  ids.push_back(next);
  EXPECT_EQ(CheckIdsIncreasing(ids), "") << Summarize(ids);
}

TEST_F(HttpBatchPublishTest, NdjsonIsDeliveredInOrderAndBlankLinesAreIgnored) {
  SseClient sse;
  ASSERT_TRUE(sse.Open(http_port(), EventsTarget({"feed"}))) << sse.error();
  std::vector<PublishResult> results =
      PostBatch(absl::StrCat(Event("feed", "1"), "\n\n", Event("feed", "2"), "\r\n  \n",
                             Event("feed", "3"), "\n"),
                "application/x-ndjson", 3);
  std::vector<std::string> ids;
  for (const PublishResult& r : results) ids.push_back(r.published.id());
  ASSERT_TRUE(sse.WaitForEvents(3, kWait)) << sse.Describe();
  EXPECT_EQ(EventIds(sse.events()), ids);
  EXPECT_EQ(EventDatas(sse.events()), (std::vector<std::string>{"1", "2", "3"}));
}

TEST_F(HttpBatchPublishTest, OneInvalidEventFailsAloneAndTheOthersAreDelivered) {
  SseClient sse;
  ASSERT_TRUE(sse.Open(http_port(), EventsTarget({"jobs"}))) << sse.error();
  std::vector<PublishResult> results =
      PostBatch(absl::StrCat("[", Event("jobs", "first"), ",", Event("jobs", ""), ",",
                             Event("jobs", "ssebridge-type", "ssebridge.reset"), ",",
                             Event("jobs", "last"), "]"),
                "application/json", 4);
  ASSERT_EQ(results.size(), 4u);
  EXPECT_EQ(results[0].error, "");
  EXPECT_EQ(results[1].error, "invalid_argument");
  EXPECT_EQ(results[1].message.rfind("event 1: data", 0), 0u) << results[1].message;
  EXPECT_EQ(results[2].error, "invalid_argument");
  EXPECT_EQ(results[2].message.rfind("event 2: event", 0), 0u) << results[2].message;
  EXPECT_EQ(results[3].error, "");

  ASSERT_TRUE(sse.WaitForData("last", kWait)) << sse.Describe();
  EXPECT_EQ(EventDatas(sse.events()), (std::vector<std::string>{"first", "last"}));
  EXPECT_EQ(EventIds(sse.events()),
            (std::vector<std::string>{results[0].published.id(), results[3].published.id()}));
}

TEST_F(HttpBatchPublishTest, OverTheLimitOrMalformedPublishesNothing) {
  SseClient sse;
  ASSERT_TRUE(sse.Open(http_port(), EventsTarget({"lim"}))) << sse.error();
  std::string over = "[";
  std::string over_lines;
  for (int i = 0; i <= kMaxBatch; ++i) {
    absl::StrAppend(&over, i ? "," : "", Event("lim", "over"));
    absl::StrAppend(&over_lines, Event("lim", "over"), "\n");
  }
  over += "]";
  for (const auto& [body, type] : std::vector<std::pair<std::string, std::string>>{
           {over, "application/json"}, {over_lines, "application/x-ndjson"}}) {
    HttpResponse r = Post(body, type);
    ExpectJsonError(r, 413, "payload_too_large", "--max_publish_batch");
  }
  for (const auto& [body, type] : std::vector<std::pair<std::string, std::string>>{
           {absl::StrCat("[", Event("lim", "bad"), ",", Event("lim", "bad"), ",]"),
            "application/json"},
           {"[]", "application/json"},
           {absl::StrCat(Event("lim", "bad"), "\nnot json\n"), "application/x-ndjson"},
           {"\n\n", "application/x-ndjson"}}) {
    ExpectJsonError(Post(body, type), 400, "invalid_json");
  }
  // gRPC PublishBatch is bounded by the same flag.
  {
    v1::PublishBatchRequest req;
    for (int i = 0; i <= kMaxBatch; ++i) {
      v1::PublishRequest* p = req.add_requests();
      p->set_channel("lim");
      p->set_data("over-grpc");
    }
    grpc::ClientContext ctx;
    v1::PublishBatchResponse resp;
    auto stub = v1::BatchPublisher::NewStub(grpc_->channel());
    grpc::Status st = stub->PublishBatch(&ctx, req, &resp);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_NE(st.error_message().find("--max_publish_batch"), std::string::npos)
        << st.error_message();
  }
  // Exactly the limit publishes; the first event the stream sees is its
  // first, so nothing of the refused bodies was published.
  std::string full = "[";
  for (int i = 0; i < kMaxBatch; ++i) absl::StrAppend(&full, i ? "," : "", Event("lim", "ok"));
  full += "]";
  PostBatch(full, "application/json", kMaxBatch);
  ASSERT_TRUE(sse.WaitForEvents(kMaxBatch, kWait)) << sse.Describe();
  EXPECT_EQ(EventDatas(sse.events()), std::vector<std::string>(kMaxBatch, "ok"));
}

TEST_F(HttpBatchPublishTest, SingleObjectAnswerIsUnchanged) {
  HttpResponse r = Post(Event("one", "x"), "application/json");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body.find("results"), std::string::npos) << r.body;
  v1::PublishResponse resp;
  std::string err;
  ASSERT_TRUE(ParsePublishResponseJson(r.body, &resp, &err)) << err << ": " << r.body;
  ParsedId pid;
  EXPECT_TRUE(ParseEventId(resp.id(), &pid)) << r.body;
}

}  // namespace
}  // namespace ssebridge_it
