#include "bridge/ops/periodic_task.h"

#include <utility>

namespace ssebridge {

PeriodicTask::PeriodicTask(absl::Duration period, std::function<void()> task)
    : thread_([this, period, task = std::move(task)] {
        std::unique_lock<std::mutex> lock(mu_);
        while (!cv_.wait_for(lock, absl::ToChronoMilliseconds(period), [this] { return stop_; })) {
          lock.unlock();
          task();
          lock.lock();
        }
      }) {}

void PeriodicTask::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace ssebridge
