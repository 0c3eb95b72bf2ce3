#include "bridge/event/event_loop.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace ssebridge {

namespace {
thread_local EventLoop* current_loop = nullptr;
// Marks the wake-up eventfd in epoll's data (no handler has this address).
EventLoop::FdHandler* const kWakeMark = nullptr;

absl::Status Errno(absl::string_view what) {
  return absl::InternalError(absl::StrCat(what, ": ", strerror(errno)));
}
}  // namespace

absl::StatusOr<std::unique_ptr<EventLoop>> EventLoop::Create() {
  int epfd = epoll_create1(EPOLL_CLOEXEC);
  if (epfd < 0) return Errno("epoll_create1");
  int evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (evfd < 0) {
    absl::Status s = Errno("eventfd");
    ::close(epfd);
    return s;
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = kWakeMark;
  if (epoll_ctl(epfd, EPOLL_CTL_ADD, evfd, &ev) != 0) {
    absl::Status s = Errno("epoll_ctl(eventfd)");
    ::close(evfd);
    ::close(epfd);
    return s;
  }
  return std::unique_ptr<EventLoop>(new EventLoop(epfd, evfd));
}

EventLoop::~EventLoop() {
  RunDeferred();
  ::close(evfd_);
  ::close(epfd_);
}

EventLoop* EventLoop::Current() { return current_loop; }

void EventLoop::Post(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> lock(tasks_mu_);
    tasks_.push_back(std::move(task));
  }
  Wake();
}

void EventLoop::Wake() {
  uint64_t one = 1;
  // EAGAIN only when the counter is already huge: the loop is awake anyway.
  ssize_t r = ::write(evfd_, &one, sizeof(one));
  (void)r;
}

void EventLoop::Stop() {
  Post([this] { stop_ = true; });
}

absl::Status EventLoop::Watch(int fd, uint32_t events, FdHandler* handler) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = handler;
  if (epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) != 0) return Errno("epoll_ctl(ADD)");
  return absl::OkStatus();
}

absl::Status EventLoop::Rewatch(int fd, uint32_t events, FdHandler* handler) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = handler;
  if (epoll_ctl(epfd_, EPOLL_CTL_MOD, fd, &ev) != 0) return Errno("epoll_ctl(MOD)");
  return absl::OkStatus();
}

void EventLoop::Unwatch(int fd, FdHandler* handler) {
  // Fails harmlessly for an fd not watched (ENOENT) or already closed
  // (EBADF, and epoll dropped it then); either way this round's batch may
  // still name the handler.
  epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr);
  if (in_round_) unwatched_this_round_.push_back(handler);
}

bool EventLoop::TryRunWakeHookInline() {
  if (!wake_hook_) return false;
  return TryRunInline(wake_hook_);
}

bool EventLoop::TryRunInline(const std::function<void()>& task) {
  // current_loop, not InLoopThread(): a thread-local needs no lock, and a
  // thread inside this loop's round already holds round_mu_.
  if (current_loop == this) return false;
  std::unique_lock<std::mutex> round(round_mu_, std::try_to_lock);
  if (!round.owns_lock() || !accepting_inline_) return false;
  EventLoop* outer = current_loop;
  current_loop = this;
  const size_t timers_before = timers_.size();
  const absl::Time first_before =
      timers_.empty() ? absl::InfiniteFuture() : timers_.begin()->first.first;
  in_round_ = true;  // Unwatch() records for the loop's pending epoll batch
  task();
  in_round_ = false;
  current_loop = outer;
  // Deletions wait for the loop's own round (its epoll batch may still name
  // what they free); a timer set here may have to shorten the loop's wait.
  const bool timers_changed = timers_.size() != timers_before ||
                              (!timers_.empty() && timers_.begin()->first.first < first_before);
  const bool loop_needed = !deferred_.empty() || timers_changed;
  round.unlock();
  if (loop_needed) Wake();
  return true;
}

EventLoop::TimerId EventLoop::RunAt(absl::Time when, std::function<void()> fn) {
  const TimerId id = next_timer_id_++;
  timers_.emplace(
      std::make_pair(when, id),
      Timer{std::make_shared<std::function<void()>>(std::move(fn)), absl::ZeroDuration()});
  timer_due_[id] = when;
  return id;
}

