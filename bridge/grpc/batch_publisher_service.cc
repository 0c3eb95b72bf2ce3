#include "bridge/grpc/batch_publisher_service.h"

#include <memory>
#include <utility>
#include <vector>

#include "bridge/grpc/ordered_stream_reactor.h"
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

grpc::Status BatchPublisherService::PublishBatch(
    grpc::ServerContext* context, const v1::PublishBatchRequest* request,
    v1::PublishBatchResponse* response) {
  ScopedLatency timed(gate_->latency(PublishDoor::kGrpc));
  absl::StatusOr<PublisherIdentity> who = AuthenticateCall(gate_->auth(), *context);
  if (!who.ok()) return ToGrpcStatus(who.status());
  if (!drain_->BeginUnary()) {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                        "shutting down; not published");
  }
  absl::StatusOr<v1::PublishBatchResponse> result = gate_->PublishBatch(*request, *who);
  drain_->EndUnary();
  if (!result.ok()) return ToGrpcStatus(result.status());
  *response = std::move(*result);
  return grpc::Status::OK;
}

grpc::ServerBidiReactor<v1::PublishBatchRequest, v1::PublishBatchResponse>*
BatchPublisherService::PublishBatchStream(grpc::CallbackServerContext* context) {
  absl::StatusOr<PublisherIdentity> who = AuthenticateCall(gate_->auth(), *context);
  if (!who.ok()) {
    return new RefusedStream<v1::PublishBatchRequest, v1::PublishBatchResponse>(
        ToGrpcStatus(who.status()));
  }
  using Reactor =
      OrderedStreamReactor<v1::PublishBatchRequest, v1::PublishBatchResponse>;
  Reactor::Handlers handlers;
  handlers.handle = [gate = gate_, who = std::make_shared<const PublisherIdentity>(
                                        std::move(*who))](
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
    return AllFailed(request,
                     absl::UnavailableError("shutting down; not published"));
  };
  return drain_->Open([&](bool ending) {
    return new Reactor(std::move(handlers), drain_, ending);
  });
}

}  // namespace ssebridge
