// Conversions between the client's types (publisher.h) and the bridge's
// protobuf messages and gRPC statuses. Private to the library: shared by
// Publisher and the two stream classes, not installed.
#ifndef SSEBRIDGE_CLIENTS_CPP_SRC_WIRE_H_
#define SSEBRIDGE_CLIENTS_CPP_SRC_WIRE_H_

#include <grpcpp/grpcpp.h>

#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ssebridge/publisher.h"

namespace ssebridge {
namespace internal {

absl::Status FromGrpc(const grpc::Status& status);
v1::PublishRequest ToRequest(const Event& e);
v1::PublishBatchRequest ToBatchRequest(const std::vector<Event>& events);
absl::Time ToTime(const google::protobuf::Timestamp& t);
Ack ToAck(const v1::PublishResponse& r);
Stats ToStats(const v1::Stats& s);

// One result per event of a PublishBatch answer: its error, or its Ack.
// Missing answers (not the bridge's contract) are INTERNAL.
std::vector<absl::StatusOr<Ack>> ToResults(const v1::PublishBatchResponse& response, size_t events);

}  // namespace internal
}  // namespace ssebridge

#endif  // SSEBRIDGE_CLIENTS_CPP_SRC_WIRE_H_
