#include "bridge/sse/stream_writer.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include <mutex>

#include "absl/base/thread_annotations.h"
#include "absl/time/clock.h"
#include "bridge/core/names.h"
#include "bridge/ops/log.h"
#include "bridge/sse/sse_encoder.h"

namespace ssebridge {

// One SSE connection. Lives on its loop's thread once adopted.
class SseStream : public SubscriptionSink {
 public:
  SseStream(StreamWriter* writer, int fd, StreamWriter::StreamOptions extra)
      : writer_(writer), fd_(fd), extra_(std::move(extra)) {}

  void OnReady() override;
  // Writes as much of the queue as the socket takes.
  void Flush();
  void OnSocketEvent(uint32_t events);
  void Close(absl::string_view why);
  void Farewell(const std::string& bytes);
  void HeartbeatIfIdle(absl::Time now, absl::Duration every);

  std::shared_ptr<Subscription> sub;
  bool closed() const { return closed_; }
  absl::Time expires_at() const { return extra_.expires_at; }
  absl::Time opened_at() const { return opened_at_; }

 private:
  StreamWriter* writer_;
  int fd_;
  StreamWriter::StreamOptions extra_;
  WriterLoop* loop_ = nullptr;
  const absl::Time opened_at_ = absl::Now();
  absl::Time last_write_ = opened_at_;
  bool closing_ = false;  // close once the queue is written
  bool closed_ = false;
};

namespace {
// Last words of a stream whose credential ran out: the page gets a fresh
// ticket or token and reconnects with its Last-Event-ID.
std::string AuthExpiredFrame() {
  return absl::StrCat("event: ", kAuthExpiredEventType,
                      "\ndata: {\"reason\":\"credential expired\"}\n\n");
}
}  // namespace

class WriterLoop {
 public:
  WriterLoop(StreamWriter* writer, HubShard* shard)
      : writer_(writer), shard_(shard) {}
  ~WriterLoop() {
    if (epfd_ >= 0) ::close(epfd_);
    if (evfd_ >= 0) ::close(evfd_);
  }

  absl::Status Init() {
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

  void StartThread() { thread_ = std::thread([this] { Run(); }); }

  void Post(std::function<void()> task) {
    {
      std::lock_guard<std::mutex> lock(tasks_mu_);
      tasks_.push_back(std::move(task));
    }
    uint64_t one = 1;
    ssize_t r = ::write(evfd_, &one, sizeof(one));
    (void)r;
  }

  void Join() {
    Post([this] { stop_ = true; });
    if (thread_.joinable()) thread_.join();
  }

  void Adopt(SseStream* stream, int fd) {
    streams_.insert(stream);
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.ptr = stream;
    epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev);
    if (farewell_) {
      stream->Farewell(farewell_());
      return;
    }
    // Opened before its user was disconnected but still attaching then (a
    // broker snapshot, a shard inbox): it is ended now, as if it had been
    // there.
    auto ended = ended_users_.find(stream->sub->user_id());
    if (ended != ended_users_.end() && stream->opened_at() <= ended->second.at) {
      stream->Farewell(ended->second.bytes);
    }
  }
  void Forget(SseStream* stream, int fd) {
    epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr);
    streams_.erase(stream);
    graveyard_.push_back(stream);
  }

