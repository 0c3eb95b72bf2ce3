// PublishStream with thousands of requests, or megabytes, in flight while
// the answers are read on another thread: every answer comes, in order, and
// every event arrives. (Whether a stream that owes too much stops reading,
// and starts again, is HostileGrpcUnreadAnswersTest's: here the answers are
// read as they come, so a stream rarely owes enough to pause.) Through
// Redis the batches run on the handler threads, not the gRPC loop: two
// streams sharing one handler thread take turns and keep their order.
#include <algorithm>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/harness/bridge_process.h"
#include "tests/harness/grpc_client.h"
#include "tests/harness/redis_fixture.h"
#include "tests/harness/sse_client.h"
#include "tests/harness/test_helpers.h"

namespace ssebridge_it {
namespace {

// Writes `count` publishes of `payload_bytes` to `channel` on one thread
// while this one reads the answers; returns the ids, in answer order.
std::vector<std::string> PipelineAndRead(BridgeProcess& bridge, const std::string& channel,
                                         int count, size_t payload_bytes) {
  GrpcClient grpc(bridge.grpc_port());
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(120)));
  auto stream = grpc.publisher()->PublishStream(&ctx);
  std::thread writer([&] {
    for (int i = 0; i < count; ++i) {
      std::string data = absl::StrCat("p", i, ":");
      data.resize(std::max(data.size(), payload_bytes), 'x');
      if (!stream->Write(MakePublish(channel, data))) return;
    }
    stream->WritesDone();
  });
  std::vector<std::string> ids;
  v1::PublishResponse resp;
  while (static_cast<int>(ids.size()) < count && stream->Read(&resp)) {
    EXPECT_FALSE(resp.has_error()) << resp.ShortDebugString();
    ids.push_back(resp.id());
  }
  writer.join();
  EXPECT_EQ(static_cast<int>(ids.size()), count) << "the stream stopped answering";
  EXPECT_FALSE(stream->Read(&resp)) << "an answer too many";
  grpc::Status status = stream->Finish();
  EXPECT_TRUE(status.ok()) << status.error_code() << ": " << status.error_message();
  return ids;
}

TEST(PublishStreamPipeliningTest, ThousandsInFlightAreAnsweredInOrder) {
  // The reader reads once the publisher is done: its queue holds them all.
  auto bridge = StartBridge({"--queue_bytes=8388608"});
  ASSERT_NE(bridge, nullptr);
  SseClient sse;
  ASSERT_TRUE(sse.Open(bridge->http_port(), EventsTarget({"many"}))) << sse.error();
  constexpr int kCount = 3000;  // more than 256 owed, many times over
  std::vector<std::string> ids = PipelineAndRead(*bridge, "many", kCount, 0);
  EXPECT_EQ(CheckIdsIncreasing(ids), "") << Summarize(ids);
  ASSERT_TRUE(sse.WaitForEvents(kCount, kWait)) << sse.Describe();
  for (int i = 0; i < kCount; ++i) {
    ASSERT_EQ(sse.events()[i].data, absl::StrCat("p", i, ":")) << i;
    ASSERT_EQ(sse.events()[i].id, ids[i]) << i;
  }
}

TEST(PublishStreamPipeliningTest, MegabytesInFlightAreAnsweredInOrder) {
  // 48 events of 256 KiB: 12 MiB in flight against the 4 MiB a stream
  // reads ahead.
  auto bridge = StartBridge(
      {"--max_event_bytes=262144", "--history_bytes=16777216", "--queue_bytes=33554432"});
  ASSERT_NE(bridge, nullptr);
  SseClient sse;
  ASSERT_TRUE(sse.Open(bridge->http_port(), EventsTarget({"big"}))) << sse.error();
  constexpr int kCount = 48;
  constexpr size_t kBytes = 256 * 1024;
  std::vector<std::string> ids = PipelineAndRead(*bridge, "big", kCount, kBytes);
  EXPECT_EQ(CheckIdsIncreasing(ids), "") << Summarize(ids);
  ASSERT_TRUE(sse.WaitForEvents(kCount, kWait)) << sse.Describe();
  for (int i = 0; i < kCount; ++i) {
    ASSERT_EQ(sse.events()[i].data.size(), kBytes) << i;
    const std::string prefix = absl::StrCat("p", i, ":");
    ASSERT_EQ(sse.events()[i].data.substr(0, prefix.size()), prefix) << i;
    ASSERT_EQ(sse.events()[i].id, ids[i]) << i;
  }
}

TEST_F(RedisScaleOutTest, TwoStreamsOnOneHandlerThreadThroughRedisKeepTheirOrder) {
  auto bridge = StartReplica({"--queue_bytes=8388608", "--grpc_handler_threads=1"});
  ASSERT_NE(bridge, nullptr);
  constexpr int kCount = 2000;
  const std::vector<std::string> channels = {"turn-a", "turn-b"};
  std::vector<std::unique_ptr<SseClient>> readers;
  for (const std::string& channel : channels) {
    readers.push_back(std::make_unique<SseClient>());
    ASSERT_TRUE(OpenAttached(readers.back().get(), bridge->http_port(), EventsTarget({channel})))
        << readers.back()->error();
  }
  std::vector<std::string> ids[2];
  std::thread second([&] { ids[1] = PipelineAndRead(*bridge, channels[1], kCount, 0); });
  ids[0] = PipelineAndRead(*bridge, channels[0], kCount, 0);
  second.join();
  for (size_t c = 0; c < 2; ++c) {
    EXPECT_EQ(CheckIdsIncreasing(ids[c]), "") << Summarize(ids[c]);
    ASSERT_EQ(ids[c].size(), static_cast<size_t>(kCount));
    SseClient& sse = *readers[c];
    ASSERT_TRUE(sse.WaitForEvents(kCount, kWait)) << sse.Describe();
    for (int i = 0; i < kCount; ++i) {
      ASSERT_EQ(sse.events()[i].data, absl::StrCat("p", i, ":")) << c << " " << i;
      ASSERT_EQ(sse.events()[i].id, ids[c][i]) << c << " " << i;
    }
  }
}

}  // namespace
}  // namespace ssebridge_it
