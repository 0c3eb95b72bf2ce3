// HistoryRing: the recent events of one channel, for resume after reconnect.
//
// Bounded three ways (count, bytes, age); whatever falls out is remembered
// only as `evicted_through()`, the highest seq ever dropped, so that a cursor
// older than what the ring still holds is detected as a gap instead of being
// silently replayed with a hole in it. Not thread-safe: the owning broker
// serialises access.
#ifndef SSEBRIDGE_CORE_HISTORY_RING_H_
#define SSEBRIDGE_CORE_HISTORY_RING_H_

#include <cstdint>
#include <deque>
#include <vector>

#include "absl/time/time.h"
#include "bridge/core/event.h"

namespace ssebridge {

struct HistoryLimits {
  size_t max_events = 1000;
  size_t max_bytes = 1 << 20;
  absl::Duration max_age = absl::Hours(1);  // InfiniteDuration: no limit
};

class HistoryRing {
 public:
  explicit HistoryRing(const HistoryLimits& limits) : limits_(limits) {}

  // `event->seq` must exceed every seq appended before.
  void Append(EventPtr event, absl::Time now);
  // Drops events older than max_age.
  void Expire(absl::Time now);

  // Appends to `out` every event with seq > after_seq, oldest first. Returns
  // false (and appends nothing) when some event after `after_seq` has been
  // evicted, i.e. the ring cannot replay without a gap.
  bool ReplayAfter(uint64_t after_seq, absl::Time now, std::vector<EventPtr>* out) const;

  // Records that events up to `seq` are gone (e.g. with a predecessor ring).
  void MarkEvictedThrough(uint64_t seq) {
    if (seq > evicted_through_) evicted_through_ = seq;
  }

  // Evicts the oldest event (a global memory budget, see MemoryBroker);
  // a cursor before it then gets a reset, like any eviction. No-op if empty.
  void DropOldest() {
    if (!events_.empty()) PopFront();
  }
  // The seq of the oldest event held; 0 when empty.
  uint64_t oldest_seq() const { return events_.empty() ? 0 : events_.front()->seq; }

  bool empty() const { return events_.empty(); }
  size_t size() const { return events_.size(); }
  size_t bytes() const { return bytes_; }
  uint64_t evicted_through() const { return evicted_through_; }

 private:
  void PopFront();

  HistoryLimits limits_;
  std::deque<EventPtr> events_;
  size_t bytes_ = 0;
  uint64_t evicted_through_ = 0;
};

}  // namespace ssebridge

#endif  // SSEBRIDGE_CORE_HISTORY_RING_H_
