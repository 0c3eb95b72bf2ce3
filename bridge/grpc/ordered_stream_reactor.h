// OrderedStreamReactor: a bidi stream on gRPC's callback API that answers
// every request with exactly one response, in order (PublishStream and
// PublishBatchStream).
//
// Why not the sync API: there every request costs a hand-off to a sync
// server thread and a blocking Write, i.e. thread wake-ups and one sendmsg
// per response. Here requests are handled on the thread gRPC already polls
// with, the next read starts before the response is written, requests that
// arrive while the handler runs are handed to it together next, and
// responses queue while a write is in flight.
//
// A handler failure is the handler's to put into its response; the stream
// stays open. After End(): an idle stream ends at once (UNAVAILABLE); one in
// the middle of a batch finishes it, writes every response it owes, then
// ends; requests still waiting are answered with `unavailable()`,
// unhandled.
#ifndef SSEBRIDGE_GRPC_ORDERED_STREAM_REACTOR_H_
#define SSEBRIDGE_GRPC_ORDERED_STREAM_REACTOR_H_

#include <deque>
#include <functional>
#include <mutex>
#include <utility>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/base/thread_annotations.h"
#include "bridge/publish/publish_drain.h"

namespace ssebridge {

template <typename Request, typename Response>
class OrderedStreamReactor final
    : public grpc::ServerBidiReactor<Request, Response>,
      public EndableStream {
 public:
  struct Handlers {
    // Answers `requests` (moved from freely) in order, one response each,
    // appended to `responses`. Called with the requests that arrived while
    // the previous call ran, so a slow broker (a Redis round trip) serves a
    // fast publisher in batches instead of one request per round trip.
    std::function<void(std::vector<Request>* requests,
                       std::vector<Response>* responses)>
        handle;
    // The answer to a request taken after End().
    std::function<Response(const Request&)> unavailable;
  };

  // At most this many requests wait unhandled; reading pauses beyond it, so
  // a publisher faster than the broker meets HTTP/2 flow control.
  static constexpr size_t kMaxWaiting = 256;

  // `drain` is told when the stream is done (it may not track it).
  OrderedStreamReactor(Handlers handlers, PublishDrain* drain, bool ending)
      : handlers_(std::move(handlers)), drain_(drain) {
    std::lock_guard<std::mutex> lock(mu_);
    if (ending) {
      EndLocked();
      return;
    }
    StartReadLocked();
  }

  void End() override {
    std::lock_guard<std::mutex> lock(mu_);
    EndLocked();
  }

  void OnReadDone(bool ok) override {
    std::unique_lock<std::mutex> lock(mu_);
    reading_ = false;
    if (!ok) {
      reads_done_ = true;  // the client half-closed, or the call is gone
      MaybeFinishLocked();
      return;
    }
    // Finished (End() on an idle stream, or a broken write): the request
    // gets no response, so it must not be handled either.
    if (finished_) return;
    waiting_.push_back(std::move(request_));
    if (ending_) {
      reads_done_ = true;  // answer what was read, then end
    } else if (waiting_.size() < kMaxWaiting) {
      // Read the next request while this one is handled and answered.
      StartReadLocked();
    }
    if (!handling_) HandleWaitingLocked(lock);
    MaybeFinishLocked();
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard<std::mutex> lock(mu_);
    writing_ = false;
    pending_.pop_front();
    if (!ok) {
      // Cancelled, or the connection is gone: nobody is left to answer.
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

  void OnDone() override {
    drain_->Forget(this);
    delete this;
  }

 private:
  void EndLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (ending_ || finished_) return;
    ending_ = true;
    final_status_ = grpc::Status(grpc::StatusCode::UNAVAILABLE, "shutting down");
    MaybeFinishLocked();
  }

  void StartReadLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    reading_ = true;
    this->StartRead(&request_);
  }

  // Handles what is waiting, and what arrives meanwhile, on this thread; the
  // lock is released around the handler. Requests taken after End() get
  // `unavailable()`: nothing taken goes unanswered.
  void HandleWaitingLocked(std::unique_lock<std::mutex>& lock)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    handling_ = true;
    std::vector<Request> batch;
    std::vector<Response> responses;
    while (!waiting_.empty() && !finished_) {
      batch.clear();
      batch.swap(waiting_);
      const bool ending = ending_;
      if (!reading_ && !reads_done_ && !ending_) StartReadLocked();
      lock.unlock();
      responses.clear();
      responses.reserve(batch.size());
      if (ending) {
        for (const Request& r : batch) responses.push_back(handlers_.unavailable(r));
      } else {
        handlers_.handle(&batch, &responses);
      }
      lock.lock();
      if (finished_) break;
      for (Response& r : responses) pending_.push_back(std::move(r));
      if (!writing_ && !pending_.empty()) WriteNextLocked();
    }
    handling_ = false;
  }

  void WriteNextLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    writing_ = true;
    // More answers queued behind this one: let gRPC hold it for the next
    // write rather than send one frame per answer. The last queued answer
    // goes without the hint and carries the others out with it.
    grpc::WriteOptions options;
    if (pending_.size() > 1) options.set_buffer_hint();
    this->StartWrite(&pending_.front(), options);
  }

  // Finishes once nothing is left to handle or write, and either the client
  // half-closed or the stream is ending (a pending read then fails).
  void MaybeFinishLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_ || writing_ || handling_ || !pending_.empty() || !waiting_.empty()) {
      return;
    }
    if (!reads_done_ && !ending_) return;
    finished_ = true;
    this->Finish(final_status_);
  }

  const Handlers handlers_;
  PublishDrain* const drain_;
  // The read buffer: only the read callback touches it, and only one read
  // is ever pending.
  Request request_;

  // Read, write and handling may run at the same time on different threads.
  // gRPC never runs a reaction inline from Start*/Finish, so calling those
  // under the lock is safe.
  std::mutex mu_;
  std::vector<Request> waiting_ ABSL_GUARDED_BY(mu_);  // read, not handled
  // Responses not yet written; front() is in flight while writing_. A deque
  // keeps front() in place while more are appended.
  std::deque<Response> pending_ ABSL_GUARDED_BY(mu_);
  bool reading_ ABSL_GUARDED_BY(mu_) = false;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool handling_ ABSL_GUARDED_BY(mu_) = false;    // a thread runs the handler
  bool reads_done_ ABSL_GUARDED_BY(mu_) = false;  // no more reads to start
  bool ending_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;    // Finish() called
  grpc::Status final_status_ ABSL_GUARDED_BY(mu_);
};

// A stream refused before its first read (e.g. UNAUTHENTICATED): it ends
// at once with `status`. Not tracked by a PublishDrain; it owns itself.
template <typename Request, typename Response>
class RefusedStream final : public grpc::ServerBidiReactor<Request, Response> {
 public:
  explicit RefusedStream(grpc::Status status) { this->Finish(std::move(status)); }
  void OnDone() override { delete this; }
};

}  // namespace ssebridge

#endif  // SSEBRIDGE_GRPC_ORDERED_STREAM_REACTOR_H_
