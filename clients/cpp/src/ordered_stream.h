// internal::OrderedStream: the machinery under PublishStream and
// PublishBatchStream (a bidi stream the bridge answers in order). Private to
// the library; publisher.h only names it.
#ifndef SSEBRIDGE_CLIENTS_CPP_SRC_ORDERED_STREAM_H_
#define SSEBRIDGE_CLIENTS_CPP_SRC_ORDERED_STREAM_H_

#include <grpcpp/grpcpp.h>

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "wire.h"

namespace ssebridge {
namespace internal {

// A bidi stream answered in order, one Response per Request: what was
// written waits in `pending_` (as the caller's Item) until its answer.
// Threads and failures: see PublishStream in publisher.h.
template <typename Item, typename Request, typename Response>
class OrderedStream {
 public:
  using Rpc = grpc::ClientReaderWriter<Request, Response>;
  using Answer = std::pair<Item, Response>;

  // `open` authorizes the context it is given and starts the RPC on it.
  template <typename Open>
  OrderedStream(const char* name, size_t window, Open open)
      : name_(name), context_(std::make_unique<grpc::ClientContext>()), window_(window) {
    rpc_ = open(context_.get());
  }

  ~OrderedStream() {
    bool finished;
    {
      std::lock_guard<std::mutex> lock(mu_);
      finished = finished_;
    }
    if (!finished) {
      context_->TryCancel();
      rpc_->Finish();
    }
  }

  absl::Status Write(const Item& item, const Request& request) {
    std::unique_lock<std::mutex> lock(mu_);
    changed_.wait(lock, [&] {
      return pending_.size() < window_ || finished_ || write_failed_ || writes_done_;
    });
    if (writes_done_) {
      return absl::FailedPreconditionError(absl::StrCat(name_, ": WritesDone() was called"));
    }
    if (finished_) {
      return final_status_.ok()
                 ? absl::UnavailableError(absl::StrCat(name_, ": the stream has ended"))
                 : final_status_;
    }
    if (write_failed_) return Closed();
    pending_.push_back(item);
    changed_.notify_all();
    lock.unlock();
    // The window guarantees no other Write runs; Read does not touch the
    // write side, so the lock need not be held while writing.
    if (!rpc_->Write(request)) {
      lock.lock();
      write_failed_ = true;
      changed_.notify_all();
      return Closed();
    }
    return absl::OkStatus();
  }

  absl::StatusOr<Answer> Read() {
    {
      std::unique_lock<std::mutex> lock(mu_);
      changed_.wait(
          lock, [&] { return !pending_.empty() || writes_done_ || write_failed_ || finished_; });
      if (finished_) {
        if (!final_status_.ok()) return final_status_;
        return NoMore();
      }
      if (pending_.empty() && writes_done_) {
        // Nothing outstanding and nothing more coming: end the RPC cleanly.
        lock.unlock();
        grpc::Status status = rpc_->Finish();
        lock.lock();
        finished_ = true;
        final_status_ = FromGrpc(status);
        changed_.notify_all();
        if (!final_status_.ok()) return final_status_;
        return NoMore();
      }
    }
    Response response;
    if (rpc_->Read(&response)) {
      std::lock_guard<std::mutex> lock(mu_);
      if (pending_.empty()) {
        return absl::InternalError(
            absl::StrCat(name_, ": the bridge answered a request never sent"));
      }
      Answer answer{std::move(pending_.front()), std::move(response)};
      pending_.pop_front();
      changed_.notify_all();
      return answer;
    }
    grpc::Status status = rpc_->Finish();
    std::lock_guard<std::mutex> lock(mu_);
    finished_ = true;
    final_status_ = FromGrpc(status);
    if (final_status_.ok() && !pending_.empty()) {
      final_status_ = absl::UnavailableError(absl::StrCat(
          name_, ": the bridge ended the stream with ", pending_.size(), " request(s) unanswered"));
    }
    changed_.notify_all();
    return final_status_.ok() ? NoMore() : final_status_;
  }

  // Write then Read; a broken write returns the stream's own status.
  absl::StatusOr<Answer> Call(const Item& item, const Request& request) {
    absl::Status written = Write(item, request);
    if (!written.ok()) {
      bool broken;
      {
        std::lock_guard<std::mutex> lock(mu_);
        broken = write_failed_ && !finished_;
      }
      if (!broken) return written;
      absl::Status why = Finish(nullptr);  // the stream's own status says why
      return why.ok() ? written : why;
    }
    return Read();
  }

  void WritesDone() {
    std::lock_guard<std::mutex> lock(mu_);
    if (writes_done_) return;
    writes_done_ = true;
    if (!write_failed_ && !finished_) rpc_->WritesDone();
    changed_.notify_all();
  }

  absl::Status Finish(std::vector<Answer>* rest) {
    WritesDone();
    while (true) {
      absl::StatusOr<Answer> r = Read();
      if (r.ok()) {
        if (rest != nullptr) rest->push_back(std::move(*r));
        continue;
      }
      std::lock_guard<std::mutex> lock(mu_);
      return final_status_;
    }
  }

  std::vector<Item> pending() const {
    std::lock_guard<std::mutex> lock(mu_);
    return std::vector<Item>(pending_.begin(), pending_.end());
  }

  size_t in_flight() const {
    std::lock_guard<std::mutex> lock(mu_);
    return pending_.size();
  }

 private:
  absl::Status Closed() const {
    return absl::UnavailableError(
        absl::StrCat(name_, ": the stream is closed; Read() or Finish() returns why"));
  }
  absl::Status NoMore() const {
    return absl::OutOfRangeError(absl::StrCat(name_, ": no more answers"));
  }

  const char* const name_;
  std::unique_ptr<grpc::ClientContext> context_;
  std::unique_ptr<Rpc> rpc_;
  const size_t window_;
  mutable std::mutex mu_;
  std::condition_variable changed_;
  std::deque<Item> pending_;
  bool writes_done_ = false;
  bool write_failed_ = false;
  bool finished_ = false;      // rpc_->Finish() was called
  absl::Status final_status_;  // valid once finished_
};

}  // namespace internal
}  // namespace ssebridge

#endif  // SSEBRIDGE_CLIENTS_CPP_SRC_ORDERED_STREAM_H_
