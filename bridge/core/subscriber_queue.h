// SubscriberQueue: what one connection still has to write, bounded in bytes.
//
// Entries share the events' encoded frames (no copy per recipient). A push
// that would exceed the byte limit applies the event channel's
// DeliveryPolicy (latest-only coalesces only once the reader is behind:
// more than half the limit unwritten). The limit counts the events still waiting: not control
// frames (headers, retry, a resume's catch-up), which are never dropped, and
// not the rest of an event already partly written, which is committed to the
// wire and can be neither dropped nor replaced.
//
// Gaps are marked: events dropped or replaced are counted, per channel, in
// an `ssebridge.dropped` notice (a control entry, never dropped) placed
// where the first lost event was. Further drops before it is written add to
// its counts (a page refetches either way); once it is on the wire the next
// drop starts a new notice.
//
// Not thread-safe; Subscription guards it. Once drained it keeps at most a
// few hundred bytes, so idle connections stay small after a burst.
#ifndef SSEBRIDGE_CORE_SUBSCRIBER_QUEUE_H_
#define SSEBRIDGE_CORE_SUBSCRIBER_QUEUE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "bridge/core/delivery_policy.h"
#include "bridge/core/event.h"

namespace ssebridge {

class SubscriberQueue {
 public:
  explicit SubscriberQueue(size_t max_bytes) : max_bytes_(max_bytes) {}

  enum class PushResult {
    kQueued,
    kOverflow,  // the reader must be disconnected; nothing was queued
  };

  // Queues a published event under `policy`. Events dropped or replaced to
  // make room are added to *dropped.
  PushResult Push(EventPtr event, DeliveryPolicy policy, uint64_t* dropped);
  // Queues a control frame regardless of the limit.
  void PushControl(EventPtr frame);
  // Encodes the `ssebridge.dropped` notices (the SSE encoder for SSE
  // streams; must outlive the queue). Without one a notice has no frame:
  // for consumers that take whole events (TakeAll) and read its fields.
  void set_notice_encoder(const EventEncoder* encoder) { encoder_ = encoder; }

  // Up to `max` unwritten byte ranges, in order (the first one starts at the
  // head's write offset). Returns how many were filled.
  size_t Peek(absl::string_view* out, size_t max) const;
  // Marks `n` bytes as written; releases entries that are done.
  void Consume(size_t n);
  void Clear();
  // Moves every queued entry to *out, dropping a partly written head's
  // remainder (for consumers that take whole events, like gRPC streams).
  void TakeAll(std::vector<EventPtr>* out);

  bool empty() const { return head_ == entries_.size(); }
  size_t bytes() const { return bytes_; }  // unwritten bytes
  size_t entries() const { return entries_.size() - head_; }
  size_t max_bytes() const { return max_bytes_; }
  // Events (catch-up included, not headers or heartbeats) written in full.
  uint64_t events_written() const { return events_written_; }

 private:
  struct Entry {
    EventPtr event;
    DeliveryPolicy policy;
    bool control;
    bool notice = false;  // an ssebridge.dropped notice (control too)
  };
  bool Droppable(size_t index) const;
  // The reader is behind: a latest-only event of `size` may replace one.
  bool Behind(size_t size) const { return LimitedBytes() + size > max_bytes_ / 2; }
  // Counts `lost` (channel -> events) into the unwritten notice, or a new
  // one at index `gap`.
  void MarkGap(const std::map<std::string, uint64_t>& lost, size_t gap);
  size_t LimitedBytes() const { return bytes_ - control_bytes_ - in_flight_bytes_; }
  void EraseAt(size_t index);
  void Compact();

  size_t max_bytes_;
  std::vector<Entry> entries_;
  size_t head_ = 0;         // first unwritten entry
  size_t head_offset_ = 0;  // bytes of entries_[head_] already written
  size_t bytes_ = 0;
  size_t control_bytes_ = 0;    // unwritten bytes of control entries
  size_t in_flight_bytes_ = 0;  // unwritten rest of a partly written event
  uint64_t events_written_ = 0;
  const EventEncoder* encoder_ = nullptr;
  // Of the unwritten notice. Made at the first gap: most readers never
  // have one, and an empty map inline is 48 bytes on every idle stream.
  std::unique_ptr<std::map<std::string, uint64_t>> notice_counts_;
};

}  // namespace ssebridge

#endif  // SSEBRIDGE_CORE_SUBSCRIBER_QUEUE_H_
