#include "bridge/grpc/health_service.h"

#include <string>
#include <vector>

namespace ssebridge {

using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

// One Check call: answered as soon as it arrives.
class HealthService::CheckCall {
 public:
  explicit CheckCall(HealthService* owner) : owner_(owner), responder_(&context_) {
    owner_->loop_->CallBegins();
    owner_->RequestCheck(&context_, &request_, &responder_, owner_->loop_->cq(),
                         owner_->loop_->cq(), &arrived_tag_);
  }

  ~CheckCall() { owner_->loop_->CallEnds(); }

  enum class Op { kArrived, kFinished };
  void Proceed(Op op, bool ok) {
    if (op == Op::kArrived) return OnArrived(ok);
    return OnFinished(ok);
  }

 private:
  void OnArrived(bool ok) {
    if (!ok) {
      delete this;
      return;
    }
    new CheckCall(owner_);
    const HealthCheckResponse::ServingStatus status = owner_->StatusOf(request_.service());
    if (status == HealthCheckResponse::SERVICE_UNKNOWN) {
      responder_.FinishWithError(grpc::Status(grpc::StatusCode::NOT_FOUND,
                                              "service: unknown service \"" + request_.service() +
                                                  "\" (the bridge reports health for \"\" only)"),
                                 &finished_tag_);
      return;
    }
    response_.set_status(status);
    responder_.Finish(response_, grpc::Status::OK, &finished_tag_);
  }
  void OnFinished(bool /*ok*/) { delete this; }

  HealthService* const owner_;
  grpc::ServerContext context_;
  HealthCheckRequest request_;
  HealthCheckResponse response_;
  grpc::ServerAsyncResponseWriter<HealthCheckResponse> responder_;
  OpTag<CheckCall> arrived_tag_{this, Op::kArrived};
  OpTag<CheckCall> finished_tag_{this, Op::kFinished};
};

// One Watch call: writes the status it has not yet written, one write at a
// time, until the client goes away or the service shuts down.
class HealthService::WatchCall {
 public:
  explicit WatchCall(HealthService* owner) : owner_(owner), writer_(&context_) {
    owner_->loop_->CallBegins();
    // Before the call is requested, as gRPC asks: tells when the client
    // goes away, which a server stream otherwise only learns by writing.
    // It comes back only for a call that arrived.
    context_.AsyncNotifyWhenDone(&done_tag_);
    owner_->RequestWatch(&context_, &request_, &writer_, owner_->loop_->cq(), owner_->loop_->cq(),
                         &arrived_tag_);
  }

  // Shutdown(): write `status`, then end the stream. Called under the
  // service's lock, so it must not call back into the service.
  void Ending(HealthCheckResponse::ServingStatus status) {
    std::unique_lock<std::mutex> lock(mu_);
    if (!request_.service().empty()) status = HealthCheckResponse::SERVICE_UNKNOWN;
    target_ = status;
    ending_ = true;
    WriteOrFinishLocked();
  }

  ~WatchCall() { owner_->loop_->CallEnds(); }

  enum class Op { kArrived, kWritten, kFinished, kDone };
  void Proceed(Op op, bool ok) {
    switch (op) {
      case Op::kArrived:
        return OnArrived(ok);
      case Op::kWritten:
        return OnWritten(ok);
      case Op::kFinished:
        return OnFinished(ok);
      case Op::kDone:
        return OnDone(ok);
    }
  }

 private:
  void OnArrived(bool ok) {
    if (!ok) {  // no call came (shutdown): no other tag will come back
      delete this;
      return;
    }
    new WatchCall(owner_);
    HealthCheckResponse::ServingStatus now = HealthCheckResponse::UNKNOWN;
    const bool added = owner_->AddWatcher(this, &now);  // before our lock: see Ending()
    std::unique_lock<std::mutex> lock(mu_);
    arrived_ = true;
    watching_ = added;
    if (!added) {
      finished_ = true;
      writer_.Finish(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                  "this bridge holds its limit of " + std::to_string(kMaxWatchers) +
                                      " grpc.health.v1 Watch streams, or is shutting down"),
                     &finished_tag_);
      return;
    }
    if (!ending_) {
      target_ = request_.service().empty() ? now : HealthCheckResponse::SERVICE_UNKNOWN;
    }
    WriteOrFinishLocked();
  }

