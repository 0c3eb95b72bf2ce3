#include "bridge/grpc/completion_loop.h"

#include <pthread.h>

#include <utility>

namespace ssebridge {
namespace {

// Completions taken without waiting in one round, at most: bounds how long
// deferred work (a handler with requests waiting) can be held back.
constexpr int kMaxPerRound = 256;

}  // namespace

CompletionLoop::CompletionLoop(std::unique_ptr<grpc::ServerCompletionQueue> cq, int handler_threads)
    : cq_(std::move(cq)),
      handler_threads_(handler_threads > 0 ? std::make_unique<HandlerThreads>(handler_threads)
                                           : nullptr) {}

CompletionLoop::~CompletionLoop() { Shutdown(); }

void CompletionLoop::Start() {
  thread_ = std::thread([this] { Run(); });
  // Named, so per-thread profiles (perf, /proc/PID/task) tell it apart.
  pthread_setname_np(thread_.native_handle(), "grpc_cq_loop");
}

void CompletionLoop::CallBegins() {
  std::lock_guard<std::mutex> lock(calls_mu_);
  ++calls_;
}

void CompletionLoop::CallEnds() {
  std::lock_guard<std::mutex> lock(calls_mu_);
  if (--calls_ == 0) no_calls_.notify_all();
}

void CompletionLoop::Shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  if (thread_.joinable()) {
    // The server has shut down: its calls are cancelled and the calls
    // requested but never made come back failed, so this ends.
    std::unique_lock<std::mutex> lock(calls_mu_);
    no_calls_.wait(lock, [this] { return calls_ == 0; });
  }
  cq_->Shutdown();
  if (thread_.joinable()) {
    thread_.join();
  } else {
    // Never started: nothing was armed, but the queue must still be drained.
    void* tag;
    bool ok;
    while (cq_->Next(&tag, &ok)) static_cast<CompletionTag*>(tag)->Proceed(ok);
  }
  // No call object is left, so nothing is posted to them any more. Joined
  // here, before the server goes: the last call object may have been
  // deleted on one of them, and its gRPC call is released as it returns.
  handler_threads_.reset();
}

void CompletionLoop::Run() {
  void* tag;
  bool ok;
  while (cq_->Next(&tag, &ok)) {
    static_cast<CompletionTag*>(tag)->Proceed(ok);
    for (int i = 1; i < kMaxPerRound; ++i) {
      const grpc::CompletionQueue::NextStatus status =
          cq_->AsyncNext(&tag, &ok, gpr_time_0(GPR_CLOCK_MONOTONIC));
      if (status != grpc::CompletionQueue::GOT_EVENT) break;
      static_cast<CompletionTag*>(tag)->Proceed(ok);
    }
    RunDeferred();
  }
  RunDeferred();
}

void CompletionLoop::RunDeferred() {
  // Work may defer more work (a handler whose write failed at once); that
  // runs in the next round. Both vectors keep their capacity: no allocation
  // per round.
  running_.swap(deferred_);
  for (DeferredWork* work : running_) work->RunDeferred();
  running_.clear();
}

}  // namespace ssebridge
