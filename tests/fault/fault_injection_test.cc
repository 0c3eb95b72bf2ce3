// Injection: a publisher must never add an event or a field to another
// user's stream. Over both doors (gRPC Publish, HTTP POST /v1/publish),
// CR / LF / NUL in `event` are refused naming the field; invalid UTF-8 is
// refused naming `data` (gRPC) or as a bad body (HTTP); CR, LF, CRLF, NUL
// and field-looking text in `data` are encoded as data lines and read back
// as the same text (line ends normalised to LF, as EventSource does).
// Bob, another user on the channel, parses his raw stream after every
// attempt: exactly the accepted events, each with its own id, no other field.
// (bad_input_test.cc covers other bad fields; this is the stream's view.)
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
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

const AuthKeys& keys() { return AuthKeys::Get(); }

// What EventSource hands the page for `data`: CRLF and CR become LF.
std::string AsRead(const std::string& data) {
  return absl::StrReplaceAll(absl::StrReplaceAll(data, {{"\r\n", "\n"}}), {{"\r", "\n"}});
}

const std::vector<std::string>& HostileData() {
  static const auto* kData = new std::vector<std::string>{
      "a\n\nevent: evil\nid: 666\ndata: injected\n\nb",
      "a\r\rid: 666\r\revent: evil\rdata: x",
      "a\r\n\r\nretry: 1\r\n: comment\r\nb",
      std::string("nul\0inside\0\0", 12),
      "\n\n\n",
      " leading space, trailing CR\r",
      "data: looks like a field",
      ":looks like a comment",
  };
  return *kData;
}

class FaultInjectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    bridge_ = StartBridge(keys().Flags());
    ASSERT_NE(bridge_, nullptr);
    grpc_ = std::make_unique<GrpcClient>(bridge_->grpc_port());
    ASSERT_TRUE(bob_.Open(bridge_->http_port(), EventsTarget({"inj"}),
                          BearerOptions(keys().UserToken("bob", {"inj"}))))
        << bob_.error();
  }

  grpc::Status GrpcPublish(const v1::PublishRequest& req, v1::PublishResponse* resp) {
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + kWait));
    ctx.AddMetadata("authorization", absl::StrCat("Bearer ", keys().backend_key));
    return grpc_->publisher()->Publish(&ctx, req, resp);
  }

  HttpResponse HttpPublish(const std::string& json) {
    return HttpRequest(bridge_->http_port(), "POST", "/v1/publish", json,
                       {{"Content-Type", "application/json"},
                        {"Authorization", absl::StrCat("Bearer ", keys().backend_key)}});
  }

  // Accepted: Bob's next event is exactly this one.
  void ExpectDelivered(const std::string& id, const std::string& data) {
    expected_ids_.push_back(id);
    expected_data_.push_back(AsRead(data));
    ASSERT_TRUE(bob_.WaitForEvents(expected_ids_.size(), kWait)) << bob_.Describe();
  }

  // Bob's stream holds exactly the accepted events, nothing else.
  void CheckBobsStream() {
    // A marker flushes anything a refused publish might have sent.
    v1::PublishResponse marker;
    ASSERT_TRUE(GrpcPublish(MakePublish("inj", "marker"), &marker).ok());
    ExpectDelivered(marker.id(), "marker");
    bob_.ReadFor(absl::Milliseconds(100));
    const auto& events = bob_.events();
    ASSERT_EQ(events.size(), expected_ids_.size()) << Summarize(EventIds(events));
    for (size_t i = 0; i < events.size(); ++i) {
      SCOPED_TRACE(absl::StrCat("event #", i));
      EXPECT_TRUE(events[i].had_id_field);
      EXPECT_EQ(events[i].id, expected_ids_[i]);
      EXPECT_EQ(events[i].event, "message");
      EXPECT_FALSE(events[i].had_event_field);
      EXPECT_EQ(events[i].data, expected_data_[i]);
    }
    // The only fields a WHATWG reader ignores are the bridge's own: one
    // heartbeat hint, and one channel line per event naming its channel.
    size_t hints = 0, channel_lines = 0;
    std::vector<std::string> unknown;
    for (const std::string& line : bob_.parser().ignored_lines()) {
      if (absl::StartsWith(line, "heartbeat: ")) {
        ++hints;
      } else if (line == "channel: inj") {
        ++channel_lines;
      } else {
        unknown.push_back(line);
      }
    }
    EXPECT_TRUE(unknown.empty()) << "unknown fields: " << Summarize(unknown);
    EXPECT_EQ(hints, 1u);
    EXPECT_EQ(channel_lines, events.size());
    EXPECT_EQ(bob_.retries().size(), 1u) << "an extra retry: field";
    for (const auto& c : bob_.comments()) {
      EXPECT_TRUE(c == " ok" || c == " keepalive") << "an extra comment: " << c;
    }
    EXPECT_FALSE(bob_.closed()) << bob_.Describe();
  }

  std::unique_ptr<BridgeProcess> bridge_;
  std::unique_ptr<GrpcClient> grpc_;
  SseClient bob_;
  std::vector<std::string> expected_ids_, expected_data_;
};

