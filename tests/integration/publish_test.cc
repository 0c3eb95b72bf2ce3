// Publishing through both doors (gRPC unary, gRPC streaming, HTTP POST) and
// reading the result over a real SSE socket and a gRPC Subscribe stream.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/harness/bridge_process.h"
#include "tests/harness/grpc_client.h"
#include "tests/harness/http_request.h"
#include "tests/harness/json_util.h"
#include "tests/harness/sse_client.h"
#include "tests/harness/test_helpers.h"

namespace ssebridge_it {
namespace {

class PublishTest : public ::testing::Test {
 protected:
  void SetUp() override {
    bridge_ = StartBridge();
    ASSERT_NE(bridge_, nullptr);
    grpc_ = std::make_unique<GrpcClient>(bridge_->grpc_port());
  }
  int http_port() const { return bridge_->http_port(); }

  std::unique_ptr<BridgeProcess> bridge_;
  std::unique_ptr<GrpcClient> grpc_;
};

TEST_F(PublishTest, UnaryPublishReachesSseSubscriberWithSpecFraming) {
  SseClient sse;
  ASSERT_TRUE(sse.Open(http_port(), EventsTarget({"orders"}))) << sse.error();

  absl::Time before = absl::Now();
  v1::PublishResponse resp =
      grpc_->MustPublish(MakePublish("orders", R"({"order":1})", "order.created"));
  absl::Time after = absl::Now();
  EXPECT_EQ(resp.subscribers(), 1u);
  EXPECT_FALSE(resp.replayed());
  EXPECT_FALSE(resp.has_error());
  ParsedId pid;
  EXPECT_TRUE(ParseEventId(resp.id(), &pid)) << "id: " << resp.id();
  ASSERT_TRUE(resp.has_published_at());
  absl::Time at = absl::FromUnixSeconds(resp.published_at().seconds()) +
                  absl::Nanoseconds(resp.published_at().nanos());
  EXPECT_GE(at, before - absl::Seconds(5));
  EXPECT_LE(at, after + absl::Seconds(5));

  ASSERT_TRUE(sse.WaitForEvents(1, kWait)) << sse.Describe();
  const SseEvent& ev = sse.events()[0];
  EXPECT_EQ(ev.id, resp.id());
  EXPECT_TRUE(ev.had_id_field);
  EXPECT_EQ(ev.event, "order.created");
  EXPECT_EQ(ev.data, R"({"order":1})");
  EXPECT_NE(sse.raw_body().find(absl::StrCat("id: ", resp.id(),
                                             "\nevent: order.created\n"
                                             "data: {\"order\":1}\n\n")),
            std::string::npos)
      << "raw body: " << sse.raw_body();
}

TEST_F(PublishTest, EmptyEventTypeIsMessageAndFrameHasNoEventLine) {
  SseClient sse;
  ASSERT_TRUE(sse.Open(http_port(), EventsTarget({"plain"}))) << sse.error();
  v1::PublishResponse resp = grpc_->MustPublish("plain", "hello");
  ASSERT_TRUE(sse.WaitForEvents(1, kWait)) << sse.Describe();
  EXPECT_EQ(sse.events()[0].event, "message");
  EXPECT_FALSE(sse.events()[0].had_event_field);
  EXPECT_EQ(sse.events()[0].data, "hello");
  EXPECT_EQ(sse.raw_body().find("event:"), std::string::npos) << "raw body: " << sse.raw_body();
  EXPECT_NE(sse.raw_body().find(absl::StrCat("id: ", resp.id(), "\ndata: hello\n\n")),
            std::string::npos)
      << "raw body: " << sse.raw_body();
}

TEST_F(PublishTest, MultiLineDataBecomesOneDataLinePerLine) {
  SseClient sse;
  ASSERT_TRUE(sse.Open(http_port(), EventsTarget({"lines"}))) << sse.error();
  grpc_->MustPublish("lines", "first\nsecond\r\nthird\rfourth");
  grpc_->MustPublish("lines", "trailing\n");
  grpc_->MustPublish("lines", " leading space");
  ASSERT_TRUE(sse.WaitForEvents(3, kWait)) << sse.Describe();
  EXPECT_EQ(sse.events()[0].data, "first\nsecond\nthird\nfourth");
  EXPECT_EQ(sse.events()[0].data_lines, 4);
  EXPECT_NE(sse.raw_body().find("data: first\ndata: second\ndata: third\ndata: fourth\n\n"),
            std::string::npos)
      << "raw body: " << sse.raw_body();
  EXPECT_EQ(sse.events()[1].data, "trailing\n");
  EXPECT_EQ(sse.events()[1].data_lines, 2);
  EXPECT_EQ(sse.events()[2].data, " leading space");
}

TEST_F(PublishTest, UnicodeDataRoundTrips) {
  const std::string data = "h\xC3\xA9llo \xE4\xB8\x96\xE7\x95\x8C \xF0\x9F\x8E\x89";
  SseClient sse;
  ASSERT_TRUE(sse.Open(http_port(), EventsTarget({"uni"}))) << sse.error();
  GrpcSubscription sub(grpc_.get(), {"uni"}, grpc_->MustPublish("uni", "before").id());
  grpc_->MustPublish("uni", data, "gr\xC3\xBC\xC3\x9F");
  ASSERT_TRUE(sse.WaitForData(data, kWait)) << sse.Describe();
  EXPECT_EQ(sse.events().back().event, "gr\xC3\xBC\xC3\x9F");
  ASSERT_TRUE(sub.WaitForEvents(1, kWait));
  EXPECT_EQ(sub.events()[0].data(), data);
}

TEST_F(PublishTest, IdsIncreaseAcrossChannelsWithinOneEpoch) {
  std::vector<std::string> ids;
  for (int i = 0; i < 6; ++i) {
    ids.push_back(grpc_->MustPublish(i % 2 ? "alpha" : "beta", absl::StrCat("v", i)).id());
  }
  EXPECT_EQ(CheckIdsIncreasing(ids), "") << Summarize(ids);
}

TEST_F(PublishTest, OneConnectionReceivesSeveralChannelsInPublishOrder) {
  SseClient sse;
  ASSERT_TRUE(sse.Open(http_port(), EventsTarget({"a", "b"}))) << sse.error();
  EXPECT_EQ(grpc_->MustPublish("a", "a1").subscribers(), 1u);
  EXPECT_EQ(grpc_->MustPublish("b", "b1").subscribers(), 1u);
  EXPECT_EQ(grpc_->MustPublish("c", "c1").subscribers(), 0u);
  EXPECT_EQ(grpc_->MustPublish("a", "a2").subscribers(), 1u);
  ASSERT_TRUE(sse.WaitForEvents(3, kWait)) << sse.Describe();
  sse.ReadFor(absl::Milliseconds(200));
  EXPECT_EQ(EventDatas(sse.events()), (std::vector<std::string>{"a1", "b1", "a2"}));
}

TEST_F(PublishTest, StreamingPublishAnswersInOrderAndDelivers) {
  SseClient sse;
  ASSERT_TRUE(sse.Open(http_port(), EventsTarget({"stream"}))) << sse.error();
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
  auto stream = grpc_->publisher()->PublishStream(&ctx);
  constexpr int kCount = 100;
  std::vector<std::string> ids;
  for (int i = 0; i < kCount; ++i) {
    ASSERT_TRUE(stream->Write(MakePublish("stream", absl::StrCat("s", i))));
    v1::PublishResponse resp;
    ASSERT_TRUE(stream->Read(&resp)) << "no response to request " << i;
    EXPECT_FALSE(resp.has_error()) << resp.ShortDebugString();
    EXPECT_EQ(resp.subscribers(), 1u) << "request " << i;
    ids.push_back(resp.id());
  }
  // Pipelined: many writes before reading the answers.
  for (int i = kCount; i < 2 * kCount; ++i) {
    ASSERT_TRUE(stream->Write(MakePublish("stream", absl::StrCat("s", i))));
  }
  for (int i = kCount; i < 2 * kCount; ++i) {
    v1::PublishResponse resp;
    ASSERT_TRUE(stream->Read(&resp)) << "no response to request " << i;
    EXPECT_FALSE(resp.has_error()) << resp.ShortDebugString();
    ids.push_back(resp.id());
  }
  ASSERT_TRUE(stream->WritesDone());
  v1::PublishResponse extra;
  EXPECT_FALSE(stream->Read(&extra)) << "unexpected extra response";
  grpc::Status status = stream->Finish();
  EXPECT_TRUE(status.ok()) << status.error_code() << ": " << status.error_message();
  EXPECT_EQ(CheckIdsIncreasing(ids), "") << Summarize(ids);

  ASSERT_TRUE(sse.WaitForEvents(2 * kCount, kWait)) << sse.Describe();
  for (int i = 0; i < 2 * kCount; ++i) {
    EXPECT_EQ(sse.events()[i].data, absl::StrCat("s", i));
    EXPECT_EQ(sse.events()[i].id, ids[i]);
  }
}

TEST_F(PublishTest, HttpPostPublishesAndAnswersPublishResponseJson) {
  SseClient sse;
  ASSERT_TRUE(sse.Open(http_port(), EventsTarget({"orders"}))) << sse.error();
  HttpResponse r =
      HttpPostJson(http_port(), "/v1/publish",
                   R"({"channel":"orders","event":"order.created","data":"{\"n\":7}"})");
  ASSERT_TRUE(r.ok()) << r.error;
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_NE(r.Header("Content-Type").value_or("").find("application/json"), std::string::npos);
  v1::PublishResponse resp;
  std::string err;
  ASSERT_TRUE(ParsePublishResponseJson(r.body, &resp, &err)) << err << ": " << r.body;
  ParsedId pid;
  EXPECT_TRUE(ParseEventId(resp.id(), &pid)) << r.body;
  EXPECT_EQ(resp.subscribers(), 1u) << r.body;
  EXPECT_FALSE(resp.replayed());

  ASSERT_TRUE(sse.WaitForEvents(1, kWait)) << sse.Describe();
  EXPECT_EQ(sse.events()[0].id, resp.id());
  EXPECT_EQ(sse.events()[0].event, "order.created");
  EXPECT_EQ(sse.events()[0].data, R"({"n":7})");

  // The HTTP door shares the id sequence with the gRPC door.
  std::string next = grpc_->MustPublish("orders", "after").id();
  EXPECT_EQ(CheckIdsIncreasing({resp.id(), next}), "");
}

TEST_F(PublishTest, GrpcSubscribeStreamsEventsWithAllFields) {
  std::string cursor = grpc_->MustPublish("feed", "e0").id();
  // Resuming from e0 makes the test independent of when the subscription
  // becomes live: e1 and e2 come either as catch-up or live, exactly once.
  GrpcSubscription sub(grpc_.get(), {"feed"}, cursor);
  v1::PublishResponse r1 = grpc_->MustPublish(MakePublish("feed", "e1", "tick"));
  v1::PublishResponse r2 = grpc_->MustPublish("feed", "e2");
  ASSERT_TRUE(sub.WaitForEvents(2, kWait));
  std::vector<v1::Event> evs = sub.events();
  EXPECT_EQ(evs[0].id(), r1.id());
  EXPECT_EQ(evs[0].channel(), "feed");
  EXPECT_EQ(evs[0].event(), "tick");
  EXPECT_EQ(evs[0].data(), "e1");
  EXPECT_TRUE(evs[0].has_published_at());
  EXPECT_EQ(evs[1].id(), r2.id());
  EXPECT_EQ(evs[1].event(), "message");
  EXPECT_EQ(evs[1].data(), "e2");
  EXPECT_FALSE(sub.ended()) << sub.status().error_message();
}

TEST_F(PublishTest, GrpcSubscribeFreshGoesLive) {
  GrpcSubscription sub(grpc_.get(), {"live"});
  // Publish until the bridge reports the subscription (bounded); the event
  // that reports it must be the first one the subscriber gets.
  std::string seen_data;
  for (int i = 0; i < 200 && seen_data.empty(); ++i) {
    std::string data = absl::StrCat("probe", i);
    if (grpc_->MustPublish("live", data).subscribers() == 1) seen_data = data;
    if (seen_data.empty()) absl::SleepFor(absl::Milliseconds(50));
  }
  ASSERT_FALSE(seen_data.empty()) << "subscribers never became 1";
  ASSERT_TRUE(sub.WaitForEvents(1, kWait));
  EXPECT_EQ(sub.events()[0].data(), seen_data);
}

TEST_F(PublishTest, GrpcSubscribeFreshGetsTheHeadAsItsCursor) {
  std::string head = grpc_->MustPublish("other", "before").id();
  GrpcSubscription sub(grpc_.get(), {"quiet"});
  absl::Time end = absl::Now() + kWait;
  while (sub.cursor().empty() && absl::Now() < end) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_EQ(sub.cursor(), head);
  EXPECT_TRUE(sub.events().empty());
}

TEST_F(PublishTest, TargetedEventIsStoredButDeliveredToNoStream) {
  std::string cursor = grpc_->MustPublish("inbox", "before").id();
  GrpcSubscription sub(grpc_.get(), {"inbox"}, cursor);
  SseClient sse;
  ASSERT_TRUE(sse.Open(http_port(), EventsTarget({"inbox"}))) << sse.error();

  v1::PublishRequest targeted = MakePublish("inbox", "for alice only");
  targeted.add_user_ids("alice");
  v1::PublishResponse tr = grpc_->MustPublish(targeted);
  EXPECT_EQ(tr.subscribers(), 0u);
  ParsedId pid;
  EXPECT_TRUE(ParseEventId(tr.id(), &pid)) << "targeted event gets an id: " << tr.id();
  v1::PublishResponse marker = grpc_->MustPublish("inbox", "for everyone");
  EXPECT_GE(marker.subscribers(), 1u);

  ASSERT_TRUE(sse.WaitForEvents(1, kWait)) << sse.Describe();
  EXPECT_EQ(sse.events()[0].data, "for everyone");
  ASSERT_TRUE(sub.WaitForEvents(1, kWait));
  EXPECT_EQ(sub.events()[0].data(), "for everyone");

  // Nor is it replayed on resume.
  SseClient resumed;
  ASSERT_TRUE(resumed.Open(http_port(), EventsTarget({"inbox"}), {{{"Last-Event-ID", cursor}}}))
      << resumed.error();
  ASSERT_TRUE(resumed.WaitForEvents(1, kWait)) << resumed.Describe();
  EXPECT_EQ(resumed.events()[0].data, "for everyone");
}

TEST_F(PublishTest, IdempotencyKeyRepeatReturnsFirstResponseAndPublishesNothing) {
  SseClient sse;
  ASSERT_TRUE(sse.Open(http_port(), EventsTarget({"pay"}))) << sse.error();
  v1::PublishRequest req = MakePublish("pay", "charged");
  req.set_idempotency_key("charge-42");
  v1::PublishResponse first = grpc_->MustPublish(req);
  EXPECT_FALSE(first.replayed());
  EXPECT_EQ(first.subscribers(), 1u);
  v1::PublishResponse again = grpc_->MustPublish(req);
  EXPECT_TRUE(again.replayed());
  EXPECT_EQ(again.id(), first.id());

  v1::PublishRequest other = req;
  other.set_data("charged again");
  other.set_idempotency_key("charge-43");
  v1::PublishResponse third = grpc_->MustPublish(other);
  EXPECT_FALSE(third.replayed());
  EXPECT_NE(third.id(), first.id());

  // Over HTTP too.
  const std::string body = R"({"channel":"pay","data":"refund","idempotencyKey":"refund-1"})";
  HttpResponse h1 = HttpPostJson(http_port(), "/v1/publish", body);
  HttpResponse h2 = HttpPostJson(http_port(), "/v1/publish", body);
  ASSERT_EQ(h1.status, 200) << h1.error << h1.body;
  ASSERT_EQ(h2.status, 200) << h2.error << h2.body;
  v1::PublishResponse p1, p2;
  std::string err;
  ASSERT_TRUE(ParsePublishResponseJson(h1.body, &p1, &err)) << err;
  ASSERT_TRUE(ParsePublishResponseJson(h2.body, &p2, &err)) << err;
  EXPECT_FALSE(p1.replayed()) << h1.body;
  EXPECT_TRUE(p2.replayed()) << h2.body;
  EXPECT_EQ(p1.id(), p2.id());

  grpc_->MustPublish("pay", "marker");
  ASSERT_TRUE(sse.WaitForData("marker", kWait)) << sse.Describe();
  EXPECT_EQ(EventDatas(sse.events()),
            (std::vector<std::string>{"charged", "charged again", "refund", "marker"}));
}

TEST(PublishIdempotencyWindowTest, KeyIsForgottenAfterTheWindow) {
  auto bridge = StartBridge({"--idempotency_window=300ms"});
  ASSERT_NE(bridge, nullptr);
  GrpcClient grpc(bridge->grpc_port());
  v1::PublishRequest req = MakePublish("pay", "once");
  req.set_idempotency_key("k");
  v1::PublishResponse first = grpc.MustPublish(req);
  EXPECT_FALSE(first.replayed());
  // Pacing only: let the 300 ms window pass (with a wide margin).
  absl::SleepFor(absl::Milliseconds(1500));
  v1::PublishResponse later = grpc.MustPublish(req);
  EXPECT_FALSE(later.replayed());
  EXPECT_NE(later.id(), first.id());
}

}  // namespace
}  // namespace ssebridge_it