  // Owner thread: ends the streams of `user` with `bytes`; how many.
  uint32_t EndUser(const std::string& user, const std::string& bytes) {
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
      s->Farewell(bytes);
      ++n;
    }
    return n;
  }

  void BeginFarewell(std::function<std::string()> farewell) {
    farewell_ = std::move(farewell);
    std::vector<SseStream*> all(streams_.begin(), streams_.end());
    for (SseStream* s : all) s->Farewell(farewell_());
  }

  HubShard* shard() const { return shard_; }
  static thread_local WriterLoop* current;

  std::atomic<uint64_t> writes{0};
  std::atomic<uint64_t> heartbeats{0};
  std::atomic<uint64_t> slow_disconnects{0};

 private:
  void Run() {
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
        for (auto& t : tasks) t();
        shard_->Drain();
      }
      absl::Time now = absl::Now();
      if (now >= next_heartbeat_scan) {
        next_heartbeat_scan = now + absl::Milliseconds(tick_ms);
        std::vector<SseStream*> all(streams_.begin(), streams_.end());
        for (SseStream* s : all) {
          if (s->closed()) continue;
          if (now >= s->expires_at()) {
            s->Farewell(AuthExpiredFrame());
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
    for (SseStream* s : all) s->Close("stop");
    shard_->Drain();
    for (SseStream* s : graveyard_) delete s;
    graveyard_.clear();
    current = nullptr;
  }

  StreamWriter* writer_;
  HubShard* shard_;
  int epfd_ = -1;
  int evfd_ = -1;
  std::thread thread_;
  bool stop_ = false;
  std::mutex tasks_mu_;
  std::vector<std::function<void()>> tasks_ ABSL_GUARDED_BY(tasks_mu_);
  // Owner thread only.
  absl::flat_hash_set<SseStream*> streams_;
  std::vector<SseStream*> graveyard_;  // closed this round; freed at its end
  std::function<std::string()> farewell_;
  // Users ended by DisconnectUser, remembered for streams of theirs that are
  // adopted later (attaching takes at most a broker round trip or two).
  struct EndedUser {
    absl::Time at;
    std::string bytes;
  };
  static constexpr absl::Duration kEndedUserMemory = absl::Seconds(30);
  absl::flat_hash_map<std::string, EndedUser> ended_users_;
};

thread_local WriterLoop* WriterLoop::current = nullptr;

// ---- SseStream ------------------------------------------------------------

namespace {
const EventPtr& HeartbeatFrame() {
  static const EventPtr frame = Event::Control(SseComment("keepalive"));
  return frame;
}
}  // namespace

void SseStream::OnReady() {
  if (closed_) return;
  if (loop_ == nullptr) {
    loop_ = WriterLoop::current;
    loop_->Adopt(this, fd_);
    if (closed_) return;
  }
  Flush();
}

void SseStream::Flush() {
  constexpr size_t kMaxIov = 128;
  absl::string_view parts[kMaxIov];
  iovec iov[kMaxIov];
  absl::string_view why;
  bool drained = false;
  {
    std::lock_guard<std::mutex> lock(sub->mu);
    if (sub->broker_unavailable) {
      why = "broker_unavailable";
    } else if (sub->overflowed) {
      why = "slow_consumer";
      loop_->slow_disconnects.fetch_add(1, std::memory_order_relaxed);
    }
    while (why.empty() && !sub->queue.empty()) {
      size_t n = sub->queue.Peek(parts, kMaxIov);
      for (size_t i = 0; i < n; ++i) {
        iov[i].iov_base = const_cast<char*>(parts[i].data());
        iov[i].iov_len = parts[i].size();
      }
      ssize_t w = ::writev(fd_, iov, static_cast<int>(n));
      if (w < 0) {
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) why = "write_error";
        break;  // EAGAIN: EPOLLOUT (edge) resumes us
      }
      loop_->writes.fetch_add(1, std::memory_order_relaxed);
      sub->queue.Consume(static_cast<size_t>(w));
      last_write_ = absl::Now();
    }
    drained = sub->queue.empty();
  }
  if (!why.empty()) {
    Close(why);
  } else if (closing_ && drained) {
    Close("farewell");
  }
}

void SseStream::OnSocketEvent(uint32_t events) {
  if (events & (EPOLLERR | EPOLLHUP | EPOLLRDHUP)) {
    Close("peer_closed");
    return;
  }
  if (events & EPOLLIN) {
    // Readers have nothing to say after their request; anything they send
    // is discarded, and end-of-file means they left.
    char buf[512];
    while (true) {
      ssize_t r = ::read(fd_, buf, sizeof(buf));
      if (r > 0) continue;
      if (r < 0 && errno == EINTR) continue;
      if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
        Close("peer_closed");
        return;
      }
      break;
    }
  }
  if (events & EPOLLOUT) Flush();
}