TEST_F(FaultInjectionTest, GrpcRefusesBadEventAndBadUtf8AndEncodesHostileData) {
  for (const std::string& event :
       {std::string("evil\ndata: x"), std::string("evil\r"), std::string("a\r\nid: 1"),
        std::string("nul\0", 4), std::string("\n")}) {
    v1::PublishResponse resp;
    grpc::Status s = GrpcPublish(MakePublish("inj", "x", event), &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << absl::CEscape(event);
    EXPECT_TRUE(absl::StrContains(s.error_message(), "event")) << s.error_message();
  }
  // Invalid UTF-8 in a proto3 string never reaches the bridge: gRPC's
  // parser refuses the message (INTERNAL, "failed to deserialize"), so the
  // field cannot be named. It is refused, and Bob sees nothing of it.
  for (const std::string& data :
       {std::string("\xC3\x28"), std::string("ok\xFF"), std::string("\xED\xA0\x80")}) {
    v1::PublishResponse resp;
    grpc::Status s = GrpcPublish(MakePublish("inj", data), &resp);
    EXPECT_FALSE(s.ok()) << absl::CEscape(data);
    EXPECT_TRUE(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT ||
                s.error_code() == grpc::StatusCode::INTERNAL)
        << s.error_code() << " " << s.error_message();
    EXPECT_TRUE(resp.id().empty());
  }
  for (const std::string& data : HostileData()) {
    SCOPED_TRACE(absl::CEscape(data));
    v1::PublishResponse resp;
    grpc::Status s = GrpcPublish(MakePublish("inj", data), &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
    ExpectDelivered(resp.id(), data);
  }
  CheckBobsStream();
}

TEST_F(FaultInjectionTest, HttpRefusesBadEventAndBadUtf8AndEncodesHostileData) {
  for (const char* event : {"evil\\ndata: x", "evil\\r", "a\\r\\nid: 1", "nul\\u0000"}) {
    HttpResponse r =
        HttpPublish(absl::StrCat(R"({"channel":"inj","data":"x","event":")", event, "\"}"));
    EXPECT_EQ(r.status, 400) << event << " " << r.body;
    EXPECT_TRUE(absl::StrContains(r.body, "event")) << r.body;
  }
  // Raw invalid UTF-8, and an unpaired surrogate escape.
  for (const std::string& data : {std::string("\xC3\x28"), std::string("\\ud800")}) {
    HttpResponse r = HttpPublish(absl::StrCat(R"({"channel":"inj","data":")", data, "\"}"));
    EXPECT_EQ(r.status, 400) << absl::CEscape(data) << " " << r.body;
  }
  for (const std::string& data : HostileData()) {
    SCOPED_TRACE(absl::CEscape(data));
    // As JSON: every control character escaped.
    std::string escaped;
    for (unsigned char c : data) {
      if (c < 0x20 || c == '"' || c == '\\') {
        absl::StrAppend(&escaped, absl::StrFormat("\\u%04x", c));
      } else {
        escaped.push_back(static_cast<char>(c));
      }
    }
    HttpResponse r = HttpPublish(absl::StrCat(R"({"channel":"inj","data":")", escaped, "\"}"));
    ASSERT_EQ(r.status, 200) << r.error << r.body;
    google::protobuf::Struct json;
    ASSERT_TRUE(ParseJsonObject(r.body, &json)) << r.body;
    ExpectDelivered(JsonString(json, "id"), data);
  }
  CheckBobsStream();
}

// A Last-Event-ID with a bare CR (a header line ends only at CRLF) must not
// become a field of the stream.
TEST_F(FaultInjectionTest, BareCrInLastEventIdAddsNoField) {
  v1::PublishResponse first;
  ASSERT_TRUE(GrpcPublish(MakePublish("inj", "first"), &first).ok());
  ExpectDelivered(first.id(), "first");
  SseClient eve;
  SseClientOptions o = BearerOptions(keys().UserToken("eve", {"inj"}));
  o.headers.push_back({"Last-Event-ID", absl::StrCat(first.id(), "\rdata: evil\revent: evil")});
  ASSERT_TRUE(eve.Open(bridge_->http_port(), EventsTarget({"inj"}), o)) << eve.error();
  v1::PublishResponse second;
  ASSERT_TRUE(GrpcPublish(MakePublish("inj", "second"), &second).ok());
  ExpectDelivered(second.id(), "second");
  ASSERT_TRUE(eve.WaitForData("second", kWait)) << eve.Describe();
  // The bad cursor may be echoed inside the reset notice's JSON data, as
  // one data line; never as a line of its own.
  for (const auto& e : eve.events()) {
    EXPECT_NE(e.event, "evil");
    EXPECT_NE(e.data, "evil");
    EXPECT_EQ(e.data_lines, 1) << absl::CEscape(e.data);
    EXPECT_FALSE(absl::StrContains(e.data, "\r")) << absl::CEscape(e.data);
  }
  for (const std::string& line : eve.parser().ignored_lines()) {
    EXPECT_TRUE(absl::StartsWith(line, "heartbeat: ") || line == "channel: inj")
        << Summarize(eve.parser().ignored_lines());
  }
  CheckBobsStream();
}

}  // namespace
}  // namespace ssebridge_it