EventLoop::TimerId EventLoop::RunEvery(absl::Duration every, std::function<void()> fn) {
  every = std::max(every, absl::Milliseconds(1));
  const TimerId id = next_timer_id_++;
  const absl::Time when = absl::Now() + every;
  timers_.emplace(std::make_pair(when, id),
                  Timer{std::make_shared<std::function<void()>>(std::move(fn)), every});
  timer_due_[id] = when;
  return id;
}

bool EventLoop::Cancel(TimerId id) {
  auto due = timer_due_.find(id);
  if (due == timer_due_.end()) return false;
  timers_.erase(std::make_pair(due->second, id));
  timer_due_.erase(due);
  return true;
}

void EventLoop::DeferDelete(std::function<void()> deleter) {
  deferred_.push_back(std::move(deleter));
}

int EventLoop::TimeoutMs(absl::Time now) const {
  if (timers_.empty()) return -1;
  const absl::Duration left = timers_.begin()->first.first - now;
  if (left <= absl::ZeroDuration()) return 0;
  // Rounded up: waking a little late is fine, waking early spins.
  return static_cast<int>(
      std::min<int64_t>(absl::ToInt64Milliseconds(left + absl::Microseconds(999)), 60'000));
}

void EventLoop::Run() {
  running_thread_ = std::this_thread::get_id();
  EventLoop* outer = current_loop;
  current_loop = this;
  {
    std::lock_guard<std::mutex> round(round_mu_);
    accepting_inline_ = true;
  }
  while (!stop_) RunRound();
  std::lock_guard<std::mutex> round(round_mu_);
  accepting_inline_ = false;
  RunDeferred();
  current_loop = outer;
  running_thread_ = std::thread::id();
}

void EventLoop::RunRound() {
  constexpr int kBatch = 512;
  epoll_event events[kBatch];
  int timeout_ms;
  {
    std::lock_guard<std::mutex> round(round_mu_);
    timeout_ms = TimeoutMs(absl::Now());
  }
  int n = epoll_wait(epfd_, events, kBatch, timeout_ms);
  std::lock_guard<std::mutex> round(round_mu_);
  in_round_ = true;
  bool woken = false;
  for (int i = 0; i < n; ++i) {
    auto* handler = static_cast<EventLoop::FdHandler*>(events[i].data.ptr);
    if (handler == kWakeMark) {
      uint64_t count;
      while (::read(evfd_, &count, sizeof(count)) > 0) {
      }
      woken = true;
      continue;
    }
    if (!unwatched_this_round_.empty() &&
        std::find(unwatched_this_round_.begin(), unwatched_this_round_.end(), handler) !=
            unwatched_this_round_.end()) {
      continue;
    }
    handler->OnFdEvents(events[i].events);
  }
  if (woken) {
    wakeups_.fetch_add(1, std::memory_order_relaxed);
    std::vector<std::function<void()>> tasks;
    {
      std::lock_guard<std::mutex> lock(tasks_mu_);
      tasks.swap(tasks_);
    }
    for (const auto& t : tasks) t();
    if (wake_hook_) wake_hook_();
  }
  if (!timers_.empty()) RunDueTimers(absl::Now());
  RunDeferred();
  unwatched_this_round_.clear();
  in_round_ = false;
}

void EventLoop::RunDueTimers(absl::Time now) {
  // Timers added by a callback run in a later round, so a timer that
  // re-arms itself at "now" cannot starve the loop.
  std::vector<std::pair<TimerId, Timer>> due;
  while (!timers_.empty() && timers_.begin()->first.first <= now) {
    auto node = timers_.extract(timers_.begin());
    const TimerId id = node.key().second;
    timer_due_.erase(id);
    due.emplace_back(id, std::move(node.mapped()));
  }
  for (auto& [id, timer] : due) {
    if (timer.every > absl::ZeroDuration()) {
      // Re-armed before it runs, so the callback may Cancel() its own id.
      const absl::Time next = now + timer.every;
      timer_due_[id] = next;
      timers_.emplace(std::make_pair(next, id), timer);
    }
    (*timer.fn)();
  }
}

void EventLoop::RunDeferred() {
  while (!deferred_.empty()) {
    std::vector<std::function<void()>> now;
    now.swap(deferred_);
    for (const auto& d : now) d();
  }
}

}  // namespace ssebridge
