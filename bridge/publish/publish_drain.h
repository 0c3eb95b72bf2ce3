// PublishDrain: what shutdown waits for on the publish side. Tracks unary
// publishes in flight and open publish streams (of every publish service),
// so EndStreams() can end them all and WaitIdle() can wait until the last
// answer is written.
#ifndef SSEBRIDGE_PUBLISH_PUBLISH_DRAIN_H_
#define SSEBRIDGE_PUBLISH_PUBLISH_DRAIN_H_

#include <condition_variable>
#include <mutex>
#include <set>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"

namespace ssebridge {

// A stream EndStreams() can end; see OrderedStream::End().
class EndableStream {
 public:
  virtual ~EndableStream() = default;
  virtual void End() = 0;
};

class PublishDrain {
 public:
  // False once EndStreams() was called: answer UNAVAILABLE, publish nothing.
  bool BeginUnary();
  void EndUnary();

  // Creates a stream with `make(ending)` and tracks it until Forget(), unless
  // EndStreams() was already called (`ending`: it should end at once).
  template <typename Make>
  auto Open(Make make) -> decltype(make(false)) {
    std::lock_guard<std::mutex> lock(mu_);
    auto* stream = make(ending_);
    if (!ending_) streams_.insert(stream);
    return stream;
  }
  // The stream is done (called from its OnDone); a no-op if untracked.
  void Forget(EndableStream* stream);

  // Ends every tracked stream (each finishes what it is publishing first).
  void EndStreams();
  // After EndStreams(): waits until no unary publish is in flight and every
  // stream is done, or `deadline`. Returns whether it got there.
  bool WaitIdle(absl::Time deadline);

 private:
  std::mutex mu_;
  std::condition_variable idle_cv_;
  bool ending_ ABSL_GUARDED_BY(mu_) = false;
  int unary_in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  std::set<EndableStream*> streams_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ssebridge

#endif  // SSEBRIDGE_PUBLISH_PUBLISH_DRAIN_H_
