#include "bridge/grpc/publish_stream_reactor.h"

#include <string>
#include <utility>

namespace ssebridge {

PublishStreamReactor::PublishStreamReactor(
    PublishGate* gate, bool ending,
    std::function<void(PublishStreamReactor*)> on_done)
    : gate_(gate), on_done_(std::move(on_done)) {
  std::lock_guard<std::mutex> lock(mu_);
  if (ending) {
    ending_ = true;
    final_status_ = grpc::Status(grpc::StatusCode::UNAVAILABLE, "shutting down");
    MaybeFinishLocked();
    return;
  }
  reading_ = true;
  StartRead(&request_);
}

void PublishStreamReactor::End() {
  std::lock_guard<std::mutex> lock(mu_);
  if (ending_ || finished_) return;
  ending_ = true;
  final_status_ = grpc::Status(grpc::StatusCode::UNAVAILABLE, "shutting down");
  MaybeFinishLocked();
}

void PublishStreamReactor::OnReadDone(bool ok) {
  bool ending;
  {
    std::lock_guard<std::mutex> lock(mu_);
    reading_ = false;
    if (!ok) {
      reads_done_ = true;  // the client half-closed, or the call is gone
      MaybeFinishLocked();
      return;
    }
    // Finished (End() on an idle stream, or a broken write): the request
    // gets no response, and so must not be published either.
    if (finished_) return;
    ending = ending_;
    publishing_ = !ending;
  }
  v1::PublishResponse response;
  absl::StatusOr<v1::PublishResponse> result =
      ending ? absl::UnavailableError("shutting down; not published")
             : gate_->Publish(request_);
  if (result.ok()) {
    response = std::move(*result);
  } else {
    response.mutable_error()->set_code(static_cast<int>(result.status().code()));
    response.mutable_error()->set_message(std::string(result.status().message()));
  }
  std::lock_guard<std::mutex> lock(mu_);
  publishing_ = false;
  QueueLocked(std::move(response));
  if (ending_ || finished_) {
    reads_done_ = true;  // answer what was read, then end
  } else {
    // Read the next request before this response is written: requests that
    // already arrived are published back to back while writes catch up.
    reading_ = true;
    StartRead(&request_);
  }
  MaybeFinishLocked();
}

void PublishStreamReactor::QueueLocked(v1::PublishResponse response) {
  if (finished_) return;  // the call broke; nobody is left to answer
  pending_.push_back(std::move(response));
  if (!writing_) WriteNextLocked();
}

void PublishStreamReactor::WriteNextLocked() {
  writing_ = true;
  StartWrite(&pending_.front());
}

void PublishStreamReactor::OnWriteDone(bool ok) {
  std::lock_guard<std::mutex> lock(mu_);
  writing_ = false;
  pending_.pop_front();
  if (!ok) {
    // The call is cancelled or the connection is gone: stop here.
    pending_.clear();
    if (!ending_) {
      ending_ = true;
      final_status_ = grpc::Status(grpc::StatusCode::CANCELLED, "write failed");
    }
  } else if (!pending_.empty()) {
    WriteNextLocked();
  }
  MaybeFinishLocked();
}

void PublishStreamReactor::MaybeFinishLocked() {
  if (finished_ || writing_ || publishing_ || !pending_.empty()) return;
  if (!reads_done_ && !ending_) return;
  finished_ = true;
  Finish(final_status_);
}

void PublishStreamReactor::OnDone() {
  on_done_(this);
  delete this;
}

}  // namespace ssebridge
