// Bad input at every door: gRPC INVALID_ARGUMENT naming the field, HTTP 400
// with {"error","message"}, 404, 405; never a crash, never a half-published
// event. Also the SSEBRIDGE_* environment equivalents of flags.
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/harness/bridge_process.h"
#include "tests/harness/grpc_client.h"
#include "tests/harness/http_request.h"
#include "tests/harness/json_util.h"
#include "tests/harness/sse_client.h"
#include "tests/harness/test_helpers.h"

namespace ssebridge_it {
namespace {

// A JSON error body {"error": "...", "message": "..."} whose message names
// `field` (when non-empty).
void ExpectFieldError(const HttpResponse& r, int status, const std::string& field,
                      const std::string& what) {
  SCOPED_TRACE(what);
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.status, status) << r.body;
  EXPECT_NE(r.Header("Content-Type").value_or("").find("json"), std::string::npos)
      << "Content-Type: " << r.Header("Content-Type").value_or("<absent>");
  google::protobuf::Struct json;
  ASSERT_TRUE(ParseJsonObject(r.body, &json)) << "not a JSON object: " << r.body;
  EXPECT_TRUE(HasJsonString(json, "error")) << r.body;
  EXPECT_TRUE(HasJsonString(json, "message")) << r.body;
  if (!field.empty()) {
    EXPECT_TRUE(absl::StrContains(JsonString(json, "message"), field))
        << "message should name \"" << field << "\": " << r.body;
  }
}

class BadInputTest : public ::testing::Test {
 protected:
  void Start(std::vector<std::string> flags = {}) {
    bridge_ = StartBridge(std::move(flags));
    ASSERT_NE(bridge_, nullptr);
    grpc_ = std::make_unique<GrpcClient>(bridge_->grpc_port());
  }
  void SetUp() override { Start({"--max_event_bytes=1024"}); }
  int http_port() const { return bridge_->http_port(); }

