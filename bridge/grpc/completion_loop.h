// CompletionLoop: one thread of ours that drives a gRPC server completion
// queue, for the methods served on gRPC's async API (PublishStream,
// PublishBatchStream, grpc.health.v1).
//
// Why one thread of ours: gRPC 1.51's callback API runs reactions on its own
// polling threads, and each message then hops between them and the sync
// server's pollers (about 7.5 context switches per PublishStream message; a
// single callback service on the port, such as gRPC's built-in health
// service, is enough to put every call through them). A completion queue
// drained by one thread costs about 2 (tests/bench/README.md, "Trickle").
//
// A round of the loop takes every completion that is ready (the first one
// blocking, the rest without waiting), then runs the work those completions
// deferred with Defer(). So a stream's handler sees together every request
// that arrived while the previous one ran: a slow broker (a Redis round
// trip) serves a fast publisher in batches.
//
// Handlers that may wait (a publish into Redis) do not run on the loop: it
// would hold every other stream and the health checks behind them, up to
// --redis_command_timeout when Redis hangs. The loop owns HandlerThreads for
// them when it is given any (the server gives it --grpc_handler_threads when
// the broker's publish waits); without them every handler runs on the loop
// (the memory broker: no hand-off, no wake-up of another thread per message).
//
// Threads: Proceed() and deferred work run on the loop thread only; Defer()
// may only be called there. Everything else is any-thread.
#ifndef SSEBRIDGE_GRPC_COMPLETION_LOOP_H_
#define SSEBRIDGE_GRPC_COMPLETION_LOOP_H_

#include <grpcpp/grpcpp.h>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "bridge/grpc/handler_threads.h"

namespace ssebridge {

// A completion the loop hands back: every tag given to gRPC with this loop's
// queue must be one.
class CompletionTag {
 public:
  virtual void Proceed(bool ok) = 0;

 protected:
  ~CompletionTag() = default;
};

// A tag that calls `owner->Proceed(op, ok)`; an object holds one per kind
// of operation (`Owner::Op`) it can have in flight.
template <typename Owner>
class OpTag final : public CompletionTag {
 public:
  OpTag(Owner* owner, typename Owner::Op op) : owner_(owner), op_(op) {}
  void Proceed(bool ok) override { owner_->Proceed(op_, ok); }

 private:
  Owner* const owner_;
  const typename Owner::Op op_;
};

// Work to run once the current round's completions are all taken.
class DeferredWork {
 public:
  virtual void RunDeferred() = 0;

 protected:
  ~DeferredWork() = default;
};

class CompletionLoop {
 public:
  // `handler_threads` > 0: that many HandlerThreads for handlers that may
  // wait; 0: none.
  explicit CompletionLoop(std::unique_ptr<grpc::ServerCompletionQueue> cq, int handler_threads = 0);
  ~CompletionLoop();  // Shutdown(), if not done yet

  grpc::ServerCompletionQueue* cq() { return cq_.get(); }
  // Where handlers that may wait run; nullptr: on the loop thread.
  HandlerThreads* handler_threads() { return handler_threads_.get(); }
  void Start();
  // Loop thread only.
  void Defer(DeferredWork* work) { deferred_.push_back(work); }
  // A call object (one that gives gRPC tags of this queue) begins or ends
  // its life; Shutdown() waits until none is left.
  void CallBegins();
  void CallEnds();
  // After the server's Shutdown(): waits until every call object is gone
  // (the thread keeps taking their completions, so a reaction never starts
  // an operation on a queue already shut; a handler still waiting on its
  // broker keeps its call object), shuts the queue down, lets the thread
  // hand out what is left, and joins it and the handler threads.
  void Shutdown();

 private:
  void Run();
  void RunDeferred();

  std::unique_ptr<grpc::ServerCompletionQueue> cq_;
  std::unique_ptr<HandlerThreads> handler_threads_;
  std::thread thread_;
  bool shut_down_ = false;
  std::vector<DeferredWork*> deferred_;  // loop thread only
  std::vector<DeferredWork*> running_;   // loop thread only: this round's
  std::mutex calls_mu_;
  std::condition_variable no_calls_;
  int calls_ = 0;  // guarded by calls_mu_
};

// Something with methods on the async API: registered with the server like
// any service, then armed (asked for its first calls) once it has started.
class AsyncMethods {
 public:
  virtual grpc::Service* service() = 0;
  virtual void Arm(CompletionLoop* loop) = 0;

 protected:
  ~AsyncMethods() = default;
};

}  // namespace ssebridge

#endif  // SSEBRIDGE_GRPC_COMPLETION_LOOP_H_
