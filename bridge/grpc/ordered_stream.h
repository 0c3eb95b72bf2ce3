// OrderedStream: a bidi stream on gRPC's async API, driven by a
// CompletionLoop, that answers every request with exactly one response, in
// order (PublishStream and PublishBatchStream).
//
// Requests are handled after the round of completions that brought them:
// every request that arrived while the previous ones were handled goes to
// the handler together, so a slow broker (a Redis round trip) serves a fast
// publisher in batches. The handler runs on the loop thread, or, when the
// loop has HandlerThreads (a broker that waits), on one of those, one batch
// per stream at a time: a stream waiting on Redis holds a handler thread,
// not the loop, the other streams or the health checks. The next read
// starts before the response is written, and responses queue while a write
// is in flight.
//
// A handler failure is the handler's to put into its response; the stream
// stays open. After End(): an idle stream ends at once (UNAVAILABLE); one
// in the middle of a batch finishes it, writes every response it owes, then
// ends; requests still waiting are answered with `unavailable()`,
// unhandled.
//
// Ownership: each object owns itself. Listen() makes one that asks gRPC
// for the next call of its method; once a call arrives it listens for the
// next one, and it deletes itself when its last operation is back.
#ifndef SSEBRIDGE_GRPC_ORDERED_STREAM_H_
#define SSEBRIDGE_GRPC_ORDERED_STREAM_H_

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "bridge/grpc/completion_loop.h"
#include "bridge/publish/publish_drain.h"

namespace ssebridge {

template <typename Request, typename Response>
class OrderedStream final : public EndableStream, private DeferredWork {
 public:
  using Stream = grpc::ServerAsyncReaderWriter<Response, Request>;

  struct Handlers {
    // Answers `requests` (moved from freely) in order, one response each,
    // appended to `responses`.
    std::function<void(std::vector<Request>* requests, std::vector<Response>* responses)> handle;
    // The answer to a request taken after End().
    std::function<Response(const Request&)> unavailable;
    // Held until the stream object is gone (a StreamShares lease).
    std::shared_ptr<void> hold;
  };

  // One method of a service: how to ask gRPC for its next call, and what to
  // do with one that arrived (its handlers, or the status that refuses it,
  // e.g. UNAUTHENTICATED). Owned by the service; must outlive the loop.
  struct Method {
    CompletionLoop* loop = nullptr;
    PublishDrain* drain = nullptr;
    std::function<void(grpc::ServerContext*, Stream*, grpc::ServerCompletionQueue*, void* tag)>
        request;
    std::function<absl::StatusOr<Handlers>(const grpc::ServerContext&)> accept;
    // Counts each time a stream of this method stops reading because too
    // much is owed (a metric: publishers that do not read their answers).
    std::atomic<uint64_t>* read_pauses = nullptr;
  };

  // Reading pauses while this many requests are owed an answer (read and
  // not handled, or answered and not yet written), or while those requests
  // and answers hold kMaxOwedBytes on the wire: a publisher faster than the
  // broker, or one that never reads its answers, meets HTTP/2 flow control
  // instead of growing the bridge. The batch in the handler's hands is not
  // counted, and the last read may pass the mark by one message, so a
  // stream holds at most about twice this.
  static constexpr size_t kMaxWaiting = 256;
  static constexpr size_t kMaxOwedBytes = 4 << 20;

  static void Listen(const Method* method) { new OrderedStream(method); }

  void End() override {
    std::lock_guard<std::mutex> lock(mu_);
    EndLocked();
  }

  // The operations it can have in flight, each with its tag.
  enum class Op { kArrived, kRead, kWrite, kFinish };
  void Proceed(Op op, bool ok) {
    switch (op) {
      case Op::kArrived:
        return OnArrived(ok);
      case Op::kRead:
        return OnReadDone(ok);
      case Op::kWrite:
        return OnWriteDone(ok);
      case Op::kFinish:
        return OnFinished(ok);
    }
  }

 private:
  explicit OrderedStream(const Method* method) : method_(method), stream_(&context_) {
    method_->loop->CallBegins();
    method_->request(&context_, &stream_, method_->loop->cq(), &arrived_tag_);
  }
  ~OrderedStream() override {
    // What the handlers hold (a stream-cap lease) goes first: once
    // CallEnds() lets the loop shut down, the owners of those may go too.
    handlers_ = Handlers();
    method_->loop->CallEnds();
  }

