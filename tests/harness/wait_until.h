// WaitUntil: polls `pred` under `lock` until it holds or `timeout` passes.
// Tests poll rather than use condition variables so the writers of the
// state need not know anyone waits.
#ifndef SSEBRIDGE_TESTS_HARNESS_WAIT_UNTIL_H_
#define SSEBRIDGE_TESTS_HARNESS_WAIT_UNTIL_H_

#include <mutex>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace ssebridge_it {

template <typename Pred>
bool WaitUntil(std::unique_lock<std::mutex>& lock, Pred pred, absl::Duration timeout) {
  const absl::Time end = absl::Now() + timeout;
  while (!pred()) {
    if (absl::Now() >= end) return false;
    lock.unlock();
    absl::SleepFor(absl::Milliseconds(2));
    lock.lock();
  }
  return true;
}

}  // namespace ssebridge_it

#endif  // SSEBRIDGE_TESTS_HARNESS_WAIT_UNTIL_H_
