#include "bridge/sse/writer_loop.h"

#include <sys/epoll.h>

#include <algorithm>
#include <vector>

#include "absl/time/clock.h"
#include "bridge/core/names.h"
#include "bridge/sse/sse_encoder.h"

namespace ssebridge {

namespace {
// Last words of a stream whose credential ran out: the page gets a fresh
// ticket or token and reconnects with its Last-Event-ID.
std::string AuthExpiredFrame() {
  return SseNotice(kAuthExpiredEventType, R"({"reason":"credential expired"})");
}
}  // namespace

thread_local WriterLoop* WriterLoop::current = nullptr;

WriterLoop::~WriterLoop() = default;

absl::Status WriterLoop::Init() {
  absl::StatusOr<std::unique_ptr<EventLoop>> loop = EventLoop::Create();
  if (!loop.ok()) return loop.status();
  loop_ = std::move(*loop);
  EventLoop* l = loop_.get();
  shard_->SetWake([l] { l->Wake(); });
  // A publisher with a delivery or two for this shard drains it itself
  // while the loop sleeps (InlineDrainScope): no wake-up per event.
  shard_->SetInlineDrain([l] { return l->TryRunWakeHookInline(); });
  loop_->SetWakeHook([this] {
    // An inline run is on the publisher's thread: streams adopted there
    // must still find their loop.
    WriterLoop* outer = current;
    current = this;
    shard_->Drain();
    current = outer;
  });
  const int64_t tick_ms =
      std::clamp<int64_t>(absl::ToInt64Milliseconds(writer_->options_.heartbeat) / 4, 10, 1000);
  loop_->RunEvery(absl::Milliseconds(tick_ms), [this] { ScanDeadlines(); });
  return absl::OkStatus();
}

void WriterLoop::Post(std::function<void()> task) { loop_->Post(std::move(task)); }

void WriterLoop::Join() {
  loop_->Post([this] { CloseEverything(); });
  loop_->Stop();
  if (thread_.joinable()) thread_.join();
}

void WriterLoop::Adopt(Connection* stream, int fd) {
  streams_.insert(stream);
  if (stopping_) {
    stream->Close(CloseReason::kShutdown);
    return;
  }
  if (!loop_->Watch(fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, stream).ok()) {
    stream->Close(CloseReason::kWriteError);
    return;
  }
  if (farewell_) {
    stream->Farewell(farewell_(), CloseReason::kShutdown);
    return;
  }
  // Opened before its user was disconnected but still attaching then (a
  // broker snapshot, a shard inbox): it is ended now, as if it had been
  // there.
  auto ended = ended_users_.find(stream->user_id());
  if (ended != ended_users_.end() && stream->opened_at() <= ended->second.at) {
    stream->Farewell(ended->second.bytes, CloseReason::kDisconnectedByAdmin);
  }
}

void WriterLoop::Forget(Connection* stream, int fd) {
  loop_->Unwatch(fd, stream);
  streams_.erase(stream);
  loop_->DeferDelete([stream] { delete stream; });
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
  std::vector<Connection*> all(streams_.begin(), streams_.end());
  for (Connection* s : all) {
    if (s->closed() || s->user_id() != user) continue;
    s->Farewell(bytes, CloseReason::kDisconnectedByAdmin);
    ++n;
  }
  return n;
}

uint32_t WriterLoop::EndKeyed(const std::string& user, const std::string& key) {
  uint32_t n = 0;
  std::vector<Connection*> all(streams_.begin(), streams_.end());
  for (Connection* s : all) {
    if (s->closed() || s->stream_key() != key || s->user_id() != user) continue;
    s->Close(CloseReason::kReplaced);
    ++n;
  }
  return n;
}

void WriterLoop::BeginFarewell(std::function<std::string()> farewell) {
  farewell_ = std::move(farewell);
  std::vector<Connection*> all(streams_.begin(), streams_.end());
  for (Connection* s : all) s->Farewell(farewell_(), CloseReason::kShutdown);
}

void WriterLoop::ScanDeadlines() {
  const absl::Time now = absl::Now();
  const absl::Duration every = writer_->options_.heartbeat;
  std::vector<Connection*> all(streams_.begin(), streams_.end());
  for (Connection* s : all) {
    if (s->closed()) continue;
    if (now >= s->expires_at()) {
      s->Farewell(AuthExpiredFrame(), CloseReason::kAuthExpired);
      continue;
    }
    s->HeartbeatIfIdle(now, every);
  }
}

void WriterLoop::CloseEverything() {
  // Stopping: whatever is still open is closed without ceremony; a stream
  // whose first delivery comes later (the wake hook's last drain) is closed
  // as it is adopted.
  stopping_ = true;
  std::vector<Connection*> all(streams_.begin(), streams_.end());
  for (Connection* s : all) s->Close(CloseReason::kShutdown);
}

void WriterLoop::Run() {
  current = this;
  loop_->Run();
  current = nullptr;
}

}  // namespace ssebridge
