// EventLoop: one thread's dispatcher (in the manner of Envoy's
// Event::Dispatcher). It waits on epoll and runs, on its own thread only:
// callbacks for watched file descriptors, timers, tasks posted from other
// threads, and deletions deferred to the end of the current round. No part
// of the bridge owns an epoll of its own: the stream writers, the request
// readers and the Redis fan-out each run on an EventLoop.
//
// Threads: Post(), Wake() and Stop() may be called from any thread; every
// other method only on the loop's thread (or before Run() starts, while no
// other thread can reach the loop).
//
// Ownership: the loop owns neither the watched fds nor their handlers, and
// keeps no table of them (epoll carries the handler; a per-fd entry would
// cost every one of tens of thousands of idle streams). A handler must stay
// valid until it is unwatched; once Unwatch() returns it gets no further
// callback, even for readiness reported earlier in the same round, so it may
// be freed with DeferDelete() (or at once, when the caller knows nothing else
// on the stack refers to it).
//
// A round: epoll_wait (until the next timer, or the wake-up eventfd) ->
// fd callbacks in the order epoll reported them -> if woken, the posted
// tasks in the order they were posted, then the wake hook -> due timers ->
// deferred deletions.
#ifndef SSEBRIDGE_EVENT_EVENT_LOOP_H_
#define SSEBRIDGE_EVENT_EVENT_LOOP_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace ssebridge {

class EventLoop {
 public:
  // What a watched fd calls back into. `events` is epoll's mask.
  class FdHandler {
   public:
    virtual void OnFdEvents(uint32_t events) = 0;

   protected:
    ~FdHandler() = default;
  };

  using TimerId = uint64_t;

  // The epoll instance and the wake-up eventfd.
  static absl::StatusOr<std::unique_ptr<EventLoop>> Create();
  // Runs the deletions still deferred. The loop must not be running.
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Runs rounds on the calling thread until a Stop() is taken; then runs the
  // deferred deletions and returns. Tasks posted before the Stop() run.
  void Run();

  // Any thread. `task` runs on the loop's thread, after the fd callbacks of
  // the round in which the loop wakes, in posting order.
  void Post(std::function<void()> task);
  // Any thread: the loop runs its wake hook soon (cheap when already awake:
  // one eventfd write).
  void Wake();
  // Any thread: Run() returns after the tasks posted before this call.
  void Stop();

  // Loop thread. Called once in every round in which the loop was woken,
  // after the posted tasks (a hub shard drains its inbox here).
  void SetWakeHook(std::function<void()> hook) { wake_hook_ = std::move(hook); }

  // Any thread but the loop's: runs the wake hook right here, as if it were
  // a round of the loop, when the loop is waiting in epoll_wait (or between
  // rounds); false, having done nothing, when a round is running, the loop
  // is not running, or the caller is the loop's thread. A caller with a
  // small piece of work saves the loop a wake-up (an eventfd write, a
  // context switch) that costs more than the work. Everything the hook
  // touches through this loop (Watch, Unwatch, DeferDelete, ...) is safe:
  // rounds and inline runs exclude each other, an fd unwatched inline is
  // skipped if the loop's pending epoll batch still reports it, and the
  // deferred deletions run at the end of the loop's own next round.
  bool TryRunWakeHookInline();
  // The same for `task`, run here as a posted task would run in a round;
  // false (not run) when the wake hook would not be.
  bool TryRunInline(const std::function<void()>& task);

  // Loop thread. `events` is an epoll mask (EPOLLIN, EPOLLET, ...).
  absl::Status Watch(int fd, uint32_t events, FdHandler* handler);
  absl::Status Rewatch(int fd, uint32_t events, FdHandler* handler);
  // `handler`: the one `fd` is watched with (the loop keeps no fd table to
  // look it up). Unwatching an fd that is not watched is harmless.
  void Unwatch(int fd, FdHandler* handler);

  // Loop thread. `fn` runs once at `when` (or in the first round after it).
  TimerId RunAt(absl::Time when, std::function<void()> fn);
  // Loop thread. `fn` runs every `every`, first after one period, until
  // cancelled. The next run is planned one period after the round that ran
  // this one: runs that a slow round missed are not caught up.
  TimerId RunEvery(absl::Duration every, std::function<void()> fn);
  // Loop thread. False when `id` already ran (one-shot) or is unknown.
  bool Cancel(TimerId id);

  // Loop thread. `deleter` runs at the end of the current round, when no
  // callback of this round can still refer to what it frees.
  void DeferDelete(std::function<void()> deleter);

  // Whether the calling thread is the one inside Run().
  bool InLoopThread() const { return running_thread_ == std::this_thread::get_id(); }
  // The loop whose Run() the calling thread is in, or nullptr.
  static EventLoop* Current();

  // Rounds woken by Post()/Wake(), for the wake-ups-per-event figures.
  uint64_t wakeups() const { return wakeups_.load(std::memory_order_relaxed); }

 private:
  EventLoop(int epfd, int evfd) : epfd_(epfd), evfd_(evfd) {}
  void RunRound();
  void RunDueTimers(absl::Time now);
  void RunDeferred();
  int TimeoutMs(absl::Time now) const;

  struct Timer {
    // Shared by the runs of a repeating timer: a callback may cancel (and so
    // erase) its own entry while it runs.
    std::shared_ptr<std::function<void()>> fn;
    absl::Duration every = absl::ZeroDuration();  // zero: one-shot
  };

  const int epfd_;
  const int evfd_;
  std::thread::id running_thread_;
  bool stop_ = false;  // loop thread only; set by the task Stop() posts

  // Held by the loop's thread for a whole round except epoll_wait, and by
  // an inline run of the wake hook: what "loop thread only" below means.
  std::mutex round_mu_;
  bool accepting_inline_ = false;  // guarded by round_mu_: inside Run()

  std::mutex tasks_mu_;
  std::vector<std::function<void()>> tasks_ ABSL_GUARDED_BY(tasks_mu_);
  std::atomic<uint64_t> wakeups_{0};

  // Loop thread only.
  std::function<void()> wake_hook_;
  std::map<std::pair<absl::Time, TimerId>, Timer> timers_;
  absl::flat_hash_map<TimerId, absl::Time> timer_due_;
  TimerId next_timer_id_ = 1;
  std::vector<std::function<void()>> deferred_;
  // Handlers unwatched during this round: epoll may already have reported
  // them in this round's batch, and they must not be called again.
  std::vector<FdHandler*> unwatched_this_round_;
  bool in_round_ = false;
};

}  // namespace ssebridge

#endif  // SSEBRIDGE_EVENT_EVENT_LOOP_H_
