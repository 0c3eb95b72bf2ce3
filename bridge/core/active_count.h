// ActiveCount: how many of something are open, readable without a lock,
// and a wait for the moment none is. Shutdown waits on it instead of
// polling: the last Remove() wakes the waiter at once.
//
// Add() and Remove() may be called from any thread; the count must never
// go below zero (a Remove() for every Add()).
#ifndef SSEBRIDGE_CORE_ACTIVE_COUNT_H_
#define SSEBRIDGE_CORE_ACTIVE_COUNT_H_

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <mutex>

#include "absl/time/time.h"

namespace ssebridge {

class ActiveCount {
 public:
  void Add() { n_.fetch_add(1, std::memory_order_relaxed); }
  void Remove();
  size_t value() const { return n_.load(std::memory_order_relaxed); }
  // Waits until the count is zero or `deadline`; whether it got to zero.
  bool WaitForZero(absl::Time deadline);

 private:
  std::atomic<size_t> n_{0};
  // Only for the wake-up: a waiter checks the count under it, so a Remove()
  // that reaches zero (and then takes it to notify) cannot slip between the
  // check and the wait.
  std::mutex mu_;
  std::condition_variable zero_cv_;
};

}  // namespace ssebridge

#endif  // SSEBRIDGE_CORE_ACTIVE_COUNT_H_