  void OnArrived(bool ok) {
    if (!ok) {  // the server is shutting down: no call came
      delete this;
      return;
    }
    Listen(method_);
    absl::StatusOr<Handlers> handlers = method_->accept(context_);
    if (!handlers.ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      final_status_ = grpc::Status(static_cast<grpc::StatusCode>(handlers.status().code()),
                                   std::string(handlers.status().message()));
      ending_ = true;
      reads_done_ = true;
      MaybeFinishLocked();
      return;
    }
    handlers_ = std::move(*handlers);
    // Our lock only inside the drain's, the order End() takes them in. Once
    // tracked, End() may come before the first read starts.
    method_->drain->Open([&](bool drain_ending) {
      std::lock_guard<std::mutex> lock(mu_);
      tracked_ = !drain_ending;
      if (drain_ending) EndLocked();
      return this;
    });
    std::lock_guard<std::mutex> lock(mu_);
    if (!ending_) StartReadLocked();
  }

  void OnReadDone(bool ok) {
    std::unique_lock<std::mutex> lock(mu_);
    reading_ = false;
    if (!ok) {
      reads_done_ = true;  // the client half-closed, or the call is gone
      MaybeFinishLocked();
      DeleteIfDone(lock);
      return;
    }
    // Finished (End() on an idle stream, or a broken write): the request
    // gets no response, so it must not be handled either.
    if (finished_) {
      DeleteIfDone(lock);
      return;
    }
    waiting_bytes_ += request_.ByteSizeLong();
    waiting_.push_back(std::move(request_));
    if (ending_) {
      reads_done_ = true;  // answer what was read, then end
    } else {
      MaybeReadLocked();  // read the next request while this one waits
    }
    if (!deferred_) {
      deferred_ = true;
      method_->loop->Defer(this);
    }
  }

  // After the round of completions: handles what is waiting, here or on a
  // handler thread. While a batch is in a handler's hands, what arrives
  // waits for the next one (answers stay in order).
  void RunDeferred() override {
    std::unique_lock<std::mutex> lock(mu_);
    deferred_ = false;
    if (!handling_ && !waiting_.empty() && !finished_) {
      handling_ = true;  // keeps this alive while posted
      if (HandlerThreads* threads = method_->loop->handler_threads()) {
        threads->Post([this] { HandleOffLoop(); });
        return;
      }
      HandleWaitingLocked(lock);
      handling_ = false;
    }
    MaybeFinishLocked();
    DeleteIfDone(lock);
  }

  // On a handler thread: handles what is waiting by now (more than was
  // there when posted, on a slow broker), then posts again if more came
  // meanwhile: to the back of the queue, so one busy stream cannot keep a
  // handler thread from the others.
  void HandleOffLoop() {
    std::unique_lock<std::mutex> lock(mu_);
    HandleWaitingLocked(lock);
    if (!waiting_.empty() && !finished_) {
      method_->loop->handler_threads()->Post([this] { HandleOffLoop(); });
      return;
    }
    handling_ = false;
    MaybeFinishLocked();
    DeleteIfDone(lock);
  }

  // With handling_ set: hands every waiting request to the handler, the lock
  // released around it, and queues the answers for writing. Requests taken
  // after End() get `unavailable()`: nothing taken goes unanswered.
  void HandleWaitingLocked(std::unique_lock<std::mutex>& lock) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (waiting_.empty() || finished_) return;
    std::vector<Request> batch;
    batch.swap(waiting_);
    waiting_bytes_ = 0;
    const bool ending = ending_;
    MaybeReadLocked();
    lock.unlock();
    std::vector<Response> responses;
    responses.reserve(batch.size());
    if (ending) {
      for (const Request& r : batch) responses.push_back(handlers_.unavailable(r));
    } else {
      handlers_.handle(&batch, &responses);
    }
    lock.lock();
    if (!finished_) {
      for (Response& r : responses) {
        pending_bytes_ += r.ByteSizeLong();
        pending_.push_back(std::move(r));
      }
      if (!writing_ && !pending_.empty()) WriteNextLocked();
    }
  }

  void OnWriteDone(bool ok) {
    std::unique_lock<std::mutex> lock(mu_);
    writing_ = false;
    pending_bytes_ -= std::min(pending_bytes_, pending_.front().ByteSizeLong());
    pending_.pop_front();
    if (!ok) {
      // Cancelled, or the connection is gone: nobody is left to answer.
      pending_.clear();
      pending_bytes_ = 0;
      if (!ending_) {
        ending_ = true;
        final_status_ = grpc::Status(grpc::StatusCode::CANCELLED, "write failed");
      }
    } else {
      if (!pending_.empty()) WriteNextLocked();
      MaybeReadLocked();  // it may have paused on unwritten answers
    }
    MaybeFinishLocked();
    DeleteIfDone(lock);
  }

