// BatchPublisher (PublishBatch, PublishBatchStream): one response per
// request, in order, failures in place, and delivery in publish order.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/harness/bridge_process.h"
#include "tests/harness/grpc_client.h"
#include "tests/harness/sse_client.h"
#include "tests/harness/test_helpers.h"

namespace ssebridge_it {
namespace {

class BatchPublishTest : public ::testing::Test {
 protected:
  void SetUp() override {
    bridge_ = StartBridge();
    ASSERT_NE(bridge_, nullptr);
    grpc_ = std::make_unique<GrpcClient>(bridge_->grpc_port());
    batch_ = v1::BatchPublisher::NewStub(grpc_->channel());
  }

  std::unique_ptr<BridgeProcess> bridge_;
  std::unique_ptr<GrpcClient> grpc_;
  std::unique_ptr<v1::BatchPublisher::Stub> batch_;
};

TEST_F(BatchPublishTest, UnaryBatchAnswersEachRequestInPlace) {
  SseClient sse;
  ASSERT_TRUE(sse.Open(bridge_->http_port(), EventsTarget({"b"}))) << sse.error();
  v1::PublishBatchRequest req;
  *req.add_requests() = MakePublish("b", "one");
  *req.add_requests() = MakePublish("bad channel!", "two");  // invalid name
  *req.add_requests() = MakePublish("b", "three", "kind");
  v1::PublishBatchResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(15)));
  grpc::Status st = batch_->PublishBatch(&ctx, req, &resp);
  ASSERT_TRUE(st.ok()) << st.error_message();
  ASSERT_EQ(resp.responses_size(), 3);
  EXPECT_FALSE(resp.responses(0).has_error());
  EXPECT_EQ(resp.responses(0).subscribers(), 1u);
  EXPECT_EQ(resp.responses(1).error().code(), 3) << resp.ShortDebugString();
  EXPECT_TRUE(resp.responses(1).id().empty());
  EXPECT_FALSE(resp.responses(2).has_error());
  EXPECT_EQ(CheckIdsIncreasing({resp.responses(0).id(), resp.responses(2).id()}), "");

  ASSERT_TRUE(sse.WaitForEvents(2, kWait)) << sse.Describe();
  sse.ReadFor(absl::Milliseconds(200));
  ASSERT_EQ(sse.events().size(), 2u);
  EXPECT_EQ(sse.events()[0].data, "one");
  EXPECT_EQ(sse.events()[0].id, resp.responses(0).id());
  EXPECT_EQ(sse.events()[1].data, "three");
  EXPECT_EQ(sse.events()[1].event, "kind");
  EXPECT_EQ(sse.events()[1].id, resp.responses(2).id());
}

TEST_F(BatchPublishTest, OversizedBatchPublishesNothing) {
  SseClient sse;
  ASSERT_TRUE(sse.Open(bridge_->http_port(), EventsTarget({"big"}))) << sse.error();
  v1::PublishBatchRequest req;
  for (int i = 0; i < 1001; ++i) *req.add_requests() = MakePublish("big", "x");
  v1::PublishBatchResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(15)));
  grpc::Status st = batch_->PublishBatch(&ctx, req, &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << st.error_message();
  // Nothing was published: the reader's first event is the one after.
  grpc_->MustPublish("big", "after");
  ASSERT_TRUE(sse.WaitForEvents(1, kWait)) << sse.Describe();
  sse.ReadFor(absl::Milliseconds(200));
  ASSERT_EQ(sse.events().size(), 1u);
  EXPECT_EQ(sse.events()[0].data, "after");
}

