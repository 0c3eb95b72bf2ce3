// RedisFanout, its (re)connect: the subscribe, the reader's server identity, and the
// recovery read that hands the hub what Redis accepted while this replica
// was away (see "When the connection drops" and "Time travel" in
// redis_fanout.h). The rest of the class is in redis_fanout.cc.
#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "bridge/broker/redis/redis_codec.h"
#include "bridge/broker/redis/redis_fanout.h"
#include "bridge/broker/redis/redis_reply.h"
#include "bridge/broker/redis/redis_scripts.h"
#include "bridge/broker/redis/redis_snapshot.h"
#include "bridge/broker/reset_notice.h"
#include "bridge/core/event_id.h"

namespace ssebridge {

absl::Status RedisFanout::Connect() {
  absl::StatusOr<std::unique_ptr<RedisConnection>> sub = RedisConnection::Connect(options_.connect);
  if (!sub.ok()) return sub.status();
  absl::StatusOr<std::unique_ptr<RedisConnection>> reader =
      RedisConnection::Connect(options_.connect);
  if (!reader.ok()) return reader.status();
  sub_ = std::move(*sub);
  reader_ = std::move(*reader);
  // The reader's INFO travels while the SUBSCRIBE below is answered: a
  // frozen Redis then costs no wait beyond the subscribe's own.
  if (options_.reset_on_primary_change) {
    reader_->RequestIdentity();
    absl::Status asked = reader_->Flush();
    if (!asked.ok()) return asked;
  }

  std::vector<std::string> channels;
  std::vector<std::string> args = {NewEpoch()};
  std::vector<std::string> keys = {keys_.epoch(), keys_.seq()};
  {
    std::lock_guard<std::mutex> lock(mu_);
    channels.assign(subscribed_.begin(), subscribed_.end());
    args.push_back(epoch_.empty() ? "-" : epoch_);
    args.push_back(absl::StrCat(high_water_));
    for (const auto& ch : channels) {
      uint64_t pos = 0;
      args.push_back(positions_.Get(ch, &pos) ? absl::StrCat(pos) : "-");
      keys.push_back(keys_.history(ch));
      keys.push_back(keys_.meta(ch));
    }
  }
  if (!channels.empty()) {
    std::vector<std::string> subscribe = {"SUBSCRIBE"};
    for (const auto& ch : channels) subscribe.push_back(keys_.topic(ch));
    sub_->Append(subscribe);
  }
  sub_->Append({"PING", "r"});
  absl::Status s = sub_->Flush();
  if (!s.ok()) return s;
  // Live events that come before the recovery read are held back until it
  // was handed to the hub; positions then drop those it already covered.
  std::vector<RedisReplyPtr> held;
  for (;;) {
    absl::StatusOr<RedisReplyPtr> r = sub_->Read();
    if (!r.ok()) return r.status();
    absl::string_view token;
    if (IsPong(**r, &token) && token == "r") break;
    held.push_back(std::move(*r));
  }
  if (options_.reset_on_primary_change) {
    absl::Status learned = reader_->ReadIdentity();
    if (!learned.ok()) return learned;
    if (reader_->server_identity().empty() && !owner_warned_ && options_.on_state) {
      owner_warned_ = true;
      options_.on_state("redis_epoch_owner_unknown", OwnerUnknown(reader_->identity_refusal()));
    }
  }
  keys.push_back(keys_.epoch_owner());
  args.push_back(reader_->server_identity());
  absl::StatusOr<RedisReplyPtr> r = reader_->Eval(kRecoverScript, keys, args);
  if (!r.ok()) return r.status();
  absl::StatusOr<ScriptReply> rec = ParseScriptReply(**r);
  if (!rec.ok()) return rec.status();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!epoch_.empty() && rec->epoch != epoch_) {
      // Redis lost its data (restart, flush): nothing can be replayed.
      for (const auto& ch : channels) {
        ResetChannel(ch, rec->epoch, rec->head, kResetUnknownEpoch);
      }
      positions_.Clear();
    } else if (!epoch_.empty()) {
      std::vector<EventPtr> events;
      for (const ScriptItem& item : rec->items) {
        if (EventPtr ev = ItemEvent(item, rec->epoch, channels, *encoder_)) {
          events.push_back(std::move(ev));
        }
      }
      std::sort(events.begin(), events.end(),
                [](const EventPtr& a, const EventPtr& b) { return a->seq < b->seq; });
      for (size_t i = 0; i < channels.size() && i < rec->too_old.size(); ++i) {
        if (rec->too_old[i]) {
          ResetChannel(channels[i], rec->epoch, rec->head, kResetTooOld);
          positions_.Raise(channels[i], rec->head);
        }
      }
      for (EventPtr& ev : events) {
        if (positions_.Admit(ev->channel, ev->seq)) feed_->Dispatch(ev);
      }
    }
    if (rec->epoch != epoch_) high_water_ = 0;
    epoch_ = rec->epoch;
    high_water_ = std::max(high_water_, rec->head);
    for (const auto& ch : channels) positions_.Raise(ch, rec->head);
    connected_ = true;
  }
  for (const RedisReplyPtr& reply : held) HandleReply(*reply);
  ping_sent_ = absl::Now();
  return absl::OkStatus();
}

void RedisFanout::ResetChannel(const std::string& channel, const std::string& epoch, uint64_t head,
                               absl::string_view reason) {
  uint64_t pos = 0;
  std::string cursor = positions_.Get(channel, &pos) ? absl::StrCat(epoch_, "-", pos) : "";
  auto notice = std::make_shared<Event>(
      *MakeResetNotice(epoch, head, reason, cursor, absl::Now(), *encoder_));
  notice->channel = channel;
  feed_->Dispatch(notice);
}

}  // namespace ssebridge
