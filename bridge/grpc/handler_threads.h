// HandlerThreads: a fixed set of threads for stream handlers that may wait
// (a publish into a broker that waits on Redis), so that the CompletionLoop
// thread, which reads every publish stream and answers the health checks,
// never waits on the network itself.
//
// Work runs in the order it was posted, each item on one thread. Bounded by
// its callers, not here: a stream posts its batch once and posts again only
// after that ran, so at most one item per open publish stream waits
// (--max_grpc_publish_streams).
//
// Threads: Post() is any-thread. The destructor runs everything posted, then
// joins; nothing may be posted after it began.
#ifndef SSEBRIDGE_GRPC_HANDLER_THREADS_H_
#define SSEBRIDGE_GRPC_HANDLER_THREADS_H_

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"

namespace ssebridge {

class HandlerThreads {
 public:
  explicit HandlerThreads(int threads);  // at least one
  ~HandlerThreads();
  HandlerThreads(const HandlerThreads&) = delete;
  HandlerThreads& operator=(const HandlerThreads&) = delete;

  void Post(std::function<void()> work);
  int size() const { return static_cast<int>(threads_.size()); }

 private:
  void Run();

  std::mutex mu_;
  std::condition_variable posted_;
  std::deque<std::function<void()>> work_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace ssebridge

#endif  // SSEBRIDGE_GRPC_HANDLER_THREADS_H_
