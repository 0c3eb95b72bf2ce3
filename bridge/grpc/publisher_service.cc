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

grpc::Status PublisherService::PublishStream(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<v1::PublishResponse, v1::PublishRequest>* stream) {
  OpenStream self{context, false};
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (ending_) {
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "shutting down");
    }
    streams_.insert(&self);
  }
  v1::PublishRequest request;
  while (stream->Read(&request)) {
    v1::PublishResponse response;
    bool ending;
    {
      std::lock_guard<std::mutex> lock(mu_);
      ending = ending_;
      self.busy = !ending;
    }
    absl::StatusOr<v1::PublishResponse> result =
        ending ? absl::UnavailableError("shutting down; not published")
               : gate_->Publish(request);
    if (result.ok()) {
      response = std::move(*result);
    } else {
      response.mutable_error()->set_code(static_cast<int>(result.status().code()));
      response.mutable_error()->set_message(std::string(result.status().message()));
    }
    bool written = stream->Write(response);
    {
      std::lock_guard<std::mutex> lock(mu_);
      self.busy = false;
      ending = ending_;
    }
    if (!written || ending) break;
  }
  std::lock_guard<std::mutex> lock(mu_);
  streams_.erase(&self);
  idle_cv_.notify_all();
  return grpc::Status::OK;
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
  for (OpenStream* s : streams_) {
    if (!s->busy) s->context->TryCancel();
  }
}
}  // namespace ssebridge
