// PublisherService: the gRPC Publisher (Publish, PublishStream) over a
// PublishGate. Validation errors map to INVALID_ARGUMENT and limits to
// RESOURCE_EXHAUSTED; on PublishStream they go into that request's own
// response and the stream stays open.
//
// On shutdown, EndStreams() ends every PublishStream without losing an
// answer: a stream waiting for its next request is cancelled at once, one in
// the middle of a publish finishes it, writes the response, then ends; a
// request read after that point is answered UNAVAILABLE, unpublished, and so
// is a unary Publish that arrives after it.
#ifndef SSEBRIDGE_GRPC_PUBLISHER_SERVICE_H_
#define SSEBRIDGE_GRPC_PUBLISHER_SERVICE_H_

#include <condition_variable>
#include <set>

#include "absl/base/thread_annotations.h"
#include <mutex>
#include "bridge/grpc/publish_gate.h"
#include "ssebridge/v1/bridge.grpc.pb.h"

namespace ssebridge {

class PublisherService final : public v1::Publisher::Service {
 public:
  explicit PublisherService(PublishGate* gate) : gate_(gate) {}

  void EndStreams();
  // After EndStreams(): waits until no publish is in flight and every
  // stream has ended, or `deadline`. Returns whether it got there.
  bool WaitIdle(absl::Time deadline);

  grpc::Status Publish(grpc::ServerContext* context,
                       const v1::PublishRequest* request,
                       v1::PublishResponse* response) override;
  grpc::Status PublishStream(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<v1::PublishResponse, v1::PublishRequest>* stream)
      override;

 private:
  struct OpenStream {
    grpc::ServerContext* context;
    bool busy;
  };
  PublishGate* gate_;
  std::mutex mu_;
  std::condition_variable idle_cv_;
  bool ending_ ABSL_GUARDED_BY(mu_) = false;
  int unary_in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  std::set<OpenStream*> streams_ ABSL_GUARDED_BY(mu_);
};

// absl::Status -> grpc::Status, code and message kept.
grpc::Status ToGrpcStatus(const absl::Status& status);

// The caller of a gRPC call, from its `authorization` metadata.
absl::StatusOr<PublisherIdentity> AuthenticateCall(
    const PublisherAuth& auth, const grpc::ServerContext& context);

}  // namespace ssebridge

#endif  // SSEBRIDGE_GRPC_PUBLISHER_SERVICE_H_