  // Unary Publish must fail with INVALID_ARGUMENT naming `field`.
  void ExpectGrpcInvalid(const v1::PublishRequest& req, const std::string& field) {
    SCOPED_TRACE(req.ShortDebugString().substr(0, 200));
    v1::PublishResponse resp;
    grpc::Status s = grpc_->Publish(req, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
    EXPECT_TRUE(absl::StrContains(s.error_message(), field))
        << "message should name \"" << field << "\": " << s.error_message();
  }

  std::unique_ptr<BridgeProcess> bridge_;
  std::unique_ptr<GrpcClient> grpc_;
};

TEST_F(BadInputTest, GrpcPublishRejectsBadFieldsAndPublishesNothing) {
  SseClient sse;
  ASSERT_TRUE(sse.Open(http_port(), EventsTarget({"ok"}))) << sse.error();
  std::string cursor = grpc_->MustPublish("ok", "first").id();

  ExpectGrpcInvalid(MakePublish("", "x"), "channel");
  ExpectGrpcInvalid(MakePublish("has space", "x"), "channel");
  ExpectGrpcInvalid(MakePublish("slash/name", "x"), "channel");
  ExpectGrpcInvalid(MakePublish(std::string(129, 'c'), "x"), "channel");
  ExpectGrpcInvalid(MakePublish("ok", ""), "data");
  ExpectGrpcInvalid(MakePublish("ok", std::string(1025, 'd')), "data");
  ExpectGrpcInvalid(MakePublish("ok", "x", "ssebridge.reset"), "event");
  ExpectGrpcInvalid(MakePublish("ok", "x", "ssebridge.custom"), "event");
  ExpectGrpcInvalid(MakePublish("ok", "x", "two\nlines"), "event");
  v1::PublishRequest bad_user = MakePublish("ok", "x");
  bad_user.add_user_ids("");
  ExpectGrpcInvalid(bad_user, "user_ids[0]");
  v1::PublishRequest bad_second_user = MakePublish("ok", "x");
  bad_second_user.add_user_ids("alice");
  bad_second_user.add_user_ids("");
  ExpectGrpcInvalid(bad_second_user, "user_ids[1]");

  // Limits are inclusive.
  v1::PublishResponse r;
  EXPECT_TRUE(grpc_->Publish(MakePublish(std::string(128, 'c'), "x"), &r).ok());
  EXPECT_TRUE(grpc_->Publish(MakePublish("A-z_0.9:x", std::string(1024, 'd')), &r).ok());

  // Nothing of the bad requests reached the stream or the history.
  grpc_->MustPublish("ok", "last");
  ASSERT_TRUE(sse.WaitForData("last", kWait)) << sse.Describe();
  EXPECT_EQ(EventDatas(sse.events()), (std::vector<std::string>{"first", "last"}));
  SseClient resumed;
  ASSERT_TRUE(resumed.Open(http_port(), EventsTarget({"ok"}), {{{"Last-Event-ID", cursor}}}))
      << resumed.error();
  ASSERT_TRUE(resumed.WaitForData("last", kWait)) << resumed.Describe();
  EXPECT_EQ(EventDatas(resumed.events()), (std::vector<std::string>{"last"}));
  EXPECT_TRUE(bridge_->Running());
}

TEST_F(BadInputTest, PublishStreamAnswersBadMessageInPlaceAndStaysOpen) {
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
  auto stream = grpc_->publisher()->PublishStream(&ctx);
  std::vector<v1::PublishRequest> reqs = {
      MakePublish("ps", "good 1"), MakePublish("bad channel!", "x"), MakePublish("ps", ""),
      MakePublish("ps", "x", "ssebridge.nope"), MakePublish("ps", "good 2")};
  std::vector<v1::PublishResponse> resps;
  for (const auto& req : reqs) {
    ASSERT_TRUE(stream->Write(req));
    v1::PublishResponse resp;
    ASSERT_TRUE(stream->Read(&resp)) << "stream ended after " << resps.size() << " answers";
    resps.push_back(resp);
  }
  ASSERT_TRUE(stream->WritesDone());
  grpc::Status s = stream->Finish();
  EXPECT_TRUE(s.ok()) << s.error_code() << ": " << s.error_message();

  EXPECT_FALSE(resps[0].has_error());
  EXPECT_FALSE(resps[4].has_error());
  EXPECT_EQ(CheckIdsIncreasing({resps[0].id(), resps[4].id()}), "");
  const std::vector<std::string> fields = {"", "channel", "data", "event", ""};
  for (int i = 1; i <= 3; ++i) {
    SCOPED_TRACE(reqs[i].ShortDebugString());
    ASSERT_TRUE(resps[i].has_error()) << resps[i].ShortDebugString();
    EXPECT_EQ(resps[i].error().code(), 3);
    EXPECT_TRUE(absl::StrContains(resps[i].error().message(), fields[i]))
        << resps[i].error().message();
    EXPECT_TRUE(resps[i].id().empty());
  }
}

TEST_F(BadInputTest, GrpcSubscribeRejectsBadChannels) {
  std::vector<std::vector<std::string>> cases = {
      {}, {"bad name"}, {""}, std::vector<std::string>(65, "")};
  for (int i = 0; i < 65; ++i) cases.back()[i] = absl::StrCat("c", i);
  for (const auto& channels : cases) {
    SCOPED_TRACE(absl::StrCat(channels.size(), " channels"));
    GrpcSubscription sub(grpc_.get(), channels);
    ASSERT_TRUE(sub.WaitForEnd(kWait));
    EXPECT_EQ(sub.status().error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << sub.status().error_message();
    EXPECT_TRUE(absl::StrContains(sub.status().error_message(), "channel"))
        << sub.status().error_message();
  }
}

TEST_F(BadInputTest, HttpEventsRejectsBadChannelsAndCursor) {
  ExpectFieldError(HttpGet(http_port(), "/v1/events"), 400, "channel", "no channel");
  ExpectFieldError(HttpGet(http_port(), "/v1/events?channel="), 400, "channel", "empty");
  ExpectFieldError(HttpGet(http_port(), "/v1/events?channel=bad%20name"), 400, "channel", "space");
  ExpectFieldError(HttpGet(http_port(), "/v1/events?channel=a%2Fb"), 400, "channel", "slash");
  ExpectFieldError(HttpGet(http_port(), EventsTarget({std::string(129, 'c')})), 400, "channel",
                   "129 characters");
  std::vector<std::string> many;
  for (int i = 0; i < 65; ++i) many.push_back(absl::StrCat("c", i));
  ExpectFieldError(HttpGet(http_port(), EventsTarget(many)), 400, "channel", "65 channels");
  ExpectFieldError(HttpGet(http_port(), EventsTarget({"ok"}, "not-an-id!")), 400, "lastEventId",
                   "malformed lastEventId");
  ExpectFieldError(HttpGet(http_port(), EventsTarget({"ok"}, "garbage")), 400, "lastEventId",
                   "malformed lastEventId");

  // The limits themselves are fine: 64 channels, 128 characters.
  many.pop_back();
  SseClient sixty_four;
  EXPECT_TRUE(sixty_four.Open(http_port(), EventsTarget(many))) << sixty_four.error();
  SseClient long_name;
  EXPECT_TRUE(long_name.Open(http_port(), EventsTarget({std::string(128, 'c')})))
      << long_name.error();
}

TEST(BadInputChannelsFlagTest, MaxChannelsPerConnectionFlag) {
  auto bridge = StartBridge({"--max_channels_per_connection=2"});
  ASSERT_NE(bridge, nullptr);
  SseClient two;
  EXPECT_TRUE(two.Open(bridge->http_port(), EventsTarget({"a", "b"}))) << two.error();
  ExpectFieldError(HttpGet(bridge->http_port(), EventsTarget({"a", "b", "c"})), 400, "channel",
                   "3 channels over a limit of 2");
}

TEST_F(BadInputTest, HttpPublishRejectsMalformedJsonAndBadFields) {
  SseClient sse;
  ASSERT_TRUE(sse.Open(http_port(), EventsTarget({"ok"}))) << sse.error();
  ExpectFieldError(HttpPostJson(http_port(), "/v1/publish", "{"), 400, "", "truncated JSON");
  ExpectFieldError(HttpPostJson(http_port(), "/v1/publish", "not json"), 400, "", "not JSON");
  ExpectFieldError(HttpPostJson(http_port(), "/v1/publish", ""), 400, "", "empty body");
  ExpectFieldError(HttpPostJson(http_port(), "/v1/publish", "[1,2]"), 400, "", "array");
  ExpectFieldError(HttpPostJson(http_port(), "/v1/publish", R"({"channel":"ok","data":7})"), 400,
                   "", "data is a number");
  ExpectFieldError(HttpPostJson(http_port(), "/v1/publish", R"({"channel":"ok"})"), 400, "data",
                   "no data");
  ExpectFieldError(HttpPostJson(http_port(), "/v1/publish", R"({"data":"x"})"), 400, "channel",
                   "no channel");
  ExpectFieldError(HttpPostJson(http_port(), "/v1/publish", R"({"channel":"b a d","data":"x"})"),
                   400, "channel", "bad channel");
  ExpectFieldError(HttpPostJson(http_port(), "/v1/publish",
                                R"({"channel":"ok","data":"x","event":"ssebridge.reset"})"),
                   400, "event", "reserved event");
  ExpectFieldError(
      HttpPostJson(http_port(), "/v1/publish",
                   absl::StrCat(R"({"channel":"ok","data":")", std::string(1025, 'd'), "\"}")),
      400, "data", "oversize data");
  ExpectFieldError(
      HttpPostJson(http_port(), "/v1/publish", "{\"channel\":\"ok\",\"data\":\"\xC3\x28\"}"), 400,
      "", "invalid UTF-8");
  ExpectFieldError(
      HttpPostJson(http_port(), "/v1/publish", R"({"channel":"ok","data":"x","userIds":[""]})"),
      400, "user_ids[0]", "empty user id");

  HttpResponse good = HttpPostJson(http_port(), "/v1/publish", R"({"channel":"ok","data":"good"})");
  ASSERT_EQ(good.status, 200) << good.error << good.body;
  ASSERT_TRUE(sse.WaitForData("good", kWait)) << sse.Describe();
  EXPECT_EQ(EventDatas(sse.events()), (std::vector<std::string>{"good"}));
}

TEST_F(BadInputTest, UnknownRoutesAre404AndWrongMethodsAre405) {
  ExpectFieldError(HttpGet(http_port(), "/nope"), 404, "", "GET /nope");
  ExpectFieldError(HttpGet(http_port(), "/v1/event"), 404, "", "GET /v1/event");
  ExpectFieldError(HttpPostJson(http_port(), "/v2/publish", "{}"), 404, "", "POST /v2/publish");
  ExpectFieldError(HttpRequest(http_port(), "DELETE", "/v1/publish"), 405, "",
                   "DELETE /v1/publish");
  ExpectFieldError(HttpGet(http_port(), "/v1/publish"), 405, "", "GET /v1/publish");
  ExpectFieldError(HttpPostJson(http_port(), "/v1/events?channel=a", "{}"), 405, "",
                   "POST /v1/events");
  ExpectFieldError(HttpRequest(http_port(), "PUT", "/v1/events?channel=a", "x"), 405, "",
                   "PUT /v1/events");
  EXPECT_EQ(HttpGet(http_port(), "/healthz").status, 200);
}

TEST_F(BadInputTest, GarbageRequestsNeverCrashTheBridge) {
  static constexpr char kNulInTarget[] = "GET /v1/events?channel=a\0b HTTP/1.1\r\nHost: x\r\n\r\n";
  const std::vector<std::string> garbage = {
      "garbage\r\n\r\n",
      "GET\r\n\r\n",
      "GET /v1/events?channel=a HTTP/9.9\r\n\r\n",
      "GET /v1/events?channel=a HTTP/1.1\r\nHost: x\r\nLast-Event-ID: \x01\x02\xff\r\n\r\n",
      "POST /v1/publish HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"chan",
      "POST /v1/publish HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
      "POST /v1/publish HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
      std::string(kNulInTarget, sizeof(kNulInTarget) - 1),
      "GET /v1/events?channel=%ZZ HTTP/1.1\r\nHost: x\r\n\r\n",
      "GET /" + std::string(20000, 'a') + " HTTP/1.1\r\n\r\n",
      "GET /healthz HTTP/1.1\r\n" + std::string(100, 'X') + ": " + std::string(20000, 'y') +
          "\r\n\r\n",
  };
  for (const auto& raw : garbage) {
    bool closed = false;
    std::string error;
    // Keep-alive connections may stay open: read for at most a second.
    SendRawHttp(http_port(), raw, absl::Seconds(1), &closed, &error);
    ASSERT_TRUE(bridge_->Running()) << "crashed on: " << raw.substr(0, 80);
  }
  // Half-open connections that never finish a request.
  for (int i = 0; i < 5; ++i) {
    std::string error;
    int fd = ConnectLoopback(http_port(), 0, absl::Seconds(5), &error);
    ASSERT_GE(fd, 0) << error;
    SendAll(fd, "GET /v1/eve", absl::Now() + absl::Seconds(5), &error);
    ::close(fd);
  }
  HttpResponse health = HttpGet(http_port(), "/healthz");
  EXPECT_EQ(health.status, 200) << health.error;
  v1::PublishResponse r;
  EXPECT_TRUE(grpc_->Publish(MakePublish("ok", "still alive"), &r).ok());
  EXPECT_TRUE(bridge_->Running());
}

TEST(BadInputEnvTest, EnvironmentSetsFlagAndCommandLineWins) {
  {
    auto bridge = StartBridge({}, {"SSEBRIDGE_MAX_EVENT_BYTES=100"});
    ASSERT_NE(bridge, nullptr);
    GrpcClient grpc(bridge->grpc_port());
    v1::PublishResponse r;
    EXPECT_TRUE(grpc.Publish(MakePublish("e", std::string(100, 'd')), &r).ok());
    grpc::Status s = grpc.Publish(MakePublish("e", std::string(101, 'd')), &r);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << "SSEBRIDGE_MAX_EVENT_BYTES=100 ignored";
  }
  {
    auto bridge = StartBridge({"--max_event_bytes=200"}, {"SSEBRIDGE_MAX_EVENT_BYTES=100"});
    ASSERT_NE(bridge, nullptr);
    GrpcClient grpc(bridge->grpc_port());
    v1::PublishResponse r;
    grpc::Status ok = grpc.Publish(MakePublish("e", std::string(150, 'd')), &r);
    EXPECT_TRUE(ok.ok()) << "the command-line flag should win: " << ok.error_message();
    grpc::Status s = grpc.Publish(MakePublish("e", std::string(201, 'd')), &r);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  }
}

TEST(BadInputStartupTest, RefusesToStartOnAPortInUse) {
  auto first = StartBridge();
  ASSERT_NE(first, nullptr);
  BridgeOptions options;
  options.flags = {absl::StrCat("--http_port=", first->http_port())};
  options.startup_timeout = absl::Seconds(20);
  // The later --http_port overrides the harness's --http_port=0.
  BridgeProcess second(options);
  std::string error;
  EXPECT_FALSE(second.Start(&error)) << "second bridge started on a used port";
  ExitInfo info;
  ASSERT_TRUE(second.WaitExit(kWait, &info)) << "second bridge did not exit";
  EXPECT_NE(info.exit_code, 0) << info.Describe();
  EXPECT_EQ(info.term_signal, 0) << info.Describe();
  EXPECT_EQ(HttpGet(first->http_port(), "/healthz").status, 200);
}

}  // namespace
}  // namespace ssebridge_it
