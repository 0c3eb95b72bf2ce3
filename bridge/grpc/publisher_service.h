// PublisherService: the gRPC Publisher (Publish, PublishStream) over a
// PublishGate. Validation errors map to INVALID_ARGUMENT and limits to
// RESOURCE_EXHAUSTED; on PublishStream they go into that request's own
// response and the stream stays open.
//
// PublishStream runs on the callback API (see PublishStreamReactor); the
// unary Publish stays on the sync API.
//
// On shutdown, EndStreams() ends every PublishStream without losing an
// answer: a stream waiting for its next request ends at once (UNAVAILABLE),
// one in the middle of a publish finishes it, writes every response it owes,
// then ends; a request read after that point is answered UNAVAILABLE,
// unpublished, and so is a unary Publish that arrives after it.
#ifndef SSEBRIDGE_GRPC_PUBLISHER_SERVICE_H_
#define SSEBRIDGE_GRPC_PUBLISHER_SERVICE_H_

#include <condition_variable>
#include <set>

#include "absl/base/thread_annotations.h"
#include <mutex>
#include "bridge/grpc/publish_gate.h"
#include "bridge/grpc/publish_stream_reactor.h"
#include "ssebridge/v1/bridge.grpc.pb.h"

namespace ssebridge {

class PublisherService final
    : public v1::Publisher::WithCallbackMethod_PublishStream<
          v1::Publisher::Service> {
 public:
  explicit PublisherService(PublishGate* gate) : gate_(gate) {}

  void EndStreams();
  // After EndStreams(): waits until no publish is in flight and every
  // stream has ended, or `deadline`. Returns whether it got there.
  bool WaitIdle(absl::Time deadline);

  grpc::Status Publish(grpc::ServerContext* context,
                       const v1::PublishRequest* request,
                       v1::PublishResponse* response) override;
  grpc::ServerBidiReactor<v1::PublishRequest, v1::PublishResponse>*
  PublishStream(grpc::CallbackServerContext* context) override;

 private:
  PublishGate* gate_;
  std::mutex mu_;
  std::condition_variable idle_cv_;
  bool ending_ ABSL_GUARDED_BY(mu_) = false;
  int unary_in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  std::set<PublishStreamReactor*> streams_ ABSL_GUARDED_BY(mu_);
};

// absl::Status -> grpc::Status, code and message kept.
grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace ssebridge

#endif  // SSEBRIDGE_GRPC_PUBLISHER_SERVICE_H_
