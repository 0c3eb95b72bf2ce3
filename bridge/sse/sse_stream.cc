#include "bridge/sse/sse_stream.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <mutex>

#include "bridge/ops/log.h"
#include "bridge/sse/access_log.h"
#include "bridge/sse/sse_encoder.h"
#include "bridge/sse/writer_loop.h"

namespace ssebridge {

namespace {
const EventPtr& HeartbeatFrame() {
  static const EventPtr frame = Event::Control(SseComment("keepalive"));
  return frame;
}
}  // namespace

SseStream::SseStream(StreamWriter* writer, int fd, uint64_t id, StreamWriter::StreamOptions extra)
    : writer_(writer),
      id_(id),
      expires_at_(extra.expires_at),
      hold_(std::move(extra.hold)),
      unavailable_response_(std::move(extra.unavailable_response)),
      client_ip_(std::move(extra.client_ip)),
      fd_(fd),
      access_log_(extra.access_log) {
  if (!extra.stream_key.empty()) {
    stream_key_ = std::make_unique<const std::string>(std::move(extra.stream_key));
  }
}

const std::string& SseStream::stream_key() const {
  static const std::string none;
  return stream_key_ == nullptr ? none : *stream_key_;
}

void SseStream::OnReady() {
  if (closed_) return;
  if (loop_ == nullptr) {
    loop_ = WriterLoop::current;
    loop_->Adopt(this, fd_);
    // Adopt may close this stream (epoll refused the fd).
    // cppcheck-suppress knownConditionTrueFalse
    if (closed_) return;
  }
  Flush();
}

void SseStream::Flush() {
  constexpr size_t kMaxIov = 128;
  absl::string_view parts[kMaxIov];
  iovec iov[kMaxIov];
  CloseReason why = CloseReason::kCount;  // kCount: keep going
  bool drained = false;
  size_t queued = 0;
  uint64_t written = 0;
  {
    std::lock_guard<std::mutex> lock(sub->mu);
    if (sub->broker_unavailable) {
      why = CloseReason::kBrokerUnavailable;
    } else if (sub->overflowed) {
      why = CloseReason::kSlowConsumer;
      loop_->slow_disconnects.fetch_add(1, std::memory_order_relaxed);
    }
    while (why == CloseReason::kCount && !sub->queue.empty()) {
      size_t n = sub->queue.Peek(parts, kMaxIov);
      for (size_t i = 0; i < n; ++i) {
        iov[i].iov_base = const_cast<char*>(parts[i].data());
        iov[i].iov_len = parts[i].size();
      }
      ssize_t w = ::writev(fd_, iov, static_cast<int>(n));
      if (w < 0) {
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) why = CloseReason::kWriteError;
        break;  // EAGAIN: EPOLLOUT (edge) resumes us
      }
      loop_->writes.fetch_add(1, std::memory_order_relaxed);
      sub->queue.Consume(static_cast<size_t>(w));
      written += static_cast<uint64_t>(w);
      last_write_ = absl::Now();
    }
    drained = sub->queue.empty();
    queued = sub->queue.bytes();
  }
  if (written > 0) {
    bytes_written_ += written;
    loop_->bytes_written.fetch_add(written, std::memory_order_relaxed);
    unavailable_response_.reset();  // the head is out: a 503 cannot follow
  }
  ReportQueued(queued);
  if (why == CloseReason::kBrokerUnavailable && bytes_written_ == 0 &&
      unavailable_response_ != nullptr) {
    // Small enough for the empty socket buffer of a fresh connection; the
    // request was read whole, so closing does not reset the answer away.
    const std::string& answer = *unavailable_response_;
    ssize_t sent = ::send(fd_, answer.data(), answer.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (sent > 0) bytes_written_ += static_cast<uint64_t>(sent);
    ::shutdown(fd_, SHUT_WR);
  }
  if (why != CloseReason::kCount) {
    Close(why);
  } else if (closing_ && drained) {
    Close(closing_reason_);
  }
}

void SseStream::ReportQueued(size_t bytes) {
  if (bytes == queued_reported_) return;  // the usual case: drained, still 0
  loop_->queued_bytes.fetch_add(
      static_cast<int64_t>(bytes) - static_cast<int64_t>(queued_reported_),
      std::memory_order_relaxed);
  queued_reported_ = bytes;
}

void SseStream::OnFdEvents(uint32_t events) {
  if (closed_) return;
  if (events & (EPOLLERR | EPOLLHUP | EPOLLRDHUP)) {
    Close(CloseReason::kClientClosed);
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
        Close(CloseReason::kClientClosed);
        return;
      }
      break;
    }
  }
  if (events & EPOLLOUT) Flush();
}

void SseStream::Farewell(const std::string& bytes, CloseReason why) {
  if (closed_ || closing_) return;
  closing_ = true;
  closing_reason_ = why;
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

void SseStream::Close(CloseReason why) {
  if (closed_) return;
  closed_ = true;
  hold_.reset();
  ReportQueued(0);
  loop_->closed[static_cast<size_t>(why)].fetch_add(1, std::memory_order_relaxed);
  if (access_log_) {
    uint64_t events;
    {
      std::lock_guard<std::mutex> lock(sub->mu);
      events = sub->queue.events_written();
    }
    LogStreamClose(id_, *sub, client_ip(), {absl::Now() - opened_at_, bytes_written_, events, why});
  }
  loop_->shard()->DetachNow(sub.get());
  loop_->Forget(this, fd_);
  ::close(fd_);
  writer_->streams_.Remove();
}

}  // namespace ssebridge
