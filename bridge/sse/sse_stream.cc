#include "bridge/sse/sse_stream.h"

#include <sys/epoll.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <mutex>

#include "bridge/ops/log.h"
#include "bridge/sse/sse_encoder.h"
#include "bridge/sse/writer_loop.h"

namespace ssebridge {

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

}  // namespace ssebridge
