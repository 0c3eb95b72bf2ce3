#include "bridge/broker/memory/memory_broker.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "bridge/broker/reset_notice.h"
#include "bridge/core/event_id.h"

namespace ssebridge {

namespace {

// The slot of a targeted value: (event type, audience). Types cannot
// contain NUL, and each user id is length-prefixed, so no two audiences
// share a key. Public values are keyed by their type alone (another map).
std::string RetainedKey(const Event& event) {
  std::string key = absl::StrCat(event.type, std::string(1, '\0'));
  for (const auto& user : event.user_ids) {
    absl::StrAppend(&key, user.size(), ":", user);
  }
  return key;
}

bool BySeq(const EventPtr& a, const EventPtr& b) { return a->seq < b->seq; }

}  // namespace

MemoryBroker::MemoryBroker(Options options, Hub* hub, const EventEncoder* encoder)
    : options_(std::move(options)),
      epoch_(options_.epoch.empty() ? NewEpoch() : options_.epoch),
      hub_(hub),
      encoder_(encoder),
      feed_(hub),
      idempotency_(options_.idempotency_window, options_.idempotency_max_keys) {}

absl::StatusOr<PublishOutcome> MemoryBroker::Publish(const PublishSpec& spec) {
  PublishSpec own = spec;
  std::vector<EventPtr> dispatch;
  std::lock_guard<std::mutex> lock(mu_);
  // Read under the lock, so publish times grow with seq (history and
  // retained expiry rely on it).
  absl::StatusOr<PublishOutcome> outcome = PublishLocked(own, options_.clock(), &dispatch);
  if (!dispatch.empty()) feed_.Dispatch(dispatch.front());
  return outcome;
}

std::vector<absl::StatusOr<PublishOutcome>> MemoryBroker::PublishBatch(
    std::vector<PublishSpec>* specs) {
  std::vector<absl::StatusOr<PublishOutcome>> out;
  out.reserve(specs->size());
  std::vector<EventPtr> dispatch;
  dispatch.reserve(specs->size());
  std::lock_guard<std::mutex> lock(mu_);
  for (PublishSpec& spec : *specs) {
    out.push_back(PublishLocked(spec, options_.clock(), &dispatch));
  }
  feed_.DispatchBatch(dispatch);
  return out;
}

absl::Status MemoryBroker::CheckRetainedCaps(const Channel* channel, const Event& event,
                                             const std::string& key) const {
  const EventPtr* old = nullptr;
  if (channel != nullptr) {
    const auto& values =
        event.user_ids.empty() ? channel->public_retained : channel->targeted_retained;
    auto it = values.find(key);
    if (it != values.end()) old = &it->second;
  }
  const size_t count = channel == nullptr ? 0 : channel->retained_count();
  if (old == nullptr && count >= options_.retained.max_per_channel) {
    return absl::ResourceExhaustedError(
        absl::StrCat("retain: channel already holds ", count,
                     " retained values (--max_retained_per_channel); publish without "
                     "retain, or reuse an event type and audience"));
  }
  const size_t freed = old == nullptr ? 0 : (*old)->footprint();
  if (retained_bytes_ - freed + event.footprint() > options_.retained.max_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat("retain: retained values would exceed ",
                                                     options_.retained.max_bytes,
                                                     " bytes in all (--max_retained_bytes)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<PublishOutcome> MemoryBroker::PublishLocked(PublishSpec& spec, absl::Time now,
                                                           std::vector<EventPtr>* dispatch) {
  if (!spec.idempotency_key.empty()) {
    if (const PublishOutcome* seen = idempotency_.Find(spec.idempotency_key, now)) {
      PublishOutcome replay = *seen;
      replay.replayed = true;
      return replay;
    }
  }
  auto it = channels_.find(spec.channel);
  if (it == channels_.end() && channels_.size() >= options_.max_channels) {
    return absl::ResourceExhaustedError(
        absl::StrCat("channel: the bridge already holds history for ", options_.max_channels,
                     " channels (--max_channels)"));
  }

  auto ev = std::make_shared<Event>();
  ev->seq = seq_ + 1;
  ev->id = absl::StrCat(epoch_, "-", ev->seq);
  ev->channel = std::move(spec.channel);
  ev->type = std::move(spec.type);
  ev->data = std::move(spec.data);
  ev->user_ids = std::move(spec.user_ids);
  ev->retain = spec.retain;
  ev->published_at = now;
  ev->frame = encoder_->Encode(*ev);
  std::string retained_key;
  if (ev->retain) {
    retained_key = ev->user_ids.empty() ? ev->type : RetainedKey(*ev);
    // Before anything is stored: a refused retained publish is not
    // published at all, so the publisher's error is the whole story.
    absl::Status capped =
        CheckRetainedCaps(it == channels_.end() ? nullptr : it->second.get(), *ev, retained_key);
    if (!capped.ok()) return capped;
  }
  ++seq_;
  EventPtr event = std::move(ev);

  if (it == channels_.end()) {
    it = channels_
             .emplace(event->channel, std::make_unique<Channel>(event->channel, options_.history))
             .first;
    // It may have been swept away before: what it held then is gone too.
    it->second->history.MarkEvictedThrough(swept_through_);
  }
  Channel& channel = *it->second;
  ChangeHistory(channel, [&](HistoryRing& h) { h.Append(event, now); });
  if (event->retain) StoreRetained(channel, event, retained_key);
  EnforceHistoryBudget();

  PublishOutcome outcome;
  outcome.id = event->id;
  outcome.published_at = now;
  outcome.subscribers = hub_->CountRecipients(*event);
  dispatch->push_back(std::move(event));
  if (!spec.idempotency_key.empty()) {
    idempotency_.Record(spec.idempotency_key, outcome, now);
  }
  return outcome;
}

void MemoryBroker::StoreRetained(Channel& channel, EventPtr event, const std::string& key) {
  // One value per event type and audience: a per-user value must not
  // replace the value everybody else gets.
  const bool targeted = !event->user_ids.empty();
  auto& values = targeted ? channel.targeted_retained : channel.public_retained;
  EventPtr& slot = values[key];
  if (slot != nullptr) {
    retained_bytes_ -= slot->footprint();
    retained_by_seq_.erase(slot->seq);
  } else if (targeted) {
    for (const std::string& user : event->user_ids) channel.by_user[user].insert(key);
  }
  retained_bytes_ += event->footprint();
  retained_by_seq_.emplace(event->seq, RetainedSlot{&channel, key, targeted});
  slot = std::move(event);
}

void MemoryBroker::EraseRetained(const RetainedSlot& where) {
  Channel& channel = *where.channel;
  auto& values = where.targeted ? channel.targeted_retained : channel.public_retained;
  auto it = values.find(where.key);
  if (it == values.end()) return;
  retained_bytes_ -= it->second->footprint();
  if (where.targeted) {
    for (const std::string& user : it->second->user_ids) {
      auto u = channel.by_user.find(user);
      if (u == channel.by_user.end()) continue;
      u->second.erase(where.key);
      if (u->second.empty()) channel.by_user.erase(u);
    }
  }
  values.erase(it);
}

template <typename F>
void MemoryBroker::ChangeHistory(Channel& channel, F change) {
  HistoryRing& h = channel.history;
  const size_t bytes_before = h.bytes();
  if (!h.empty()) by_oldest_.erase({h.oldest_seq(), &channel});
  change(h);
  history_bytes_ = history_bytes_ - bytes_before + h.bytes();
  if (!h.empty()) by_oldest_.emplace(h.oldest_seq(), &channel);
}

void MemoryBroker::EnforceHistoryBudget() {
  const size_t budget = options_.max_history_bytes_total;
  while (budget > 0 && history_bytes_ > budget && !by_oldest_.empty()) {
    Channel* oldest = by_oldest_.begin()->second;
    ChangeHistory(*oldest, [](HistoryRing& h) { h.DropOldest(); });
    ++budget_evictions_;
  }
}

absl::Status MemoryBroker::Attach(std::shared_ptr<Subscription> sub,
                                  absl::string_view last_event_id) {
  // The hand-over (hub_feed.h): events published from here on are kept for
  // `sub`; the snapshot is read under the publish lock, so every event up
  // to `head` was dispatched before it.
  std::shared_ptr<HubFeed::Pending> pending = feed_.Begin(sub);
  std::vector<EventPtr> catch_up;
  uint64_t head;
  {
    const absl::Time now = options_.clock();
    std::lock_guard<std::mutex> lock(mu_);
    catch_up = CatchUp(*sub, last_event_id, now);
    head = seq_;
  }
  feed_.Finish(pending, std::move(catch_up), head);
  return absl::OkStatus();
}

std::vector<EventPtr> MemoryBroker::CatchUp(const Subscription& sub,
                                            absl::string_view last_event_id, absl::Time now) {
  std::vector<EventPtr> out;
  if (last_event_id.empty()) {
    AppendRetained(sub, now, &out);
    out.push_back(HeadCursor());
    return out;
  }
  absl::string_view reason;
  absl::StatusOr<EventId> cursor = ParseEventId(last_event_id, "Last-Event-ID");
  if (!cursor.ok()) {
    reason = kResetMalformed;
  } else if (cursor->epoch != epoch_) {
    reason = kResetUnknownEpoch;
  } else if (cursor->seq > seq_) {
    reason = kResetAhead;
  } else {
    std::vector<EventPtr> replay;
    for (const auto& name : sub.channels()) {
      auto it = channels_.find(name);
      if (it == channels_.end()) {
        // Never published to, or swept away once all its events expired:
        // a cursor from before the newest swept event may have missed it.
        if (cursor->seq < swept_through_) {
          reason = kResetTooOld;
          break;
        }
        continue;
      }
      if (!it->second->history.ReplayAfter(cursor->seq, now, &replay)) {
        reason = kResetTooOld;
        break;
      }
    }
    if (reason.empty()) {
      std::sort(replay.begin(), replay.end(), BySeq);
      for (EventPtr& ev : replay) {
        if (Audience(*ev, sub)) out.push_back(std::move(ev));
      }
      return out;
    }
  }
  out.push_back(MakeResetNotice(epoch_, seq_, reason, last_event_id, now, *encoder_));
  AppendRetained(sub, now, &out);
  out.push_back(HeadCursor());
  return out;
}

// Retained values carry the ids they were published with, often older than
// the history; ending the snapshot with the head id puts the reader's cursor
// at the point where its live stream starts, so a reconnect resumes from
// there instead of resetting or replaying what the snapshot already covered.
// A fresh reader with nothing retained gets it too: a reconnect before its
// first event still resumes instead of silently starting over.
EventPtr MemoryBroker::HeadCursor() const {
  auto cursor = std::make_shared<Event>();
  cursor->seq = seq_;
  cursor->id = absl::StrCat(epoch_, "-", seq_);
  cursor->frame = encoder_->EncodeCursor(cursor->id);
  return cursor;  // no type: a control frame that carries an id
}

void MemoryBroker::AppendRetained(const Subscription& sub, absl::Time now,
                                  std::vector<EventPtr>* out) {
  const absl::Time cutoff = options_.retained.ttl == absl::InfiniteDuration()
                                ? absl::InfinitePast()
                                : now - options_.retained.ttl;
  const size_t first = out->size();
  auto take = [&](const EventPtr& ev) {
    ++retained_examined_;
    // Not swept yet but past its age: as good as gone.
    if (ev->published_at >= cutoff) out->push_back(ev);
  };
  for (const auto& name : sub.channels()) {
    auto it = channels_.find(name);
    if (it == channels_.end()) continue;
    const Channel& channel = *it->second;
    for (const auto& [type, ev] : channel.public_retained) take(ev);
    if (sub.user_id().empty()) continue;
    auto mine = channel.by_user.find(sub.user_id());
    if (mine == channel.by_user.end()) continue;
    for (const std::string& key : mine->second) {
      take(channel.targeted_retained.at(key));
    }
  }
  std::sort(out->begin() + static_cast<std::ptrdiff_t>(first), out->end(), BySeq);
}

void MemoryBroker::Sweep(absl::Time now) {
  std::lock_guard<std::mutex> lock(mu_);
  if (options_.retained.ttl != absl::InfiniteDuration()) {
    const absl::Time cutoff = now - options_.retained.ttl;
    while (!retained_by_seq_.empty()) {
      auto oldest = retained_by_seq_.begin();
      const Channel& channel = *oldest->second.channel;
      const auto& values =
          oldest->second.targeted ? channel.targeted_retained : channel.public_retained;
      auto value = values.find(oldest->second.key);
      if (value != values.end() && value->second->published_at >= cutoff) break;
      EraseRetained(oldest->second);
      retained_by_seq_.erase(oldest);
      ++retained_expired_;
    }
  }
  for (auto it = channels_.begin(); it != channels_.end();) {
    Channel& ch = *it->second;
    ChangeHistory(ch, [now](HistoryRing& h) { h.Expire(now); });
    if (ch.history.empty() && ch.retained_count() == 0) {
      swept_through_ = std::max(swept_through_, ch.history.evicted_through());
      channels_.erase(it++);
    } else {
      ++it;
    }
  }
  idempotency_.Expire(now);
}

BrokerMetrics MemoryBroker::metrics() const {
  std::lock_guard<std::mutex> lock(mu_);
  BrokerMetrics m;
  m.ready = true;
  m.channels = channels_.size();
  m.history_bytes = history_bytes_;
  m.retained_values = retained_by_seq_.size();
  m.retained_bytes = retained_bytes_;
  m.history_budget_evictions = budget_evictions_;
  m.retained_expired = retained_expired_;
  return m;
}

size_t MemoryBroker::channels() const {
  std::lock_guard<std::mutex> lock(mu_);
  return channels_.size();
}

uint64_t MemoryBroker::head_seq() const {
  std::lock_guard<std::mutex> lock(mu_);
  return seq_;
}

uint64_t MemoryBroker::retained_examined() const {
  std::lock_guard<std::mutex> lock(mu_);
  return retained_examined_;
}

}  // namespace ssebridge