  void OnFinished(bool /*ok*/) {
    std::unique_lock<std::mutex> lock(mu_);
    finish_back_ = true;
    DeleteIfDone(lock);
  }

  void EndLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (ending_ || finished_) return;
    ending_ = true;
    final_status_ = grpc::Status(grpc::StatusCode::UNAVAILABLE, "shutting down");
    MaybeFinishLocked();
  }

  void StartReadLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    reading_ = true;
    stream_.Read(&request_, &read_tag_);
  }

  // Starts the next read unless one is pending, reading is over, or too
  // much is owed (kMaxWaiting, kMaxOwedBytes).
  void MaybeReadLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (reading_ || reads_done_ || ending_ || finished_) return;
    if (waiting_.size() + pending_.size() >= kMaxWaiting ||
        waiting_bytes_ + pending_bytes_ >= kMaxOwedBytes) {
      if (!paused_ && method_->read_pauses != nullptr) {
        method_->read_pauses->fetch_add(1, std::memory_order_relaxed);
      }
      paused_ = true;
      return;
    }
    paused_ = false;
    StartReadLocked();
  }

  void WriteNextLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    writing_ = true;
    // No buffer hint for the answers queued behind this one: on the async
    // API a hinted write comes back only once something else flushes the
    // stream, and the next write cannot start before it comes back.
    stream_.Write(pending_.front(), &write_tag_);
  }

  // Finishes once nothing is left to handle or write, and either the client
  // half-closed or the stream is ending (a pending read then fails).
  void MaybeFinishLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (finished_ || writing_ || handling_ || !pending_.empty() || !waiting_.empty()) {
      return;
    }
    if (!reads_done_ && !ending_) return;
    finished_ = true;
    stream_.Finish(final_status_, &finish_tag_);
  }

  // Deletes this once gRPC holds none of its tags and the loop none of its
  // work. Takes the lock's ownership: the caller must return at once.
  void DeleteIfDone(std::unique_lock<std::mutex>& lock) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (!finish_back_ || reading_ || writing_ || deferred_ || handling_) return;
    const bool tracked = tracked_;
    lock.unlock();
    // Forget() takes the drain's lock, which End() holds when it takes
    // ours: called without ours. Once forgotten, no End() can come.
    if (tracked) method_->drain->Forget(this);
    delete this;
  }

  const Method* const method_;
  grpc::ServerContext context_;
  Stream stream_;
  Handlers handlers_;  // set once, when the call arrives
  // The read buffer: only the read completion touches it, and only one
  // read is ever pending.
  Request request_;
  OpTag<OrderedStream> arrived_tag_{this, Op::kArrived};
  OpTag<OrderedStream> read_tag_{this, Op::kRead};
  OpTag<OrderedStream> write_tag_{this, Op::kWrite};
  OpTag<OrderedStream> finish_tag_{this, Op::kFinish};

  // The loop thread, a handler thread and the drain's End() meet here.
  std::mutex mu_;
  std::vector<Request> waiting_ ABSL_GUARDED_BY(mu_);  // read, not handled
  size_t waiting_bytes_ ABSL_GUARDED_BY(mu_) = 0;      // their wire size
  // Responses not yet written; front() is in flight while writing_. A deque
  // keeps front() in place while more are appended.
  std::deque<Response> pending_ ABSL_GUARDED_BY(mu_);
  size_t pending_bytes_ ABSL_GUARDED_BY(mu_) = 0;  // their wire size
  bool tracked_ ABSL_GUARDED_BY(mu_) = false;      // by the drain
  bool reading_ ABSL_GUARDED_BY(mu_) = false;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  // A batch is in the handler's hands, or posted to a handler thread.
  bool handling_ ABSL_GUARDED_BY(mu_) = false;
  bool deferred_ ABSL_GUARDED_BY(mu_) = false;    // the loop holds RunDeferred
  bool reads_done_ ABSL_GUARDED_BY(mu_) = false;  // no more reads to start
  bool ending_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;     // Finish() called
  bool paused_ ABSL_GUARDED_BY(mu_) = false;       // reading held back
  bool finish_back_ ABSL_GUARDED_BY(mu_) = false;  // its tag came back
  grpc::Status final_status_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ssebridge

#endif  // SSEBRIDGE_GRPC_ORDERED_STREAM_H_
