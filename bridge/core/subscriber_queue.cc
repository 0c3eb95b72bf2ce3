#include "bridge/core/subscriber_queue.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "bridge/core/json_text.h"

namespace ssebridge {

SubscriberQueue::PushResult SubscriberQueue::Push(EventPtr event, DeliveryPolicy policy,
                                                  uint64_t* dropped) {
  const size_t size = event->frame.size();
  std::map<std::string, uint64_t> lost;
  size_t gap = entries_.size();  // where the first lost event was
  if (policy == DeliveryPolicy::kLatestOnly && Behind(size)) {
    // The reader is behind: replace an unsent event of the same channel and
    // type, as the reader only needs the newest value. A reader that keeps
    // up gets every one (a burst is not a backlog).
    for (size_t i = entries_.size(); i-- > head_;) {
      const Entry& e = entries_[i];
      if (!e.control && Droppable(i) && e.event->channel == event->channel &&
          e.event->type == event->type) {
        ++lost[e.event->channel];
        gap = std::min(gap, i);
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
    if (freeable < room_needed) {
      if (!lost.empty()) MarkGap(lost, gap);
      return PushResult::kOverflow;
    }
    for (size_t i = head_; i < entries_.size() && LimitedBytes() + size > max_bytes_;) {
      if (Droppable(i)) {
        ++lost[entries_[i].event->channel];
        gap = std::min(gap, i);
        EraseAt(i);
        ++*dropped;
      } else {
        ++i;
      }
    }
  }
  if (!lost.empty()) MarkGap(lost, gap);
  bytes_ += size;
  entries_.push_back(Entry{std::move(event), policy, false});
  return PushResult::kQueued;
}

void SubscriberQueue::MarkGap(const std::map<std::string, uint64_t>& lost, size_t gap) {
  // A notice not yet started on the wire takes the new counts (there is at
  // most one); otherwise a new one goes where the first lost event was.
  size_t at = gap;
  bool reuse = false;
  for (size_t i = head_ + (head_offset_ > 0 ? 1 : 0); i < entries_.size(); ++i) {
    if (entries_[i].notice) {
      at = i;
      reuse = true;
      break;
    }
  }
  if (notice_counts_ == nullptr) {
    notice_counts_ = std::make_unique<std::map<std::string, uint64_t>>();
  } else if (!reuse) {
    notice_counts_->clear();
  }
  for (const auto& [channel, n] : lost) (*notice_counts_)[channel] += n;
  auto notice = std::make_shared<Event>();
  notice->type = std::string(kDroppedEventType);
  uint64_t total = 0;
  std::string channels;
  for (const auto& [channel, n] : *notice_counts_) {
    total += n;
    absl::StrAppend(&channels, channels.empty() ? "" : ",", JsonQuote(channel), ":", n);
  }
  notice->data = absl::StrCat("{\"dropped\":", total, ",\"channels\":{", channels, "}}");
  if (encoder_ != nullptr) notice->frame = encoder_->Encode(*notice);
  const size_t size = notice->frame.size();
  if (reuse) {
    const size_t old = entries_[at].event->frame.size();
    bytes_ = bytes_ - old + size;
    control_bytes_ = control_bytes_ - old + size;
    entries_[at].event = std::move(notice);
    return;
  }
  bytes_ += size;
  control_bytes_ += size;
  entries_.insert(entries_.begin() + static_cast<std::ptrdiff_t>(at),
                  Entry{std::move(notice), DeliveryPolicy::kDisconnect, true, true});
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
    if (!entries_[head_].event->is_control() && !entries_[head_].notice) {
      ++events_written_;
    }
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
  notice_counts_.reset();
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
    entries_.erase(entries_.begin(), entries_.begin() + static_cast<std::ptrdiff_t>(head_));
    head_ = 0;
  }
}

}  // namespace ssebridge
