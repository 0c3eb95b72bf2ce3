#include "bridge/core/hub.h"

#include "absl/strings/str_cat.h"
#include "bridge/core/names.h"

namespace ssebridge {

// ---- HubShard -------------------------------------------------------------

void HubShard::Post(Command command) {
  bool was_empty;
  {
    std::lock_guard<std::mutex> lock(inbox_mu_);
    was_empty = inbox_.empty();
    inbox_.push_back(std::move(command));
  }
  if (was_empty && wake_) wake_();
}

void HubShard::PostEvent(EventPtr event, size_t deliveries) {
  bool was_empty;
  {
    std::lock_guard<std::mutex> lock(inbox_mu_);
    was_empty = inbox_.empty();
    inbox_.push_back(Command{Command::kEvent, std::move(event), nullptr, {}, nullptr});
  }
  if (was_empty) WakeOrDefer(deliveries);
}

void HubShard::PostEvents(const std::vector<EventPtr>& events, size_t deliveries) {
  if (events.empty()) return;
  bool was_empty;
  {
    std::lock_guard<std::mutex> lock(inbox_mu_);
    was_empty = inbox_.empty();
    for (const EventPtr& event : events) {
      inbox_.push_back(Command{Command::kEvent, event, nullptr, {}, nullptr});
    }
  }
  if (was_empty) WakeOrDefer(deliveries);
}

void HubShard::PostAttach(std::shared_ptr<Subscription> sub, std::vector<EventPtr> catch_up) {
  Post(Command{Command::kAttach, nullptr, std::move(sub), std::move(catch_up), nullptr});
}

void HubShard::DetachAndWait(const std::shared_ptr<Subscription>& sub) {
  DetachDone done;
  Post(Command{Command::kDetach, nullptr, sub, {}, &done});
  std::unique_lock<std::mutex> lock(done.mu);
  done.cv.wait(lock, [&done] { return done.done; });
}

void HubShard::Drain() {
  last_drain_ns_.store(SteadyNowNs(), std::memory_order_relaxed);
  {
    std::lock_guard<std::mutex> lock(inbox_mu_);
    draining_.swap(inbox_);
  }
  for (Command& c : draining_) Apply(c);
  draining_.clear();
  // Notify after applying everything: a burst turns into one write each.
  // ready_ holds references, and a subscription detached meanwhile (its
  // consumer may already be gone) is skipped.
  for (size_t i = 0; i < ready_.size(); ++i) {
    Subscription* sub = ready_[i].get();
    if (sub->shard_ != index_) continue;
    sub->ready_mark_ = false;
    sub->sink()->OnReady();  // may DetachNow(sub)
  }
  ready_.clear();
}

void HubShard::Apply(Command& c) {
  switch (c.kind) {
    case Command::kEvent: {
      const Event& ev = *c.event;
      if (ev.user_ids.empty()) {
        auto it = by_channel_.find(ev.channel);
        if (it == by_channel_.end()) return;
        for (const Slot& slot : it->second) {
          Deliver(slot.first, static_cast<int>(slot.second), c.event);
        }
      } else {
        for (const std::string& user : ev.user_ids) {
          auto it = by_user_.find(user);
          if (it == by_user_.end()) continue;
          for (Subscription* sub : it->second) {
            int ci = sub->ChannelIndex(ev.channel);
            if (ci >= 0) Deliver(sub, ci, c.event);
          }
        }
      }
      return;
    }
    case Command::kAttach: {
      Subscription* sub = c.sub.get();
      sub->shard_ = index_;
      sub->ready_mark_ = false;
      for (size_t i = 0; i < sub->channels_.size(); ++i) {
        auto& list = by_channel_[sub->channels_[i]];
        sub->slots_[i] = static_cast<uint32_t>(list.size());
        list.emplace_back(sub, static_cast<uint32_t>(i));
      }
      if (!sub->user_id_.empty()) {
        auto& list = by_user_[sub->user_id_];
        sub->user_slot_ = static_cast<uint32_t>(list.size());
        list.push_back(sub);
      }
      attached_.emplace(sub, std::move(c.sub));
      attached_count_.store(attached_.size(), std::memory_order_relaxed);
      CountResume(*sub, c.catch_up);
      {
        std::lock_guard<std::mutex> lock(sub->mu);
        // Catch-up frames are the reader's own backlog: never dropped.
        for (EventPtr& ev : c.catch_up) sub->queue.PushControl(std::move(ev));
      }
      MarkReady(sub);
      return;
    }
    case Command::kDetach:
      DetachNow(c.sub.get());
      {
        std::lock_guard<std::mutex> lock(c.done->mu);
        c.done->done = true;
        c.done->cv.notify_all();  // under the lock: the waiter owns *done
      }
      return;
  }
}

void HubShard::CountResume(const Subscription& sub, const std::vector<EventPtr>& catch_up) {
  // A broker that cannot honour a cursor puts an ssebridge.reset notice in
  // the catch-up (Broker::Attach), so the catch-up alone tells the outcome.
  std::atomic<uint64_t>* counter = &counters_.resumes_fresh;
  if (sub.resuming()) {
    counter = &counters_.resumes_replayed;
    for (const EventPtr& ev : catch_up) {
      if (ev != nullptr && ev->type == kResetEventType) {
        counter = &counters_.resumes_reset;
        break;
      }
    }
  }
  counter->fetch_add(1, std::memory_order_relaxed);
}

void HubShard::Deliver(Subscription* sub, int channel_index, const EventPtr& event) {
  uint64_t dropped = 0;
  {
    std::lock_guard<std::mutex> lock(sub->mu);
    if (sub->overflowed) return;
    auto result = sub->queue.Push(event, sub->policy(channel_index), &dropped);
    if (result == SubscriberQueue::PushResult::kOverflow) {
      sub->overflowed = true;
      sub->queue.Clear();
      counters_.overflow_disconnects.fetch_add(1, std::memory_order_relaxed);
    } else {
      counters_.deliveries.fetch_add(1, std::memory_order_relaxed);
    }
  }
  if (dropped) counters_.dropped.fetch_add(dropped, std::memory_order_relaxed);
  MarkReady(sub);
}

void HubShard::MarkReady(Subscription* sub) {
  if (sub->ready_mark_) return;
  sub->ready_mark_ = true;
  ready_.push_back(sub->shared_from_this());
}

void HubShard::DetachNow(Subscription* sub) {
  auto found = attached_.find(sub);
  if (found == attached_.end()) return;
  for (size_t i = 0; i < sub->channels_.size(); ++i) {
    auto it = by_channel_.find(sub->channels_[i]);
    auto& list = it->second;
    uint32_t pos = sub->slots_[i];
    if (pos + 1 != list.size()) {
      list[pos] = list.back();
      list[pos].first->slots_[list[pos].second] = pos;
    }
    list.pop_back();
    if (list.empty()) by_channel_.erase(it);
  }
  if (!sub->user_id_.empty()) {
    auto it = by_user_.find(sub->user_id_);
    auto& list = it->second;
    uint32_t pos = sub->user_slot_;
    if (pos + 1 != list.size()) {
      list[pos] = list.back();
      list[pos]->user_slot_ = pos;
    }
    list.pop_back();
    if (list.empty()) by_user_.erase(it);
  }
  sub->shard_ = -1;  // Drain() skips it from now on
  hub_->CountAttach(*sub, index_, -1);
  attached_.erase(found);  // may release the last reference to *sub
  attached_count_.store(attached_.size(), std::memory_order_relaxed);
}

// ---- Hub ------------------------------------------------------------------

Hub::Hub(int shards) {
  if (shards < 1) shards = 1;
  if (shards > static_cast<int>(kMaxShards)) shards = static_cast<int>(kMaxShards);
  for (int i = 0; i < shards; ++i) {
    shards_.push_back(std::make_unique<HubShard>(i));
    shards_.back()->hub_ = this;
  }
}

size_t Hub::TargetShards(const Event& event, size_t* targets, size_t* deliveries) const {
  if (event.user_ids.empty()) {
    auto it = per_channel_shard_.find(event.channel);
    if (it == per_channel_shard_.end()) return 0;
    size_t n = 0;
    for (size_t i = 0; i < it->second.size() && n < kMaxShards; ++i) {
      if (it->second[i] > 0) {
        deliveries[n] = it->second[i];
        targets[n++] = i;
      }
    }
    return n;
  }
  size_t per_shard[kMaxShards] = {};
  for (const std::string& user : event.user_ids) {
    auto it = per_channel_user_.find(absl::StrCat(event.channel, "\n", user));
    if (it == per_channel_user_.end()) continue;
    for (size_t i = 0; i < it->second.size() && i < kMaxShards; ++i) per_shard[i] += it->second[i];
  }
  size_t n = 0;
  for (size_t i = 0; i < shards_.size(); ++i) {
    if (per_shard[i] > 0) {
      deliveries[n] = per_shard[i];
      targets[n++] = i;
    }
  }
  return n;
}

void Hub::Dispatch(const EventPtr& event) {
  // Only shards holding a subscription the event reaches are woken: a
  // publish to a channel (or user) nobody reads here costs no thread a
  // wake-up.
  if (observer_) observer_(event);
  size_t targets[kMaxShards];
  size_t counts[kMaxShards];
  size_t n;
  {
    std::lock_guard<std::mutex> lock(counts_mu_);
    n = TargetShards(*event, targets, counts);
  }
  for (size_t i = 0; i < n; ++i) shards_[targets[i]]->PostEvent(event, counts[i]);
}

void Hub::DispatchBatch(const std::vector<EventPtr>& events) {
  if (events.size() == 1) return Dispatch(events.front());
  if (observer_) {
    for (const EventPtr& event : events) observer_(event);
  }
  std::vector<std::vector<EventPtr>> per_shard(shards_.size());
  std::vector<size_t> deliveries_per_shard(shards_.size(), 0);
  {
    std::lock_guard<std::mutex> lock(counts_mu_);
    size_t targets[kMaxShards];
    size_t counts[kMaxShards];
    for (const EventPtr& event : events) {
      const size_t n = TargetShards(*event, targets, counts);
      for (size_t i = 0; i < n; ++i) {
        per_shard[targets[i]].push_back(event);
        deliveries_per_shard[targets[i]] += counts[i];
      }
    }
  }
  for (size_t i = 0; i < per_shard.size(); ++i) {
    shards_[i]->PostEvents(per_shard[i], deliveries_per_shard[i]);
  }
}

void Hub::Attach(std::shared_ptr<Subscription> sub, std::vector<EventPtr> catch_up) {
  // Round robin: attach counts lag behind a burst of connects (they change
  // only when a shard drains), so "least loaded" would pile a burst on one.
  const size_t i = next_shard_.fetch_add(1, std::memory_order_relaxed) % shards_.size();
  CountAttach(*sub, static_cast<int>(i), +1);
  shards_[i]->PostAttach(std::move(sub), std::move(catch_up));
}

void Hub::AttachRefused(std::shared_ptr<Subscription> sub) {
  {
    std::lock_guard<std::mutex> lock(sub->mu);
    sub->overflowed = true;  // nothing is ever queued to it
    sub->broker_unavailable = true;
  }
  Attach(std::move(sub), {});
}

void Hub::Detach(const std::shared_ptr<Subscription>& sub) {
  for (auto& s : shards_) s->DetachAndWait(sub);
}

void Hub::CountAttach(const Subscription& sub, int shard_index, int delta) {
  std::lock_guard<std::mutex> lock(counts_mu_);
  for (const auto& channel : sub.channels()) {
    auto& per_shard = per_channel_shard_[channel];
    per_shard.resize(shards_.size());
    per_shard[static_cast<size_t>(shard_index)] += static_cast<uint32_t>(delta);
    bool any = false;
    for (uint32_t c : per_shard) any = any || c > 0;
    if (!any) per_channel_shard_.erase(channel);
    uint32_t& n = per_channel_[channel];
    n = static_cast<uint32_t>(static_cast<int64_t>(n) + delta);
    if (n == 0) per_channel_.erase(channel);
    if (!sub.user_id().empty()) {
      const std::string key = absl::StrCat(channel, "\n", sub.user_id());
      auto& per_user_shard = per_channel_user_[key];
      per_user_shard.resize(shards_.size());
      per_user_shard[static_cast<size_t>(shard_index)] += static_cast<uint32_t>(delta);
      bool any_user = false;
      for (uint32_t c : per_user_shard) any_user = any_user || c > 0;
      if (!any_user) per_channel_user_.erase(key);
    }
  }
}

uint32_t Hub::CountRecipients(const Event& event) const {
  std::lock_guard<std::mutex> lock(counts_mu_);
  if (event.user_ids.empty()) {
    auto it = per_channel_.find(event.channel);
    return it == per_channel_.end() ? 0 : it->second;
  }
  uint32_t n = 0;
  for (const auto& user : event.user_ids) {
    auto it = per_channel_user_.find(absl::StrCat(event.channel, "\n", user));
    if (it == per_channel_user_.end()) continue;
    for (uint32_t c : it->second) n += c;
  }
  return n;
}

std::vector<std::pair<std::string, uint32_t>> Hub::ChannelCounts() const {
  std::lock_guard<std::mutex> lock(counts_mu_);
  return {per_channel_.begin(), per_channel_.end()};
}

size_t Hub::subscriptions() const {
  size_t n = 0;
  for (const auto& s : shards_) n += s->attached();
  return n;
}

uint64_t Hub::deliveries() const {
  uint64_t n = 0;
  for (const auto& s : shards_) n += s->counters().deliveries.load();
  return n;
}

uint64_t Hub::dropped() const {
  uint64_t n = 0;
  for (const auto& s : shards_) n += s->counters().dropped.load();
  return n;
}

uint64_t Hub::resumes(ResumeOutcome outcome) const {
  uint64_t n = 0;
  for (const auto& s : shards_) {
    const HubCounters& c = s->counters();
    n += (outcome == ResumeOutcome::kFresh      ? c.resumes_fresh
          : outcome == ResumeOutcome::kReplayed ? c.resumes_replayed
                                                : c.resumes_reset)
             .load(std::memory_order_relaxed);
  }
  return n;
}

uint64_t Hub::overflow_disconnects() const {
  uint64_t n = 0;
  for (const auto& s : shards_) n += s->counters().overflow_disconnects.load();
  return n;
}

}  // namespace ssebridge
