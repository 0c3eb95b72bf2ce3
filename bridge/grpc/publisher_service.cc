#include "bridge/grpc/publisher_service.h"

#include <string>

namespace ssebridge {

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()));
}

grpc::Status PublisherService::Publish(grpc::ServerContext*,
                                       const v1::PublishRequest* request,
                                       v1::PublishResponse* response) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (ending_) {
      return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                          "shutting down; not published");
    }
    ++unary_in_flight_;
  }
  absl::StatusOr<v1::PublishResponse> result = gate_->Publish(*request);
  {
    std::lock_guard<std::mutex> lock(mu_);
    --unary_in_flight_;
    idle_cv_.notify_all();
  }
  if (!result.ok()) return ToGrpcStatus(result.status());
  *response = std::move(*result);
  return grpc::Status::OK;
}

grpc::ServerBidiReactor<v1::PublishRequest, v1::PublishResponse>*
PublisherService::PublishStream(grpc::CallbackServerContext*) {
  std::lock_guard<std::mutex> lock(mu_);
  if (ending_) {
    // Ends at once, publishes nothing: no need to track it.
    return new PublishStreamReactor(gate_, true, [](PublishStreamReactor*) {});
  }
  auto* reactor = new PublishStreamReactor(
      gate_, false, [this](PublishStreamReactor* done) {
        std::lock_guard<std::mutex> lock(mu_);
        streams_.erase(done);
        idle_cv_.notify_all();
      });
  streams_.insert(reactor);
  return reactor;
}

bool PublisherService::WaitIdle(absl::Time deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  return idle_cv_.wait_until(lock, absl::ToChronoTime(deadline), [this] {
    return unary_in_flight_ == 0 && streams_.empty();
  });
}

void PublisherService::EndStreams() {
  std::lock_guard<std::mutex> lock(mu_);
  ending_ = true;
  for (PublishStreamReactor* s : streams_) s->End();
}
}  // namespace ssebridge
