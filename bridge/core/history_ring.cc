#include "bridge/core/history_ring.h"

#include <algorithm>

namespace ssebridge {

void HistoryRing::Append(EventPtr event, absl::Time now) {
  bytes_ += event->footprint();
  events_.push_back(std::move(event));
  while (!events_.empty() && (events_.size() > limits_.max_events || bytes_ > limits_.max_bytes)) {
    PopFront();
  }
  Expire(now);
}

void HistoryRing::Expire(absl::Time now) {
  if (limits_.max_age == absl::InfiniteDuration()) return;
  const absl::Time cutoff = now - limits_.max_age;
  while (!events_.empty() && events_.front()->published_at < cutoff) {
    PopFront();
  }
}

bool HistoryRing::ReplayAfter(uint64_t after_seq, absl::Time now,
                              std::vector<EventPtr>* out) const {
  if (evicted_through_ > after_seq) return false;
  auto it = std::upper_bound(events_.begin(), events_.end(), after_seq,
                             [](uint64_t s, const EventPtr& e) { return s < e->seq; });
  // Expiry is also applied on read, so an idle channel that nothing has swept
  // yet never replays past its age limit: an aged-out event after the cursor
  // is a gap like an evicted one. Times grow with seq, so the first one tells.
  if (it != events_.end() && limits_.max_age != absl::InfiniteDuration() &&
      (*it)->published_at < now - limits_.max_age) {
    return false;
  }
  out->insert(out->end(), it, events_.end());
  return true;
}

void HistoryRing::PopFront() {
  bytes_ -= events_.front()->footprint();
  evicted_through_ = events_.front()->seq;
  events_.pop_front();
}

}  // namespace ssebridge