TEST_F(BatchPublishTest, StreamAnswersEveryBatchInOrderAndDelivers) {
  SseClient sse;
  ASSERT_TRUE(sse.Open(bridge_->http_port(), EventsTarget({"bs"}))) << sse.error();
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
  auto stream = batch_->PublishBatchStream(&ctx);
  constexpr int kBatches = 20;
  constexpr int kPerBatch = 10;
  // Pipelined: every batch written before any answer is read; one bad
  // request in the middle of each batch.
  for (int b = 0; b < kBatches; ++b) {
    v1::PublishBatchRequest req;
    for (int k = 0; k < kPerBatch; ++k) {
      *req.add_requests() = k == 5 ? MakePublish("bs", "")  // empty data
                                   : MakePublish("bs", absl::StrCat(b, ".", k));
    }
    ASSERT_TRUE(stream->Write(req));
  }
  // An oversized batch is answered in place, and the stream stays open.
  v1::PublishBatchRequest big;
  for (int i = 0; i < 1001; ++i) *big.add_requests() = MakePublish("bs", "x");
  ASSERT_TRUE(stream->Write(big));
  ASSERT_TRUE(stream->WritesDone());
  std::vector<std::string> ids;
  for (int b = 0; b < kBatches; ++b) {
    v1::PublishBatchResponse resp;
    ASSERT_TRUE(stream->Read(&resp)) << "no response to batch " << b;
    ASSERT_EQ(resp.responses_size(), kPerBatch);
    for (int k = 0; k < kPerBatch; ++k) {
      if (k == 5) {
        EXPECT_EQ(resp.responses(k).error().code(), 3);
      } else {
        EXPECT_FALSE(resp.responses(k).has_error()) << resp.ShortDebugString();
        ids.push_back(resp.responses(k).id());
      }
    }
  }
  v1::PublishBatchResponse refused;
  ASSERT_TRUE(stream->Read(&refused));
  ASSERT_EQ(refused.responses_size(), 1001);
  EXPECT_EQ(refused.responses(1000).error().code(), 3);
  v1::PublishBatchResponse extra;
  EXPECT_FALSE(stream->Read(&extra)) << "unexpected extra response";
  grpc::Status st = stream->Finish();
  EXPECT_TRUE(st.ok()) << st.error_code() << ": " << st.error_message();
  EXPECT_EQ(CheckIdsIncreasing(ids), "") << Summarize(ids);

  const size_t want = static_cast<size_t>(kBatches * (kPerBatch - 1));
  ASSERT_TRUE(sse.WaitForEvents(want, kWait)) << sse.Describe();
  sse.ReadFor(absl::Milliseconds(200));
  ASSERT_EQ(sse.events().size(), want);
  size_t n = 0;
  for (int b = 0; b < kBatches; ++b) {
    for (int k = 0; k < kPerBatch; ++k) {
      if (k == 5) continue;
      EXPECT_EQ(sse.events()[n].data, absl::StrCat(b, ".", k));
      EXPECT_EQ(sse.events()[n].id, ids[n]);
      ++n;
    }
  }
}

// Requests that queue up on a PublishStream are handled together; each is
// still answered in place and delivered in order.
TEST_F(BatchPublishTest, PublishStreamRequestsQueuedUpAreAnsweredInPlaceAndInOrder) {
  GrpcClient grpc(bridge_->grpc_port());
  SseClient sse;
  ASSERT_TRUE(sse.Open(bridge_->http_port(), EventsTarget({"q", "r"}))) << sse.error();
  QueuedUpStream run = PublishQueuedUpOnOneStream(grpc.publisher());
  ASSERT_EQ(run.error, "");
  const std::vector<std::string>& ids = run.ids;
  const std::vector<std::string>& datas = run.datas;
  ASSERT_TRUE(sse.WaitForEvents(ids.size(), kWait)) << sse.Describe();
  EXPECT_EQ(EventIds(sse.events()), ids);
  EXPECT_EQ(EventDatas(sse.events()), datas);
}

// A publisher that sends a few requests and then only waits (no more
// frames, no half-close) gets every answer: answers queued behind another
// must not sit in a buffer waiting for traffic that never comes.
TEST_F(BatchPublishTest, PublishStreamAnswersEveryRequestWhileThePublisherOnlyWaits) {
  GrpcClient grpc(bridge_->grpc_port());
  EXPECT_EQ(PublishThenOnlyWait(grpc.publisher(), "w", 20), "");
}

}  // namespace
}  // namespace ssebridge_it
