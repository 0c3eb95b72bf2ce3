// IdempotencyWindow: remembers the answer to each idempotency key for a
// while, so a backend that retries a publish (after a timeout, a dropped
// stream, a redeploy) gets the first answer back and publishes nothing.
//
// Bounded by age and by count; the oldest keys go first. Not thread-safe: the
// owning broker serialises access, which also makes check-then-publish atomic.
//
// The window's keys are opaque; callers scope what a client sent with
// ScopedIdempotencyKey, so one publisher's "order-42" never answers another
// publisher's, nor the same publisher's on another channel.
#ifndef SSEBRIDGE_CORE_IDEMPOTENCY_WINDOW_H_
#define SSEBRIDGE_CORE_IDEMPOTENCY_WINDOW_H_

#include <deque>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace ssebridge {

struct PublishOutcome {
  std::string id;
  uint32_t subscribers = 0;
  absl::Time published_at;
  bool replayed = false;  // answered from the idempotency window
};

// The window key for `key` sent by publisher principal `principal` (a key
// name, "jwt:<sub>" or "anonymous") to `channel`. Length-prefixed, so no two
// (principal, channel, key) triples share a window key.
std::string ScopedIdempotencyKey(absl::string_view principal, absl::string_view channel,
                                 absl::string_view key);

class IdempotencyWindow {
 public:
  IdempotencyWindow(absl::Duration window, size_t max_keys)
      : window_(window), max_keys_(max_keys) {}

  // The remembered outcome for `key`, if it was recorded within the window.
  const PublishOutcome* Find(const std::string& key, absl::Time now);
  void Record(const std::string& key, const PublishOutcome& outcome, absl::Time now);
  // Forgets the outcomes recorded more than the window before `now` (and
  // the oldest beyond max_keys); Find and Record do it on their own.
  void Expire(absl::Time now);
  size_t size() const { return by_key_.size(); }

 private:
  struct Entry {
    PublishOutcome outcome;
    absl::Time recorded;
  };

  absl::Duration window_;
  size_t max_keys_;
  absl::flat_hash_map<std::string, Entry> by_key_;
  std::deque<std::string> order_;  // keys, oldest first
};

}  // namespace ssebridge

#endif  // SSEBRIDGE_CORE_IDEMPOTENCY_WINDOW_H_
