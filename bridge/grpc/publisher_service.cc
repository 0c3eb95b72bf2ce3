#include "bridge/grpc/publisher_service.h"

#include <string>

#include "bridge/grpc/ordered_stream_reactor.h"

namespace ssebridge {

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()));
}

grpc::Status PublisherService::Publish(grpc::ServerContext*,
                                       const v1::PublishRequest* request,
                                       v1::PublishResponse* response) {
  if (!drain_.BeginUnary()) {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                        "shutting down; not published");
  }
  absl::StatusOr<v1::PublishResponse> result = gate_->Publish(*request);
  drain_.EndUnary();
  if (!result.ok()) return ToGrpcStatus(result.status());
  *response = std::move(*result);
  return grpc::Status::OK;
}

grpc::ServerBidiReactor<v1::PublishRequest, v1::PublishResponse>*
PublisherService::PublishStream(grpc::CallbackServerContext*) {
  using Reactor = OrderedStreamReactor<v1::PublishRequest, v1::PublishResponse>;
  Reactor::Handlers handlers;
  handlers.handle = [gate = gate_](const v1::PublishRequest& request) {
    absl::StatusOr<v1::PublishResponse> result = gate->Publish(request);
    return result.ok() ? std::move(*result) : ErrorResponse(result.status());
  };
  handlers.unavailable = [](const v1::PublishRequest&) {
    return ErrorResponse(absl::UnavailableError("shutting down; not published"));
  };
  return drain_.Open([&](bool ending) {
    return new Reactor(std::move(handlers), &drain_, ending);
  });
}

}  // namespace ssebridge
