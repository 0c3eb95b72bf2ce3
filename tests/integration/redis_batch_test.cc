// Batched publishes on the Redis broker: one pipelined round trip per batch,
// yet every request is answered in place, in order, with ids shared by all
// replicas; a Redis outage fails each request of a batch, never a silent
// subset.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/harness/redis_fixture.h"
#include "tests/harness/test_helpers.h"

namespace ssebridge_it {
namespace {

grpc::Status PublishBatch(v1::BatchPublisher::Stub* stub, const v1::PublishBatchRequest& req,
                          v1::PublishBatchResponse* resp) {
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(15)));
  return stub->PublishBatch(&ctx, req, resp);
}

TEST_F(RedisScaleOutTest, BatchReachesEveryReplicaInOrderWithRequestsAnsweredInPlace) {
  auto r1 = StartReplica();
  auto r2 = StartReplica();
  ASSERT_TRUE(r1 && r2);
  SseClient on1, on2;
  ASSERT_TRUE(OpenAttached(&on1, r1->http_port(), EventsTarget({"b", "c"})));
  ASSERT_TRUE(OpenAttached(&on2, r2->http_port(), EventsTarget({"b", "c"})));
  GrpcClient grpc(r1->grpc_port());
  auto stub = v1::BatchPublisher::NewStub(grpc.channel());

  constexpr int kBatches = 5;
  constexpr int kPerBatch = 400;
  std::vector<std::string> want_ids, want_data;
  for (int b = 0; b < kBatches; ++b) {
    v1::PublishBatchRequest req;
    for (int i = 0; i < kPerBatch; ++i) {
      *req.add_requests() = MakePublish(i % 2 ? "b" : "c", absl::StrCat(b, ".", i));
    }
    // An invalid request and a repeated idempotency key, mid-batch.
    *req.add_requests() = MakePublish("bad channel!", "never");
    v1::PublishRequest keyed = MakePublish("b", absl::StrCat("keyed", b));
    keyed.set_idempotency_key(absl::StrCat("k", b));
    *req.add_requests() = keyed;
    *req.add_requests() = keyed;
    v1::PublishBatchResponse resp;
    grpc::Status st = PublishBatch(stub.get(), req, &resp);
    ASSERT_TRUE(st.ok()) << st.error_message();
    ASSERT_EQ(resp.responses_size(), kPerBatch + 3);
    for (int i = 0; i < kPerBatch; ++i) {
      ASSERT_FALSE(resp.responses(i).has_error()) << resp.responses(i).ShortDebugString();
      want_ids.push_back(resp.responses(i).id());
      want_data.push_back(absl::StrCat(b, ".", i));
    }
    EXPECT_EQ(resp.responses(kPerBatch).error().code(), 3);
    const auto& first = resp.responses(kPerBatch + 1);
    const auto& again = resp.responses(kPerBatch + 2);
    ASSERT_FALSE(first.has_error()) << first.ShortDebugString();
    EXPECT_FALSE(first.replayed());
    EXPECT_TRUE(again.replayed()) << again.ShortDebugString();
    EXPECT_EQ(again.id(), first.id());
    want_ids.push_back(first.id());
    want_data.push_back(absl::StrCat("keyed", b));
  }
  EXPECT_EQ(CheckIdsIncreasing(want_ids), "");
  for (SseClient* c : {&on1, &on2}) {
    ASSERT_TRUE(c->WaitForEvents(want_ids.size(), kWait)) << c->Describe();
    c->ReadFor(absl::Milliseconds(200));
    EXPECT_EQ(EventIds(c->events()), want_ids);
    EXPECT_EQ(EventDatas(c->events()), want_data);
  }
}

TEST_F(RedisScaleOutTest, BatchFailsEveryRequestWhenRedisIsDown) {
  auto r1 = StartReplica();
  ASSERT_TRUE(r1);
  GrpcClient grpc(r1->grpc_port());
  auto stub = v1::BatchPublisher::NewStub(grpc.channel());
  redis_->Kill();
  v1::PublishBatchRequest req;
  for (int i = 0; i < 50; ++i) *req.add_requests() = MakePublish("c", absl::StrCat(i));
  for (int attempt = 0; attempt < 3; ++attempt) {
    v1::PublishBatchResponse resp;
    const absl::Time start = absl::Now();
    grpc::Status st = PublishBatch(stub.get(), req, &resp);
    EXPECT_LT(absl::Now() - start, absl::Seconds(3));
    ASSERT_TRUE(st.ok()) << st.error_message();
    ASSERT_EQ(resp.responses_size(), 50);
    for (const auto& r : resp.responses()) {
      EXPECT_EQ(r.error().code(), static_cast<int>(grpc::StatusCode::UNAVAILABLE))
          << r.ShortDebugString();
      EXPECT_TRUE(r.id().empty());
    }
  }
}

// A PublishStream publisher faster than Redis: what queues up goes to Redis
// in one pipelined round trip, each request still answered in place.
TEST_F(RedisScaleOutTest, PublishStreamRequestsQueuedUpAreAnsweredInPlaceAndInOrder) {
  auto r1 = StartReplica();
  auto r2 = StartReplica();
  ASSERT_TRUE(r1 && r2);
  SseClient on2;
  ASSERT_TRUE(OpenAttached(&on2, r2->http_port(), EventsTarget({"q", "r"})));
  GrpcClient grpc(r1->grpc_port());
  QueuedUpStream run = PublishQueuedUpOnOneStream(grpc.publisher());
  ASSERT_EQ(run.error, "");
  const std::vector<std::string>& ids = run.ids;
  const std::vector<std::string>& datas = run.datas;
  ASSERT_TRUE(on2.WaitForEvents(ids.size(), kWait)) << on2.Describe();
  EXPECT_EQ(EventIds(on2.events()), ids);
  EXPECT_EQ(EventDatas(on2.events()), datas);
}

// Through Redis the handler is slow, so answers pile up behind each other:
// they still all go out while the publisher only waits.
TEST_F(RedisScaleOutTest, PublishStreamAnswersEveryRequestWhileThePublisherOnlyWaits) {
  auto r1 = StartReplica();
  ASSERT_TRUE(r1);
  GrpcClient grpc(r1->grpc_port());
  EXPECT_EQ(PublishThenOnlyWait(grpc.publisher(), "w", 20), "");
}

}  // namespace
}  // namespace ssebridge_it
