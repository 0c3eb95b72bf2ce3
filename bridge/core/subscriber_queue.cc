#include "bridge/core/subscriber_queue.h"

#include <algorithm>

namespace ssebridge {

SubscriberQueue::PushResult SubscriberQueue::Push(EventPtr event,
                                                  DeliveryPolicy policy,
                                                  uint64_t* dropped) {
  const size_t size = event->frame.size();
  if (policy == DeliveryPolicy::kLatestOnly) {
    // Replace an unsent event of the same channel and type: the reader only
    // ever needs the newest value.
    for (size_t i = entries_.size(); i-- > head_;) {
      const Entry& e = entries_[i];
      if (!e.control && Droppable(i) && e.event->channel == event->channel &&
          e.event->type == event->type) {
        EraseAt(i);
        ++*dropped;
        break;
      }
    }
  }
  if (LimitedBytes() + size > max_bytes_) {
    if (policy == DeliveryPolicy::kDisconnect || size > max_bytes_) {
      return PushResult::kOverflow;
    }
    // Make room from the oldest droppable entries; if the ones that may not
    // be dropped already fill the queue, the reader has to go.
    size_t room_needed = LimitedBytes() + size - max_bytes_;
    size_t freeable = 0;
    for (size_t i = head_; i < entries_.size() && freeable < room_needed; ++i) {
      if (Droppable(i)) freeable += entries_[i].event->frame.size();
    }
    if (freeable < room_needed) return PushResult::kOverflow;
    for (size_t i = head_;
         i < entries_.size() && LimitedBytes() + size > max_bytes_;) {
      if (Droppable(i)) {
        EraseAt(i);
        ++*dropped;
      } else {
        ++i;
      }
    }
  }
  bytes_ += size;
  entries_.push_back(Entry{std::move(event), policy, false});
  return PushResult::kQueued;
}

void SubscriberQueue::PushControl(EventPtr frame) {
  bytes_ += frame->frame.size();
  control_bytes_ += frame->frame.size();
  entries_.push_back(Entry{std::move(frame), DeliveryPolicy::kDisconnect, true});
}

size_t SubscriberQueue::Peek(absl::string_view* out, size_t max) const {
  size_t n = 0;
  for (size_t i = head_; i < entries_.size() && n < max; ++i, ++n) {
    absl::string_view frame = entries_[i].event->frame;
    if (i == head_) frame.remove_prefix(head_offset_);
    out[n] = frame;
  }
  return n;
}

void SubscriberQueue::Consume(size_t n) {
  bytes_ -= n;
  while (n > 0 && head_ < entries_.size()) {
    size_t left = entries_[head_].event->frame.size() - head_offset_;
    size_t taken = std::min(n, left);
    if (entries_[head_].control) {
      control_bytes_ -= taken;
    } else if (head_offset_ == 0) {
      in_flight_bytes_ = left;  // this event is now committed to the wire
    }
    if (!entries_[head_].control) in_flight_bytes_ -= taken;
    if (n < left) {
      head_offset_ += n;
      return;
    }
    n -= left;
    if (!entries_[head_].event->is_control()) ++events_written_;
    entries_[head_].event.reset();
    ++head_;
    head_offset_ = 0;
  }
  // Skip fully consumed zero-length frames too.
  while (head_ < entries_.size() && entries_[head_].event->frame.empty()) {
    entries_[head_].event.reset();
    ++head_;
  }
  Compact();
}

void SubscriberQueue::Clear() {
  std::vector<Entry>().swap(entries_);
  head_ = 0;
  head_offset_ = 0;
  bytes_ = 0;
  control_bytes_ = 0;
  in_flight_bytes_ = 0;
}

void SubscriberQueue::TakeAll(std::vector<EventPtr>* out) {
  for (size_t i = head_; i < entries_.size(); ++i) {
    out->push_back(std::move(entries_[i].event));
  }
  Clear();
}

bool SubscriberQueue::Droppable(size_t index) const {
  const Entry& e = entries_[index];
  if (e.control || e.policy == DeliveryPolicy::kDisconnect) return false;
  return !(index == head_ && head_offset_ > 0);
}

void SubscriberQueue::EraseAt(size_t index) {
  bytes_ -= entries_[index].event->frame.size();  // never the control kind
  entries_.erase(entries_.begin() + static_cast<std::ptrdiff_t>(index));
}

void SubscriberQueue::Compact() {
  if (head_ == entries_.size()) {
    // Give a burst's memory back once drained: thousands of idle connections
    // must not each keep a large empty buffer.
    if (entries_.capacity() > 16) {
      std::vector<Entry>().swap(entries_);
    } else {
      entries_.clear();
    }
    head_ = 0;
  } else if (head_ > 64 && head_ * 2 > entries_.size()) {
    entries_.erase(entries_.begin(),
                   entries_.begin() + static_cast<std::ptrdiff_t>(head_));
    head_ = 0;
  }
}

}  // namespace ssebridge
