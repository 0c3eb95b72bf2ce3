#include "bridge/grpc/publisher_service.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "bridge/grpc/grpc_server.h"

namespace ssebridge {

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

absl::StatusOr<PublisherIdentity> AuthenticateCall(const PublisherAuth& auth,
                                                   const grpc::ServerContextBase& context) {
  if (absl::Status port = GrpcServer::PublicPortOnly(context); !port.ok()) return port;
  const auto& metadata = context.client_metadata();
  auto it = metadata.find("authorization");
  absl::string_view value;
  if (it != metadata.end()) value = absl::string_view(it->second.data(), it->second.size());
  return auth.Authenticate(value, absl::Now());
}

grpc::Status PublisherService::Publish(grpc::ServerContext* context,
                                       const v1::PublishRequest* request,
                                       v1::PublishResponse* response) {
  ScopedLatency timed(gate_->latency(PublishDoor::kGrpc));
  absl::StatusOr<PublisherIdentity> who = AuthenticateCall(gate_->auth(), *context);
  if (!who.ok()) return ToGrpcStatus(who.status());
  if (!drain_.BeginUnary()) {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "shutting down; not published");
  }
  absl::StatusOr<v1::PublishResponse> result = gate_->Publish(*request, *who);
  drain_.EndUnary();
  if (!result.ok()) return ToGrpcStatus(result.status());
  *response = std::move(*result);
  return grpc::Status::OK;
}

void PublisherService::Arm(CompletionLoop* loop) {
  stream_method_.loop = loop;
  stream_method_.drain = &drain_;
  stream_method_.read_pauses = &read_pauses_;
  stream_method_.request = [this](grpc::ServerContext* context, Stream::Stream* stream,
                                  grpc::ServerCompletionQueue* cq, void* tag) {
    RequestPublishStream(context, stream, cq, cq, tag);
  };
  stream_method_.accept =
      [gate = gate_,
       streams = streams_](const grpc::ServerContext& context) -> absl::StatusOr<Stream::Handlers> {
    // Once per stream: the grant, the rate and a JWT's expiry are checked
    // per message.
    absl::StatusOr<PublisherIdentity> who = AuthenticateCall(gate->auth(), context);
    if (!who.ok()) return who.status();
    Stream::Handlers handlers;
    if (streams != nullptr) {
      absl::StatusOr<std::unique_ptr<StreamShares::Lease>> lease = streams->Acquire(who->name);
      if (!lease.ok()) return lease.status();
      handlers.hold = std::shared_ptr<StreamShares::Lease>(std::move(*lease));
    }
    handlers.handle = [gate, who = std::make_shared<const PublisherIdentity>(std::move(*who))](
                          std::vector<v1::PublishRequest>* requests,
                          std::vector<v1::PublishResponse>* responses) {
      ScopedLatency timed(gate->latency(PublishDoor::kGrpcStream), requests->size());
      if (requests->size() == 1) {
        absl::StatusOr<v1::PublishResponse> result = gate->Publish(requests->front(), *who);
        responses->push_back(result.ok() ? std::move(*result) : ErrorResponse(result.status()));
        return;
      }
      // Requests that queued up while the last ones were handled: one broker
      // call (one Redis round trip) for all, each still answered on its own.
      v1::PublishBatchRequest batch;
      batch.mutable_requests()->Reserve(static_cast<int>(requests->size()));
      for (v1::PublishRequest& r : *requests) *batch.add_requests() = std::move(r);
      v1::PublishBatchResponse result = gate->PublishGathered(batch, *who);
      for (v1::PublishResponse& r : *result.mutable_responses()) {
        responses->push_back(std::move(r));
      }
    };
    handlers.unavailable = [](const v1::PublishRequest&) {
      return ErrorResponse(absl::UnavailableError("shutting down; not published"));
    };
    return handlers;
  };
  Stream::Listen(&stream_method_);
}

}  // namespace ssebridge
