// PublisherService: the gRPC Publisher (Publish, PublishStream) over a
// PublishGate. Validation errors map to INVALID_ARGUMENT and limits to
// RESOURCE_EXHAUSTED; on PublishStream they go into that request's own
// response and the stream stays open. PublishStream runs on the async API
// (OrderedStream, on the server's CompletionLoop); the unary Publish stays
// on the sync API, whose thread pool lets a slow broker hold one call
// without holding the others.
//
// On shutdown, EndStreams() ends every publish stream (of this service and
// of BatchPublisherService, which share drain()) without losing an answer:
// a stream waiting for its next request ends at once (UNAVAILABLE), one in
// the middle of a publish finishes it, writes every response it owes, then
// ends; a request read after that point is answered UNAVAILABLE,
// unpublished, and so is a unary Publish that arrives after it.
#ifndef SSEBRIDGE_GRPC_PUBLISHER_SERVICE_H_
#define SSEBRIDGE_GRPC_PUBLISHER_SERVICE_H_

#include <atomic>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "bridge/auth/stream_shares.h"
#include "bridge/grpc/completion_loop.h"
#include "bridge/grpc/ordered_stream.h"
#include "bridge/publish/publish_drain.h"
#include "bridge/publish/publish_gate.h"
#include "ssebridge/v1/bridge.grpc.pb.h"

namespace ssebridge {

class PublisherService final
    : public v1::Publisher::WithAsyncMethod_PublishStream<v1::Publisher::Service>,
      public AsyncMethods {
 public:
  // `gate` and `streams` (the publish-stream caps; nullptr: none) must
  // outlive the service.
  explicit PublisherService(PublishGate* gate, StreamShares* streams = nullptr)
      : gate_(gate), streams_(streams) {}

  grpc::Service* service() override { return this; }
  void Arm(CompletionLoop* loop) override;

  void EndStreams() { drain_.EndStreams(); }
  // After EndStreams(): waits until no publish is in flight and every
  // stream has ended, or `deadline`. Returns whether it got there.
  bool WaitIdle(absl::Time deadline) { return drain_.WaitIdle(deadline); }
  PublishDrain* drain() { return &drain_; }
  // Times a publish stream (PublishStream, or PublishBatchStream counting
  // into the same place) stopped reading because too much was owed.
  uint64_t stream_read_pauses() const { return read_pauses_.load(std::memory_order_relaxed); }
  std::atomic<uint64_t>* read_pause_counter() { return &read_pauses_; }

  grpc::Status Publish(grpc::ServerContext* context, const v1::PublishRequest* request,
                       v1::PublishResponse* response) override;

 private:
  using Stream = OrderedStream<v1::PublishRequest, v1::PublishResponse>;

  PublishGate* gate_;
  StreamShares* streams_;
  PublishDrain drain_;
  std::atomic<uint64_t> read_pauses_{0};
  Stream::Method stream_method_;
};

// absl::Status -> grpc::Status, code and message kept.
grpc::Status ToGrpcStatus(const absl::Status& status);

// The caller of a gRPC call, from its `authorization` metadata; a call that
// came through the internal port is UNIMPLEMENTED (GrpcServer::PublicPortOnly).
absl::StatusOr<PublisherIdentity> AuthenticateCall(const PublisherAuth& auth,
                                                   const grpc::ServerContextBase& context);

}  // namespace ssebridge

#endif  // SSEBRIDGE_GRPC_PUBLISHER_SERVICE_H_
