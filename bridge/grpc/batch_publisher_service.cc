#include "bridge/grpc/batch_publisher_service.h"

#include <memory>
#include <utility>
#include <vector>

#include "bridge/grpc/publisher_service.h"

namespace ssebridge {
namespace {

// One response per request, each with the same error: keeps the stream's
// one-answer-per-request contract when the batch as a whole is refused.
v1::PublishBatchResponse AllFailed(const v1::PublishBatchRequest& request,
                                   const absl::Status& status) {
  v1::PublishBatchResponse out;
  const v1::PublishResponse error = ErrorResponse(status);
  for (int i = 0; i < request.requests_size(); ++i) *out.add_responses() = error;
  return out;
}

}  // namespace

grpc::Status BatchPublisherService::PublishBatch(grpc::ServerContext* context,
                                                 const v1::PublishBatchRequest* request,
                                                 v1::PublishBatchResponse* response) {
  ScopedLatency timed(gate_->latency(PublishDoor::kGrpc));
  absl::StatusOr<PublisherIdentity> who = AuthenticateCall(gate_->auth(), *context);
  if (!who.ok()) return ToGrpcStatus(who.status());
  if (!drain_->BeginUnary()) {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "shutting down; not published");
  }
  absl::StatusOr<v1::PublishBatchResponse> result = gate_->PublishBatch(*request, *who);
  drain_->EndUnary();
  if (!result.ok()) return ToGrpcStatus(result.status());
  *response = std::move(*result);
  return grpc::Status::OK;
}

void BatchPublisherService::Arm(CompletionLoop* loop) {
  stream_method_.read_pauses = read_pauses_;
  stream_method_.loop = loop;
  stream_method_.drain = drain_;
  stream_method_.request = [this](grpc::ServerContext* context, Stream::Stream* stream,
                                  grpc::ServerCompletionQueue* cq, void* tag) {
    RequestPublishBatchStream(context, stream, cq, cq, tag);
  };
  stream_method_.accept =
      [gate = gate_,
       streams = streams_](const grpc::ServerContext& context) -> absl::StatusOr<Stream::Handlers> {
    absl::StatusOr<PublisherIdentity> who = AuthenticateCall(gate->auth(), context);
    if (!who.ok()) return who.status();
    Stream::Handlers handlers;
    if (streams != nullptr) {
      absl::StatusOr<std::unique_ptr<StreamShares::Lease>> lease = streams->Acquire(who->name);
      if (!lease.ok()) return lease.status();
      handlers.hold = std::shared_ptr<StreamShares::Lease>(std::move(*lease));
    }
    handlers.handle = [gate, who = std::make_shared<const PublisherIdentity>(std::move(*who))](
                          std::vector<v1::PublishBatchRequest>* requests,
                          std::vector<v1::PublishBatchResponse>* responses) {
      // Each message is a batch of its own: answered as one.
      for (const v1::PublishBatchRequest& request : *requests) {
        ScopedLatency timed(gate->latency(PublishDoor::kGrpcStream));
        absl::StatusOr<v1::PublishBatchResponse> result = gate->PublishBatch(request, *who);
        responses->push_back(result.ok() ? std::move(*result)
                                         : AllFailed(request, result.status()));
      }
    };
    handlers.unavailable = [](const v1::PublishBatchRequest& request) {
      return AllFailed(request, absl::UnavailableError("shutting down; not published"));
    };
    return handlers;
  };
  Stream::Listen(&stream_method_);
}

}  // namespace ssebridge
