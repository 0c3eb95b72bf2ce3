#include "bridge/publish/publish_drain.h"

namespace ssebridge {

bool PublishDrain::BeginUnary() {
  std::lock_guard<std::mutex> lock(mu_);
  if (ending_) return false;
  ++unary_in_flight_;
  return true;
}

void PublishDrain::EndUnary() {
  std::lock_guard<std::mutex> lock(mu_);
  --unary_in_flight_;
  idle_cv_.notify_all();
}

void PublishDrain::Forget(EndableStream* stream) {
  std::lock_guard<std::mutex> lock(mu_);
  streams_.erase(stream);
  idle_cv_.notify_all();
}

void PublishDrain::EndStreams() {
  std::lock_guard<std::mutex> lock(mu_);
  ending_ = true;
  // Lock order: drain, then the stream's own lock (End() never calls back).
  for (EndableStream* s : streams_) s->End();
}

bool PublishDrain::WaitIdle(absl::Time deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  return idle_cv_.wait_until(lock, absl::ToChronoTime(deadline),
                             [this] { return unary_in_flight_ == 0 && streams_.empty(); });
}

}  // namespace ssebridge
