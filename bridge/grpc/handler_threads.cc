#include "bridge/grpc/handler_threads.h"

#include <pthread.h>

#include <algorithm>
#include <utility>

namespace ssebridge {

HandlerThreads::HandlerThreads(int threads) {
  const int n = std::max(1, threads);
  threads_.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    threads_.emplace_back([this] { Run(); });
    // Named, so per-thread profiles (perf, /proc/PID/task) tell them apart.
    pthread_setname_np(threads_.back().native_handle(), "grpc_handler");
  }
}

HandlerThreads::~HandlerThreads() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  posted_.notify_all();
  for (std::thread& t : threads_) t.join();
}

void HandlerThreads::Post(std::function<void()> work) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    work_.push_back(std::move(work));
  }
  posted_.notify_one();
}

void HandlerThreads::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    posted_.wait(lock, [this] { return stopping_ || !work_.empty(); });
    if (work_.empty()) return;  // stopping, and everything posted has run
    {
      std::function<void()> work = std::move(work_.front());
      work_.pop_front();
      lock.unlock();
      work();
    }  // what it captured goes before the lock is taken again
    lock.lock();
  }
}

}  // namespace ssebridge
