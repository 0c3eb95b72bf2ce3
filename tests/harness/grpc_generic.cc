#include "tests/harness/grpc_generic.h"

#include <grpcpp/generic/generic_stub.h>

#include <vector>

#include "absl/time/clock.h"
#include "tests/harness/grpc_client.h"

namespace ssebridge_it {

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

bool Await(grpc::CompletionQueue* cq, void* want, absl::Duration timeout) {
  void* tag = nullptr;
  bool ok = false;
  auto status = cq->AsyncNext(&tag, &ok, absl::ToChronoTime(absl::Now() + timeout));
  return status == grpc::CompletionQueue::GOT_EVENT && tag == want && ok;
}

CallCleanup::~CallCleanup() {
  ctx->TryCancel();
  cq->Shutdown();
  void* tag;
  bool ok;
  for (int i = 0; i < 100 && cq->Next(&tag, &ok); ++i) {
  }
}

std::string GrpcHealthCheck(int port, const std::string& request, grpc::Status* status,
                            absl::Duration timeout) {
  GrpcClient client(port);
  grpc::GenericStub stub(client.channel());
  grpc::CompletionQueue cq;
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  ctx.set_wait_for_ready(true);
  auto call =
      stub.PrepareUnaryCall(&ctx, "/grpc.health.v1.Health/Check", ToByteBuffer(request), &cq);
  if (call == nullptr) {
    *status = grpc::Status(grpc::StatusCode::INTERNAL, "PrepareUnaryCall failed");
    return "";
  }
  CallCleanup cleanup{&ctx, &cq};
  call->StartCall();
  grpc::ByteBuffer response;
  int tag = 1;
  call->Finish(&response, status, &tag);
  // The deadline ends the call; this bound only guards against a lost tag.
  if (!Await(&cq, &tag, timeout + absl::Seconds(5))) {
    *status = grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "no answer to Check");
    return "";
  }
  return FromByteBuffer(response);
}

}  // namespace ssebridge_it
