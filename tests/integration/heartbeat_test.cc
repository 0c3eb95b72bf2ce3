// Heartbeat comments on idle streams (--heartbeat), the heartbeat: hint at
// the start of every stream, and the channel: field of every event.
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/harness/bridge_process.h"
#include "tests/harness/grpc_client.h"
#include "tests/harness/sse_client.h"
#include "tests/harness/test_helpers.h"

namespace ssebridge_it {
namespace {

TEST(HeartbeatTest, IdleStreamGetsCommentLines) {
  auto bridge = StartBridge({"--heartbeat=200ms"});
  ASSERT_NE(bridge, nullptr);
  SseClient sse;
  ASSERT_TRUE(sse.Open(bridge->http_port(), EventsTarget({"quiet"}))) << sse.error();
  size_t opening = sse.comments().size();
  ASSERT_TRUE(sse.ReadUntil([&] { return sse.comments().size() >= opening + 3; }, kWait))
      << "expected 3 heartbeat comments; " << sse.Describe();
  EXPECT_TRUE(sse.events().empty()) << "heartbeats are not events";
  EXPECT_FALSE(sse.closed());
}

TEST(HeartbeatTest, HeartbeatsDoNotDisturbEvents) {
  auto bridge = StartBridge({"--heartbeat=200ms"});
  ASSERT_NE(bridge, nullptr);
  GrpcClient grpc(bridge->grpc_port());
  SseClient sse;
  ASSERT_TRUE(sse.Open(bridge->http_port(), EventsTarget({"mixed"}))) << sse.error();
  for (int i = 0; i < 3; ++i) {
    size_t before = sse.comments().size();
    ASSERT_TRUE(sse.ReadUntil([&] { return sse.comments().size() > before; }, kWait))
        << sse.Describe();
    grpc.MustPublish("mixed", absl::StrCat("between heartbeats ", i));
  }
  ASSERT_TRUE(sse.WaitForEvents(3, kWait)) << sse.Describe();
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(sse.events()[i].data, absl::StrCat("between heartbeats ", i));
  }
  size_t after_events = sse.comments().size();
  EXPECT_TRUE(sse.ReadUntil([&] { return sse.comments().size() > after_events; }, kWait))
      << "heartbeats continue after events; " << sse.Describe();
}

TEST(HeartbeatTest, HeartbeatIsPacedNotAFlood) {
  auto bridge = StartBridge({"--heartbeat=500ms"});
  ASSERT_NE(bridge, nullptr);
  SseClient sse;
  ASSERT_TRUE(sse.Open(bridge->http_port(), EventsTarget({"paced"}))) << sse.error();
  size_t opening = sse.comments().size();
  ASSERT_TRUE(sse.ReadUntil([&] { return sse.comments().size() > opening; }, kWait))
      << sse.Describe();
  sse.ReadFor(absl::Seconds(2));
  // 2 s at one per 500 ms is about 4; a flood would be far more.
  EXPECT_LE(sse.comments().size(), opening + 1 + 12) << sse.Describe();
}

// The stream announces its heartbeat right after retry:, and every event
// names its channel; EventSource ignores both fields (the SDK reads them).
TEST(HeartbeatTest, StreamAnnouncesHeartbeatAndEventsNameTheirChannel) {
  auto bridge = StartBridge({"--heartbeat=1500ms"});
  ASSERT_NE(bridge, nullptr);
  SseClient sse;
  ASSERT_TRUE(sse.Open(bridge->http_port(), EventsTarget({"left", "right"}))) << sse.error();
  GrpcClient grpc(bridge->grpc_port());
  v1::PublishResponse left = grpc.MustPublish("left", "l");
  v1::PublishResponse right = grpc.MustPublish("right", "r");
  ASSERT_TRUE(sse.WaitForEvents(2, kWait)) << sse.Describe();
  const std::string& body = sse.raw_body();
  const size_t retry = body.find("\nretry: ");
  ASSERT_NE(retry, std::string::npos) << body;
  EXPECT_EQ(body.find("\n\nheartbeat: 1500\n\n", retry), body.find("\n\n", retry))
      << "the hint follows retry: at once; body: " << body;
  EXPECT_NE(body.find(absl::StrCat("channel: left\nid: ", left.id(), "\ndata: l\n\n")),
            std::string::npos)
      << body;
  EXPECT_NE(body.find(absl::StrCat("channel: right\nid: ", right.id(), "\ndata: r\n\n")),
            std::string::npos)
      << body;
  // What EventSource sees is unchanged.
  EXPECT_EQ(sse.events()[0].data, "l");
  EXPECT_EQ(sse.events()[1].data, "r");
}

}  // namespace
}  // namespace ssebridge_it
