// SseStream: one SSE connection of a StreamWriter. It is created by
// StreamWriter::Open on an HTTP thread, moves into its shard's WriterLoop on
// its first delivery (OnReady on the loop's thread) and is only touched by
// that thread from then on. It owns its socket and closes it in Close();
// the loop frees the stream at the end of the round that closed it.
#ifndef SSEBRIDGE_SSE_SSE_STREAM_H_
#define SSEBRIDGE_SSE_SSE_STREAM_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "bridge/core/subscription.h"
#include "bridge/sse/close_reason.h"
#include "bridge/sse/connection.h"
#include "bridge/sse/stream_writer.h"

namespace ssebridge {

class WriterLoop;

class SseStream : public SubscriptionSink, public Connection {
 public:
  SseStream(StreamWriter* writer, int fd, uint64_t id, StreamWriter::StreamOptions extra);

  void OnReady() override;
  // Writes as much of the queue as the socket takes.
  void Flush();
  void OnFdEvents(uint32_t events) override;
  void Close(CloseReason why) override;
  void Farewell(const std::string& bytes, CloseReason why) override;
  void HeartbeatIfIdle(absl::Time now, absl::Duration every) override;

  std::shared_ptr<Subscription> sub;
  bool closed() const override { return closed_; }
  absl::Time expires_at() const override { return expires_at_; }
  absl::Time opened_at() const override { return opened_at_; }
  const std::string& user_id() const override { return sub->user_id(); }
  const std::string& stream_key() const override;
  const std::string& client_ip() const { return client_ip_; }

 private:
  StreamWriter* writer_;
  // Tells the loop how much of this stream's queue the socket has not taken.
  void ReportQueued(size_t bytes);

  const uint64_t id_;  // the access log's stream number
  const absl::Time expires_at_;
  std::shared_ptr<void> hold_;  // StreamOptions::hold
  // StreamOptions::unavailable_response, until the first write.
  std::shared_ptr<const std::string> unavailable_response_;
  // Kept for the access log's closing line (StreamOptions::cursor is only
  // for the opening one: not kept).
  const std::string client_ip_;
  // StreamOptions::stream_key; null when none, as for most streams: every
  // idle stream would carry the room for it inline.
  std::unique_ptr<const std::string> stream_key_;
  WriterLoop* loop_ = nullptr;
  const absl::Time opened_at_ = absl::Now();
  absl::Time last_write_ = opened_at_;
  uint64_t bytes_written_ = 0;
  size_t queued_reported_ = 0;
  const int fd_;
  CloseReason closing_reason_ = CloseReason::kShutdown;
  const bool access_log_;
  bool closing_ = false;  // close once the queue is written
  bool closed_ = false;
};

}  // namespace ssebridge

#endif  // SSEBRIDGE_SSE_SSE_STREAM_H_
