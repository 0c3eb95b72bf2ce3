// Health: GET /healthz and /readyz; grpc.health.v1 and server reflection on
// the gRPC port, called generically (no generated code for those protos);
// the gRPC threads behind them.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/support/byte_buffer.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/harness/bridge_process.h"
#include "tests/harness/grpc_client.h"
#include "tests/harness/grpc_generic.h"
#include "tests/harness/http_request.h"
#include "tests/harness/test_helpers.h"

namespace ssebridge_it {
namespace {

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
  grpc::Status status;
  // HealthCheckRequest{service: ""} serializes to no bytes.
  const std::string response = GrpcHealthCheck(bridge->grpc_port(), "", &status);
  ASSERT_TRUE(status.ok()) << status.error_code() << ": " << status.error_message();
  // HealthCheckResponse{status: SERVING (1)} is field 1, varint 1.
  EXPECT_EQ(response, std::string("\x08\x01", 2));
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
  auto call =
      stub.PrepareCall(&ctx, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &cq);
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

// The bridge serves grpc.health.v1 itself: it knows "" only.
TEST(HealthTest, GrpcHealthCheckOfAnUnknownServiceIsNotFound) {
  auto bridge = StartBridge();
  ASSERT_NE(bridge, nullptr);
  grpc::Status status;
  // HealthCheckRequest{service: "nope"}: field 1, length 4.
  GrpcHealthCheck(bridge->grpc_port(), std::string("\x0a\x04nope", 6), &status);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND) << status.error_message();
  EXPECT_NE(status.error_message().find("service"), std::string::npos);
}

// A watcher hears SERVING at once, and NOT_SERVING when the bridge drains,
// before its stream ends.
TEST(HealthTest, GrpcHealthWatchSeesServingThenNotServingWhenTheBridgeDrains) {
  auto bridge = StartBridge();
  ASSERT_NE(bridge, nullptr);
  GrpcClient client(bridge->grpc_port());
  grpc::GenericStub stub(client.channel());
  grpc::CompletionQueue cq;
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  ctx.set_wait_for_ready(true);
  auto call = stub.PrepareCall(&ctx, "/grpc.health.v1.Health/Watch", &cq);
  ASSERT_NE(call, nullptr);
  CallCleanup cleanup{&ctx, &cq};
  int start = 1, write = 2, done = 3, read = 4, finish = 5;
  call->StartCall(&start);
  ASSERT_TRUE(Await(&cq, &start, absl::Seconds(20)));
  call->Write(ToByteBuffer(""), &write);
  ASSERT_TRUE(Await(&cq, &write, absl::Seconds(20)));
  call->WritesDone(&done);
  ASSERT_TRUE(Await(&cq, &done, absl::Seconds(20)));
  grpc::ByteBuffer response;
  call->Read(&response, &read);
  ASSERT_TRUE(Await(&cq, &read, absl::Seconds(20)));
  EXPECT_EQ(FromByteBuffer(response), std::string("\x08\x01", 2));  // SERVING

  bridge->Signal(SIGTERM);
  call->Read(&response, &read);
  ASSERT_TRUE(Await(&cq, &read, absl::Seconds(20))) << bridge->LogText();
  EXPECT_EQ(FromByteBuffer(response), std::string("\x08\x02", 2));  // NOT_SERVING
  grpc::Status status;
  call->Finish(&status, &finish);
  void* tag = nullptr;
  bool ok = false;
  // The stream ends (a final failed Read may come back before the Finish).
  do {
    ASSERT_EQ(cq.AsyncNext(&tag, &ok, absl::ToChronoTime(absl::Now() + absl::Seconds(20))),
              grpc::CompletionQueue::GOT_EVENT);
  } while (tag != &finish);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  ExitInfo exit;
  EXPECT_TRUE(bridge->WaitExit(absl::Seconds(30), &exit)) << bridge->LogText();
}

// No method may run on gRPC's callback API: one such method puts every call
// on the port through the callback API's polling threads ("nexting_thread"),
// several hand-offs per message. The async methods share one loop thread.
TEST(HealthTest, NoGrpcCallbackThreadsAndOneCompletionLoop) {
  auto bridge = StartBridge();
  ASSERT_NE(bridge, nullptr);
  GrpcClient client(bridge->grpc_port());
  grpc::Status status;
  std::vector<v1::PublishResponse> answers =
      PublishAllOnOneStream(client.publisher(), {MakePublish("t", "x")}, &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(answers.size(), 1u);
  v1::PublishResponse published;
  ASSERT_TRUE(client.Publish(MakePublish("t", "y"), &published).ok());
  std::map<std::string, int> names;
  const std::string tasks = "/proc/" + std::to_string(bridge->pid()) + "/task";
  for (const auto& entry : std::filesystem::directory_iterator(tasks)) {
    std::ifstream comm(entry.path() / "comm");
    std::string name;
    std::getline(comm, name);
    ++names[name];
  }
  std::string all;
  for (const auto& [name, count] : names) all += name + " x" + std::to_string(count) + ", ";
  EXPECT_EQ(names.count("nexting_thread"), 0u) << all;
  EXPECT_EQ(names["grpc_cq_loop"], 1) << all;
}

}  // namespace
}  // namespace ssebridge_it
