// Heartbeat comments on idle streams (--heartbeat).
#include <string>

#include "absl/strings/str_cat.h"

#include "gtest/gtest.h"
#include "tests/integration/bridge_process.h"
#include "tests/integration/grpc_client.h"
#include "tests/integration/sse_client.h"
#include "tests/integration/test_helpers.h"

namespace ssebridge_it {
namespace {

TEST(HeartbeatTest, IdleStreamGetsCommentLines) {
  auto bridge = StartBridge({"--heartbeat=200ms"});
  ASSERT_NE(bridge, nullptr);
  SseClient sse;
  ASSERT_TRUE(sse.Open(bridge->http_port(), EventsTarget({"quiet"}))) << sse.error();
  size_t opening = sse.comments().size();
  ASSERT_TRUE(sse.ReadUntil([&] { return sse.comments().size() >= opening + 3; },
                            kWait))
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
  EXPECT_TRUE(sse.ReadUntil([&] { return sse.comments().size() > after_events; },
                            kWait))
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

}  // namespace
}  // namespace ssebridge_it