void SseStream::Farewell(const std::string& bytes) {
  if (closed_ || closing_) return;
  closing_ = true;
  {
    std::lock_guard<std::mutex> lock(sub->mu);
    sub->queue.PushControl(Event::Control(bytes));
  }
  Flush();
}

void SseStream::HeartbeatIfIdle(absl::Time now, absl::Duration every) {
  if (now - last_write_ < every) return;
  {
    std::lock_guard<std::mutex> lock(sub->mu);
    if (!sub->queue.empty()) return;  // blocked on a slow reader already
    sub->queue.PushControl(HeartbeatFrame());
  }
  loop_->heartbeats.fetch_add(1, std::memory_order_relaxed);
  Flush();
}

void SseStream::Close(absl::string_view why) {
  if (closed_) return;
  closed_ = true;
  extra_.hold.reset();
  if (LogEnabled(LogLevel::kDebug)) {
    LogLine(LogLevel::kDebug, "stream closed").Str("reason", why).Int("fd", fd_);
  }
  loop_->shard()->DetachNow(sub.get());
  loop_->Forget(this, fd_);
  ::close(fd_);
  writer_->streams_.fetch_sub(1, std::memory_order_relaxed);
}

// ---- StreamWriter ---------------------------------------------------------

StreamWriter::StreamWriter(Options options, Hub* hub)
    : options_(options), hub_(hub) {}

StreamWriter::~StreamWriter() { Stop(); }

absl::Status StreamWriter::Start() {
  for (int i = 0; i < hub_->shard_count(); ++i) {
    auto loop = std::make_unique<WriterLoop>(this, &hub_->shard(i));
    absl::Status s = loop->Init();
    if (!s.ok()) return s;
    loops_.push_back(std::move(loop));
  }
  for (auto& loop : loops_) loop->StartThread();
  started_ = true;
  return absl::OkStatus();
}

std::shared_ptr<Subscription> StreamWriter::Open(int fd,
                                                 Subscription::Options options,
                                                 const PolicyTable& policies,
                                                 std::string head,
                                                 StreamOptions extra) {
  auto* stream = new SseStream(this, fd, std::move(extra));
  stream->sub =
      std::make_shared<Subscription>(std::move(options), policies, stream);
  {
    std::lock_guard<std::mutex> lock(stream->sub->mu);
    stream->sub->queue.PushControl(Event::Control(std::move(head)));
  }
  streams_.fetch_add(1, std::memory_order_relaxed);
  return stream->sub;
}

void StreamWriter::CloseAll(std::function<std::string()> farewell) {
  for (auto& loop : loops_) {
    WriterLoop* l = loop.get();
    l->Post([l, farewell] { l->BeginFarewell(farewell); });
  }
}

uint32_t StreamWriter::DisconnectUser(const std::string& user) {
  const std::string bytes = absl::StrCat(
      "event: ", kDisconnectedEventType,
      "\ndata: {\"reason\":\"disconnected by an administrator\"}\n\n");
  std::mutex mu;
  std::condition_variable cv;
  size_t pending = loops_.size();
  uint32_t total = 0;
  for (auto& loop : loops_) {
    WriterLoop* l = loop.get();
    l->Post([&, l] {
      uint32_t n = l->EndUser(user, bytes);
      std::lock_guard<std::mutex> lock(mu);
      total += n;
      if (--pending == 0) cv.notify_all();
    });
  }
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return pending == 0; });
  return total;
}

void StreamWriter::Stop() {
  if (!started_) return;
  started_ = false;
  for (auto& loop : loops_) loop->Join();
}

uint64_t StreamWriter::writes() const {
  uint64_t n = 0;
  for (const auto& l : loops_) n += l->writes.load(std::memory_order_relaxed);
  return n;
}

uint64_t StreamWriter::heartbeats() const {
  uint64_t n = 0;
  for (const auto& l : loops_) n += l->heartbeats.load(std::memory_order_relaxed);
  return n;
}

uint64_t StreamWriter::slow_disconnects() const {
  uint64_t n = 0;
  for (const auto& l : loops_) {
    n += l->slow_disconnects.load(std::memory_order_relaxed);
  }
  return n;
}

}  // namespace ssebridge
