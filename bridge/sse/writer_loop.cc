#include "bridge/sse/writer_loop.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "bridge/core/names.h"
#include "bridge/sse/sse_stream.h"

namespace ssebridge {

namespace {
// Last words of a stream whose credential ran out: the page gets a fresh
// ticket or token and reconnects with its Last-Event-ID.
std::string AuthExpiredFrame() {
  return absl::StrCat("event: ", kAuthExpiredEventType,
                      "\ndata: {\"reason\":\"credential expired\"}\n\n");
}
}  // namespace

thread_local WriterLoop* WriterLoop::current = nullptr;

WriterLoop::~WriterLoop() {
  if (epfd_ >= 0) ::close(epfd_);
  if (evfd_ >= 0) ::close(evfd_);
}

absl::Status WriterLoop::Init() {
  epfd_ = epoll_create1(EPOLL_CLOEXEC);
  evfd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epfd_ < 0 || evfd_ < 0) {
    return absl::InternalError(absl::StrCat("epoll/eventfd: ", strerror(errno)));
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = nullptr;  // nullptr marks the wake-up eventfd
  epoll_ctl(epfd_, EPOLL_CTL_ADD, evfd_, &ev);
  int fd = evfd_;
  shard_->SetWake([fd] {
    uint64_t one = 1;
    ssize_t r = ::write(fd, &one, sizeof(one));
    (void)r;  // EAGAIN only when the counter is already huge: still awake
  });
  return absl::OkStatus();
}

void WriterLoop::Post(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> lock(tasks_mu_);
    tasks_.push_back(std::move(task));
  }
  uint64_t one = 1;
  ssize_t r = ::write(evfd_, &one, sizeof(one));
  (void)r;
}

void WriterLoop::Join() {
  Post([this] { stop_ = true; });
  if (thread_.joinable()) thread_.join();
}

void WriterLoop::Adopt(SseStream* stream, int fd) {
  streams_.insert(stream);
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  ev.data.ptr = stream;
  epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev);
  if (farewell_) {
    stream->Farewell(farewell_(), CloseReason::kShutdown);
    return;
  }
  // Opened before its user was disconnected but still attaching then (a
  // broker snapshot, a shard inbox): it is ended now, as if it had been
  // there.
  auto ended = ended_users_.find(stream->sub->user_id());
  if (ended != ended_users_.end() && stream->opened_at() <= ended->second.at) {
    stream->Farewell(ended->second.bytes, CloseReason::kDisconnectedByAdmin);
  }
}

void WriterLoop::Forget(SseStream* stream, int fd) {
  epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr);
  streams_.erase(stream);
  graveyard_.push_back(stream);
}

uint32_t WriterLoop::EndUser(const std::string& user, const std::string& bytes) {
  const absl::Time now = absl::Now();
  for (auto it = ended_users_.begin(); it != ended_users_.end();) {
    if (now - it->second.at > kEndedUserMemory) {
      ended_users_.erase(it++);
    } else {
      ++it;
    }
  }
  ended_users_[user] = {now, bytes};
  uint32_t n = 0;
  std::vector<SseStream*> all(streams_.begin(), streams_.end());
  for (SseStream* s : all) {
    if (s->closed() || s->sub->user_id() != user) continue;
    s->Farewell(bytes, CloseReason::kDisconnectedByAdmin);
    ++n;
  }
  return n;
}

void WriterLoop::BeginFarewell(std::function<std::string()> farewell) {
  farewell_ = std::move(farewell);
  std::vector<SseStream*> all(streams_.begin(), streams_.end());
  for (SseStream* s : all) s->Farewell(farewell_(), CloseReason::kShutdown);
}

void WriterLoop::Run() {
  current = this;
  const absl::Duration every = writer_->options_.heartbeat;
  const int tick_ms = static_cast<int>(std::clamp<int64_t>(
      absl::ToInt64Milliseconds(every) / 4, 10, 1000));
  absl::Time next_heartbeat_scan = absl::Now() + absl::Milliseconds(tick_ms);
  std::vector<epoll_event> events(512);
  while (!stop_) {
    int n = epoll_wait(epfd_, events.data(), static_cast<int>(events.size()),
                       tick_ms);
    bool woken = false;
    for (int i = 0; i < n; ++i) {
      if (events[i].data.ptr == nullptr) {
        uint64_t count;
        while (::read(evfd_, &count, sizeof(count)) > 0) {
        }
        woken = true;
        continue;
      }
      auto* stream = static_cast<SseStream*>(events[i].data.ptr);
      if (!stream->closed()) stream->OnSocketEvent(events[i].events);
    }
    if (woken) {
      std::vector<std::function<void()>> tasks;
      {
        std::lock_guard<std::mutex> lock(tasks_mu_);
        tasks.swap(tasks_);
      }
      for (const auto& t : tasks) t();
      shard_->Drain();
    }
    absl::Time now = absl::Now();
    if (now >= next_heartbeat_scan) {
      next_heartbeat_scan = now + absl::Milliseconds(tick_ms);
      std::vector<SseStream*> all(streams_.begin(), streams_.end());
      for (SseStream* s : all) {
        if (s->closed()) continue;
        if (now >= s->expires_at()) {
          s->Farewell(AuthExpiredFrame(), CloseReason::kAuthExpired);
          continue;
        }
        s->HeartbeatIfIdle(now, every);
      }
    }
    for (SseStream* s : graveyard_) delete s;
    graveyard_.clear();
  }
  // Stopping: whatever is still open is closed without ceremony.
  std::vector<SseStream*> all(streams_.begin(), streams_.end());
  for (SseStream* s : all) s->Close(CloseReason::kShutdown);
  shard_->Drain();
  for (SseStream* s : graveyard_) delete s;
  graveyard_.clear();
  current = nullptr;
}

}  // namespace ssebridge
