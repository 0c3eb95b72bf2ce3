// Health: GET /healthz and /readyz; grpc.health.v1 and server reflection on
// the gRPC port, called generically (no generated code for those protos).
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/support/byte_buffer.h>

#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/harness/bridge_process.h"
#include "tests/harness/grpc_client.h"
#include "tests/harness/http_request.h"
#include "tests/harness/test_helpers.h"

namespace ssebridge_it {
namespace {

grpc::ByteBuffer ToByteBuffer(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

std::string FromByteBuffer(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  std::string out;
  if (!buffer.Dump(&slices).ok()) return out;
  for (const auto& s : slices) {
    out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  return out;
}

// Waits for one completion-queue tag (bounded).
bool Await(grpc::CompletionQueue* cq, void* want, absl::Duration timeout) {
  void* tag = nullptr;
  bool ok = false;
  auto status = cq->AsyncNext(&tag, &ok, absl::ToChronoTime(absl::Now() + timeout));
  return status == grpc::CompletionQueue::GOT_EVENT && tag == want && ok;
}

// Cancels the call and drains the queue on every exit path.
struct CallCleanup {
  grpc::ClientContext* ctx;
  grpc::CompletionQueue* cq;
  ~CallCleanup() {
    ctx->TryCancel();
    cq->Shutdown();
    void* tag;
    bool ok;
    for (int i = 0; i < 100 && cq->Next(&tag, &ok); ++i) {
    }
  }
};

TEST(HealthTest, HttpHealthAndReadiness) {
  auto bridge = StartBridge();
  ASSERT_NE(bridge, nullptr);
  HttpResponse health = HttpGet(bridge->http_port(), "/healthz");
  ASSERT_TRUE(health.ok()) << health.error;
  EXPECT_EQ(health.status, 200) << health.body;
  HttpResponse ready = HttpGet(bridge->http_port(), "/readyz");
  ASSERT_TRUE(ready.ok()) << ready.error;
  EXPECT_EQ(ready.status, 200) << ready.body;
}

TEST(HealthTest, GrpcHealthCheckAnswersServing) {
  auto bridge = StartBridge();
  ASSERT_NE(bridge, nullptr);
  GrpcClient client(bridge->grpc_port());
  grpc::GenericStub stub(client.channel());
  grpc::CompletionQueue cq;
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(15)));
  ctx.set_wait_for_ready(true);
  // HealthCheckRequest{service: ""} serializes to no bytes.
  auto call = stub.PrepareUnaryCall(&ctx, "/grpc.health.v1.Health/Check",
                                    ToByteBuffer(""), &cq);
  ASSERT_NE(call, nullptr);
  CallCleanup cleanup{&ctx, &cq};
  call->StartCall();
  grpc::ByteBuffer response;
  grpc::Status status;
  int tag = 1;
  call->Finish(&response, &status, &tag);
  ASSERT_TRUE(Await(&cq, &tag, absl::Seconds(20)));
  ASSERT_TRUE(status.ok()) << status.error_code() << ": " << status.error_message();
  // HealthCheckResponse{status: SERVING (1)} is field 1, varint 1.
  EXPECT_EQ(FromByteBuffer(response), std::string("\x08\x01", 2));
}

TEST(HealthTest, ServerReflectionListsTheBridgeServices) {
  auto bridge = StartBridge();
  ASSERT_NE(bridge, nullptr);
  GrpcClient client(bridge->grpc_port());
  grpc::GenericStub stub(client.channel());
  grpc::CompletionQueue cq;
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(15)));
  ctx.set_wait_for_ready(true);
  auto call = stub.PrepareCall(
      &ctx, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &cq);
  ASSERT_NE(call, nullptr);
  CallCleanup cleanup{&ctx, &cq};
  int start = 1, write = 2, done = 3, read = 4, finish = 5;
  call->StartCall(&start);
  ASSERT_TRUE(Await(&cq, &start, absl::Seconds(20)));
  // ServerReflectionRequest{list_services: ""}: field 7, length-delimited, 0.
  call->Write(ToByteBuffer(std::string("\x3a\x00", 2)), &write);
  ASSERT_TRUE(Await(&cq, &write, absl::Seconds(20)));
  call->WritesDone(&done);
  ASSERT_TRUE(Await(&cq, &done, absl::Seconds(20)));
  grpc::ByteBuffer response;
  call->Read(&response, &read);
  ASSERT_TRUE(Await(&cq, &read, absl::Seconds(20)));
  std::string bytes = FromByteBuffer(response);
  EXPECT_NE(bytes.find("ssebridge.v1.Publisher"), std::string::npos);
  EXPECT_NE(bytes.find("ssebridge.v1.Subscriber"), std::string::npos);
  EXPECT_NE(bytes.find("grpc.health.v1.Health"), std::string::npos);
  grpc::Status status;
  call->Finish(&status, &finish);
  // Drain: the next completion is the Finish (or a final empty Read).
  Await(&cq, &finish, absl::Seconds(20));
}

}  // namespace
}  // namespace ssebridge_it
