#include "bridge/grpc/publisher_service.h"

#include <string>

#include "absl/time/clock.h"

namespace ssebridge {

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()));
}

absl::StatusOr<PublisherIdentity> AuthenticateCall(
    const PublisherAuth& auth, const grpc::ServerContext& context) {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find("authorization");
  absl::string_view value;
  if (it != metadata.end()) value = absl::string_view(it->second.data(), it->second.size());
  return auth.Authenticate(value, absl::Now());
}

grpc::Status PublisherService::Publish(grpc::ServerContext* context,
                                       const v1::PublishRequest* request,
                                       v1::PublishResponse* response) {
  absl::StatusOr<PublisherIdentity> who = AuthenticateCall(gate_->auth(), *context);
  if (!who.ok()) return ToGrpcStatus(who.status());
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (ending_) {
      return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                          "shutting down; not published");
    }
    ++unary_in_flight_;
  }
  absl::StatusOr<v1::PublishResponse> result = gate_->Publish(*request, *who);
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
  // Once per stream: the channel grant and the rate are checked per message.
  absl::StatusOr<PublisherIdentity> who = AuthenticateCall(gate_->auth(), *context);
  if (!who.ok()) return ToGrpcStatus(who.status());
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
               : gate_->Publish(request, *who);
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
