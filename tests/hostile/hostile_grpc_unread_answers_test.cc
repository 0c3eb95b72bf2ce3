// A gRPC publisher that pipelines PublishStream requests and does not read
// the answers, through a 4 KiB receive window. The bridge used to read and
// publish every request and queue every answer; now a stream stops reading
// once 256 answers are owed (OrderedStream::kMaxWaiting), which the
// counter ssebridge_grpc_publish_stream_read_pauses_total shows, so the
// publisher meets HTTP/2 flow control. Once it reads again, reading
// resumes and every request is answered, in order.
#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/harness/bridge_process.h"
#include "tests/harness/grpc_client.h"
#include "tests/harness/hostile_wire.h"
#include "tests/harness/test_helpers.h"

namespace ssebridge_it {
namespace {

constexpr char kPauses[] = "ssebridge_grpc_publish_stream_read_pauses_total";

TEST(HostileGrpcUnreadAnswersTest, APublisherThatDoesNotReadIsPausedThenResumed) {
  auto bridge = StartBridge();
  ASSERT_NE(bridge, nullptr);
  ASSERT_EQ(MetricValue(bridge->admin_port(), kPauses), 0);

  // A small window the answers fill at once: no BDP probing to grow it.
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  args.SetInt(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 4096);
  auto channel = grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", bridge->grpc_port()),
                                           grpc::InsecureChannelCredentials(), args);
  auto stub = v1::Publisher::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(120)));
  auto stream = stub->PublishStream(&ctx);

  // Far more than 256 answers' worth; the writes block once the bridge
  // stops reading and its own window is full, until the reader below reads.
  constexpr int kCount = 5000;
  std::thread writer([&] {
    for (int i = 0; i < kCount; ++i) {
      if (!stream->Write(MakePublish("unread", absl::StrCat("u", i)))) return;
    }
    stream->WritesDone();
  });
  // The condition this test means: the stream paused (not a time).
  bool paused = false;
  for (const absl::Time end = absl::Now() + kWait; !paused && absl::Now() < end;) {
    paused = MetricValue(bridge->admin_port(), kPauses) >= 1;
    if (!paused) absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_TRUE(paused) << "the bridge kept reading a stream that owes 256 answers";

  std::vector<std::string> ids;
  v1::PublishResponse resp;
  while (static_cast<int>(ids.size()) < kCount && stream->Read(&resp)) {
    EXPECT_FALSE(resp.has_error()) << resp.ShortDebugString();
    ids.push_back(resp.id());
  }
  writer.join();
  EXPECT_EQ(static_cast<int>(ids.size()), kCount) << "reading never resumed";
  EXPECT_EQ(CheckIdsIncreasing(ids), "") << Summarize(ids);
  grpc::Status status = stream->Finish();
  EXPECT_TRUE(status.ok()) << status.error_code() << ": " << status.error_message();
}

}  // namespace
}  // namespace ssebridge_it