  void OnWritten(bool ok) {
    std::unique_lock<std::mutex> lock(mu_);
    writing_ = false;
    if (!ok) gone_ = true;
    WriteOrFinishLocked();
    DeleteIfDone(lock);
  }
  void OnFinished(bool /*ok*/) {
    std::unique_lock<std::mutex> lock(mu_);
    finish_back_ = true;
    DeleteIfDone(lock);
  }
  void OnDone(bool /*ok*/) {
    std::unique_lock<std::mutex> lock(mu_);
    done_ = true;
    gone_ = true;
    WriteOrFinishLocked();
    DeleteIfDone(lock);
  }

  void WriteOrFinishLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (!arrived_ || writing_ || finished_) return;
    if (!gone_ && target_ != written_) {
      written_ = target_;
      response_.set_status(target_);
      writing_ = true;
      writer_.Write(response_, &written_tag_);
      return;
    }
    if (!gone_ && !ending_) return;  // up to date; wait for a change
    finished_ = true;
    writer_.Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "shutting down"), &finished_tag_);
  }

  // Deletes this once gRPC holds none of its tags. Takes the lock's
  // ownership: the caller must return at once.
  void DeleteIfDone(std::unique_lock<std::mutex>& lock) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (!done_ || writing_ || !finish_back_) return;
    const bool watching = watching_;
    lock.unlock();
    // RemoveWatcher takes the service's lock, which Shutdown() holds when
    // it takes ours: called without ours. Once removed, no Ending() comes.
    if (watching) owner_->RemoveWatcher(this);
    delete this;
  }

  HealthService* const owner_;
  grpc::ServerContext context_;
  HealthCheckRequest request_;
  grpc::ServerAsyncWriter<HealthCheckResponse> writer_;
  OpTag<WatchCall> arrived_tag_{this, Op::kArrived};
  OpTag<WatchCall> written_tag_{this, Op::kWritten};
  OpTag<WatchCall> finished_tag_{this, Op::kFinished};
  OpTag<WatchCall> done_tag_{this, Op::kDone};

  std::mutex mu_;
  HealthCheckResponse response_ ABSL_GUARDED_BY(mu_);  // the write in flight
  HealthCheckResponse::ServingStatus target_ ABSL_GUARDED_BY(mu_) = HealthCheckResponse::UNKNOWN;
  HealthCheckResponse::ServingStatus written_ ABSL_GUARDED_BY(mu_) = HealthCheckResponse::UNKNOWN;
  bool arrived_ ABSL_GUARDED_BY(mu_) = false;
  bool watching_ ABSL_GUARDED_BY(mu_) = false;  // in the owner's watchers_
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool ending_ ABSL_GUARDED_BY(mu_) = false;  // the service shuts down
  bool gone_ ABSL_GUARDED_BY(mu_) = false;    // the client is gone
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  bool finish_back_ ABSL_GUARDED_BY(mu_) = false;
  bool done_ ABSL_GUARDED_BY(mu_) = false;  // AsyncNotifyWhenDone came back
};

void HealthService::Arm(CompletionLoop* loop) {
  loop_ = loop;
  new CheckCall(this);
  new WatchCall(this);
}

void HealthService::Shutdown() {
  std::lock_guard<std::mutex> lock(mu_);
  serving_ = false;
  // Lock order: the service, then a call's own lock.
  for (WatchCall* call : watchers_) call->Ending(HealthCheckResponse::NOT_SERVING);
}

HealthCheckResponse::ServingStatus HealthService::StatusOf(const std::string& name) {
  if (!name.empty()) return HealthCheckResponse::SERVICE_UNKNOWN;
  std::lock_guard<std::mutex> lock(mu_);
  return serving_ ? HealthCheckResponse::SERVING : HealthCheckResponse::NOT_SERVING;
}

bool HealthService::AddWatcher(WatchCall* call, HealthCheckResponse::ServingStatus* now) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!serving_ || watchers_.size() >= kMaxWatchers) return false;
  watchers_.insert(call);
  *now = HealthCheckResponse::SERVING;
  return true;
}

void HealthService::RemoveWatcher(WatchCall* call) {
  std::lock_guard<std::mutex> lock(mu_);
  watchers_.erase(call);
}

}  // namespace ssebridge
