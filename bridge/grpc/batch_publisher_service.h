// BatchPublisherService: the gRPC BatchPublisher (PublishBatch,
// PublishBatchStream) over the same PublishGate as PublisherService: many
// events per message, one response per event, in order. It exists for
// throughput: a message per event costs gRPC framing, a response write and
// broker/hub hand-offs per event; a batch pays those once (the broker takes
// its lock and wakes each hub shard once per batch).
//
// Shutdown: shares PublisherService's PublishDrain, so EndStreams() and
// WaitIdle() cover these streams and calls too, with the same contract.
#ifndef SSEBRIDGE_GRPC_BATCH_PUBLISHER_SERVICE_H_
#define SSEBRIDGE_GRPC_BATCH_PUBLISHER_SERVICE_H_

#include <atomic>
#include <cstdint>

#include "bridge/auth/stream_shares.h"
#include "bridge/grpc/completion_loop.h"
#include "bridge/grpc/ordered_stream.h"
#include "bridge/publish/publish_drain.h"
#include "bridge/publish/publish_gate.h"
#include "ssebridge/v1/bridge.grpc.pb.h"

namespace ssebridge {

class BatchPublisherService final
    : public v1::BatchPublisher::WithAsyncMethod_PublishBatchStream<v1::BatchPublisher::Service>,
      public AsyncMethods {
 public:
  // `gate`, `drain`, `streams` (the publish-stream caps, shared with
  // PublishStream; nullptr: none) and `read_pauses` (a counter shared with
  // PublishStream's; nullptr: none) must outlive the service.
  BatchPublisherService(PublishGate* gate, PublishDrain* drain, StreamShares* streams = nullptr,
                        std::atomic<uint64_t>* read_pauses = nullptr)
      : gate_(gate), drain_(drain), streams_(streams), read_pauses_(read_pauses) {}

  grpc::Service* service() override { return this; }
  // PublishBatchStream, on the async API (OrderedStream).
  void Arm(CompletionLoop* loop) override;

  grpc::Status PublishBatch(grpc::ServerContext* context, const v1::PublishBatchRequest* request,
                            v1::PublishBatchResponse* response) override;

 private:
  using Stream = OrderedStream<v1::PublishBatchRequest, v1::PublishBatchResponse>;

  PublishGate* gate_;
  PublishDrain* drain_;
  StreamShares* streams_;
  std::atomic<uint64_t>* read_pauses_;
  Stream::Method stream_method_;
};

}  // namespace ssebridge

#endif  // SSEBRIDGE_GRPC_BATCH_PUBLISHER_SERVICE_H_
