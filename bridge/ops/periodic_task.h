// PeriodicTask: runs a task every `period` on a thread of its own until
// Stop() (or destruction), the first run one period after construction.
// Stop() returns at once when the thread is between runs; it waits for a
// run under way to end.
#ifndef SSEBRIDGE_OPS_PERIODIC_TASK_H_
#define SSEBRIDGE_OPS_PERIODIC_TASK_H_

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "absl/time/time.h"

namespace ssebridge {

class PeriodicTask {
 public:
  PeriodicTask(absl::Duration period, std::function<void()> task);
  ~PeriodicTask() { Stop(); }
  PeriodicTask(const PeriodicTask&) = delete;
  PeriodicTask& operator=(const PeriodicTask&) = delete;

  void Stop();

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;  // last: it starts once the rest is built
};

}  // namespace ssebridge

#endif  // SSEBRIDGE_OPS_PERIODIC_TASK_H_
