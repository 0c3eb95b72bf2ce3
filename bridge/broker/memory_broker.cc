#include "bridge/broker/memory_broker.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "bridge/broker/reset_notice.h"
#include "bridge/core/event_id.h"

namespace ssebridge {

namespace {

// (event type, audience). Types cannot contain NUL, and each user id is
// length-prefixed, so no two audiences share a key.
std::string RetainedKey(const Event& event) {
  std::string key = absl::StrCat(event.type, std::string(1, '\0'));
  for (const auto& user : event.user_ids) {
    absl::StrAppend(&key, user.size(), ":", user);
  }
  return key;
}

}  // namespace

bool Audience(const Event& event, const Subscription& sub) {
  if (event.user_ids.empty()) return true;
  if (sub.user_id().empty()) return false;
  return std::binary_search(event.user_ids.begin(), event.user_ids.end(),
                            sub.user_id());
}

MemoryBroker::MemoryBroker(Options options, Hub* hub,
                           const EventEncoder* encoder)
    : options_(std::move(options)),
      epoch_(options_.epoch.empty() ? NewEpoch() : options_.epoch),
      hub_(hub),
      encoder_(encoder),
      idempotency_(options_.idempotency_window, options_.idempotency_max_keys) {}

absl::StatusOr<PublishOutcome> MemoryBroker::Publish(const PublishSpec& spec) {
  PublishSpec own = spec;
  std::vector<EventPtr> dispatch;
  std::lock_guard<std::mutex> lock(mu_);
  // Read under the lock, so publish times grow with seq (history expiry
  // relies on it).
  absl::StatusOr<PublishOutcome> outcome =
      PublishLocked(own, options_.clock(), &dispatch);
  if (!dispatch.empty()) hub_->Dispatch(dispatch.front());
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
  hub_->DispatchBatch(dispatch);
  return out;
}

absl::StatusOr<PublishOutcome> MemoryBroker::PublishLocked(
    PublishSpec& spec, absl::Time now, std::vector<EventPtr>* dispatch) {
  if (!spec.idempotency_key.empty()) {
    if (const PublishOutcome* seen = idempotency_.Find(spec.idempotency_key, now)) {
      PublishOutcome replay = *seen;
      replay.replayed = true;
      return replay;
    }
  }
  auto it = channels_.find(spec.channel);
  if (it == channels_.end()) {
    if (channels_.size() >= options_.max_channels) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "channel: the bridge already holds history for ",
          options_.max_channels, " channels (--max_channels)"));
    }
    it = channels_
             .emplace(spec.channel,
                      std::make_unique<Channel>(options_.history))
             .first;
    // It may have been swept away before: what it held then is gone too.
    it->second->history.MarkEvictedThrough(swept_through_);
  }

  auto ev = std::make_shared<Event>();
  ev->seq = ++seq_;
  ev->id = absl::StrCat(epoch_, "-", ev->seq);
  ev->channel = std::move(spec.channel);
  ev->type = std::move(spec.type);
  ev->data = std::move(spec.data);
  ev->user_ids = std::move(spec.user_ids);
  ev->retain = spec.retain;
  ev->published_at = now;
  ev->frame = encoder_->Encode(*ev);
  EventPtr event = std::move(ev);

  Channel& channel = *it->second;
  channel.history.Append(event, now);
  if (event->retain) {
    // One retained value per event type and audience: a per-user value must
    // not replace the value everybody else gets.
    channel.retained[RetainedKey(*event)] = event;
  }

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

void MemoryBroker::Attach(std::shared_ptr<Subscription> sub,
                          absl::string_view last_event_id) {
  const absl::Time now = options_.clock();
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<EventPtr> catch_up = CatchUp(*sub, last_event_id, now);
  hub_->Attach(std::move(sub), std::move(catch_up));
}

std::vector<EventPtr> MemoryBroker::CatchUp(const Subscription& sub,
                                            absl::string_view last_event_id,
                                            absl::Time now) const {
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
      std::sort(replay.begin(), replay.end(),
                [](const EventPtr& a, const EventPtr& b) { return a->seq < b->seq; });
      for (EventPtr& ev : replay) {
        if (Audience(*ev, sub)) out.push_back(std::move(ev));
      }
      return out;
    }
  }
  out.push_back(
      MakeResetNotice(epoch_, seq_, reason, last_event_id, now, *encoder_));
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
                                  std::vector<EventPtr>* out) const {
  (void)now;
  size_t first = out->size();
  for (const auto& name : sub.channels()) {
    auto it = channels_.find(name);
    if (it == channels_.end()) continue;
    for (const auto& [key, ev] : it->second->retained) {
      if (Audience(*ev, sub)) out->push_back(ev);
    }
  }
  std::sort(out->begin() + static_cast<std::ptrdiff_t>(first), out->end(),
            [](const EventPtr& a, const EventPtr& b) { return a->seq < b->seq; });
}

void MemoryBroker::Sweep(absl::Time now) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = channels_.begin(); it != channels_.end();) {
    Channel& ch = *it->second;
    ch.history.Expire(now);
    if (ch.history.empty() && ch.retained.empty()) {
      swept_through_ = std::max(swept_through_, ch.history.evicted_through());
      channels_.erase(it++);
    } else {
      ++it;
    }
  }
  idempotency_.Find("", now);  // trims expired keys
}

size_t MemoryBroker::channels() const {
  std::lock_guard<std::mutex> lock(mu_);
  return channels_.size();
}

uint64_t MemoryBroker::head_seq() const {
  std::lock_guard<std::mutex> lock(mu_);
  return seq_;
}

}  // namespace ssebridge
