#include "bridge/sse/stream_writer.h"

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>

#include "bridge/core/names.h"
#include "bridge/sse/access_log.h"
#include "bridge/sse/sse_encoder.h"
#include "bridge/sse/sse_stream.h"
#include "bridge/sse/writer_loop.h"

namespace ssebridge {

StreamWriter::StreamWriter(Options options, Hub* hub) : options_(options), hub_(hub) {}

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

std::shared_ptr<Subscription> StreamWriter::Open(int fd, Subscription::Options options,
                                                 const PolicyTable& policies, std::string head,
                                                 StreamOptions extra) {
  const uint64_t id = opened_.fetch_add(1, std::memory_order_relaxed) + 1;
  const bool access_log = extra.access_log;
  const std::string cursor = std::move(extra.cursor);  // the stream keeps no copy
  auto* stream = new SseStream(this, fd, id, std::move(extra));
  stream->sub = std::make_shared<Subscription>(std::move(options), policies, stream);
  if (access_log) {
    // The stream is not on a loop yet: nothing else touches it here.
    LogStreamOpen(id, *stream->sub, stream->client_ip(), cursor);
  }
  {
    static const SseEncoder kNoticeEncoder;  // for ssebridge.dropped notices
    std::lock_guard<std::mutex> lock(stream->sub->mu);
    stream->sub->queue.set_notice_encoder(&kNoticeEncoder);
    stream->sub->queue.PushControl(Event::Control(std::move(head)));
  }
  streams_.Add();
  return stream->sub;
}

void StreamWriter::CloseAll(const std::function<std::string()>& farewell) {
  for (auto& loop : loops_) {
    WriterLoop* l = loop.get();
    l->Post([l, farewell] { l->BeginFarewell(farewell); });
  }
}

uint32_t StreamWriter::OnEveryLoop(const std::function<uint32_t(WriterLoop&)>& task) {
  // Shared with the tasks: a loop that stops first never runs its task, and
  // the caller must not wait for it (nor leave it pointing at its stack).
  struct Tally {
    std::mutex mu;
    std::condition_variable cv;
    size_t pending = 0;
    uint32_t total = 0;
  };
  auto tally = std::make_shared<Tally>();
  tally->pending = loops_.size();
  for (auto& loop : loops_) {
    WriterLoop* l = loop.get();
    l->Post([tally, l, task] {
      const uint32_t n = task(*l);
      std::lock_guard<std::mutex> lock(tally->mu);
      tally->total += n;
      if (--tally->pending == 0) tally->cv.notify_all();
    });
  }
  std::unique_lock<std::mutex> lock(tally->mu);
  // Loops answer within a round; only a writer that is stopping does not.
  tally->cv.wait_for(lock, std::chrono::seconds(2), [&] { return tally->pending == 0; });
  return tally->total;
}

uint32_t StreamWriter::DisconnectUser(const std::string& user) {
  const std::string bytes =
      SseNotice(kDisconnectedEventType, R"({"reason":"disconnected by an administrator"})");
  return OnEveryLoop([user, bytes](WriterLoop& l) { return l.EndUser(user, bytes); });
}

uint32_t StreamWriter::ReplaceStream(const std::string& user, const std::string& key) {
  return OnEveryLoop([user, key](WriterLoop& l) { return l.EndKeyed(user, key); });
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

uint64_t StreamWriter::closed(CloseReason reason) const {
  uint64_t n = 0;
  for (const auto& l : loops_) {
    n += l->closed[static_cast<size_t>(reason)].load(std::memory_order_relaxed);
  }
  return n;
}

uint64_t StreamWriter::bytes_written() const {
  uint64_t n = 0;
  for (const auto& l : loops_) n += l->bytes_written.load(std::memory_order_relaxed);
  return n;
}

uint64_t StreamWriter::queued_bytes() const {
  int64_t n = 0;
  for (const auto& l : loops_) n += l->queued_bytes.load(std::memory_order_relaxed);
  return n > 0 ? static_cast<uint64_t>(n) : 0;
}

uint64_t StreamWriter::slow_disconnects() const {
  uint64_t n = 0;
  for (const auto& l : loops_) {
    n += l->slow_disconnects.load(std::memory_order_relaxed);
  }
  return n;
}

}  // namespace ssebridge
