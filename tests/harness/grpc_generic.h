// grpc_generic: calls to gRPC services the tests have no generated code for
// (grpc.health.v1, server reflection), over gRPC's generic stub with raw
// message bytes.
#ifndef SSEBRIDGE_TESTS_HARNESS_GRPC_GENERIC_H_
#define SSEBRIDGE_TESTS_HARNESS_GRPC_GENERIC_H_

#include <grpcpp/grpcpp.h>
#include <grpcpp/support/byte_buffer.h>

#include <string>

#include "absl/time/time.h"

namespace ssebridge_it {

grpc::ByteBuffer ToByteBuffer(const std::string& bytes);
std::string FromByteBuffer(const grpc::ByteBuffer& buffer);

// Waits for one completion-queue tag (bounded): true when `want` came back
// ok within `timeout`.
bool Await(grpc::CompletionQueue* cq, void* want, absl::Duration timeout);

// Cancels the call and drains the queue on every exit path.
struct CallCleanup {
  grpc::ClientContext* ctx;
  grpc::CompletionQueue* cq;
  ~CallCleanup();
};

// One grpc.health.v1 Check with the serialized HealthCheckRequest
// `request`, given `timeout` to answer; *status is the call's status
// (DEADLINE_EXCEEDED when it did not answer), the result its response bytes.
std::string GrpcHealthCheck(int port, const std::string& request, grpc::Status* status,
                            absl::Duration timeout = absl::Seconds(15));

}  // namespace ssebridge_it

#endif  // SSEBRIDGE_TESTS_HARNESS_GRPC_GENERIC_H_
