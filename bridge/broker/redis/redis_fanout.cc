#include "bridge/broker/redis/redis_fanout.h"

#include <sys/epoll.h>

#include <algorithm>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "bridge/broker/redis/redis_codec.h"
#include "bridge/broker/redis/redis_reply.h"
#include "bridge/broker/redis/redis_scripts.h"
#include "bridge/broker/redis/redis_snapshot.h"
#include "bridge/broker/reset_notice.h"
#include "bridge/core/event_id.h"

namespace ssebridge {

RedisFanout::RedisFanout(Options options, Hub* hub, HubFeed* feed, const EventEncoder* encoder)
    : options_(std::move(options)),
      keys_(options_.prefix),
      hub_(hub),
      feed_(feed),
      encoder_(encoder),
      backoff_(options_.backoff.min) {}

RedisFanout::~RedisFanout() { Stop(); }

absl::Status RedisFanout::Start() {
  absl::StatusOr<std::unique_ptr<EventLoop>> loop = EventLoop::Create();
  if (!loop.ok()) return loop.status();
  loop_ = std::move(*loop);
  loop_->SetWakeHook([this] { SendOutbox(); });
  // The heartbeat also times out an unanswered PING: check often enough
  // that the command timeout is kept to within a tenth of a second.
  loop_->RunEvery(std::min(options_.heartbeat, absl::Milliseconds(100)), [this] { Heartbeat(); });
  loop_->Post([this] { TryConnect(); });
  thread_ = std::thread([this] {
    loop_->Run();
    if (sub_ != nullptr) loop_->Unwatch(sub_->fd(), this);
    sub_.reset();
    reader_.reset();
    std::lock_guard<std::mutex> lock(mu_);
    connected_ = false;
  });
  return absl::OkStatus();
}

void RedisFanout::Stop() {
  if (!thread_.joinable()) return;
  stopping_.store(true);
  loop_->Stop();
  thread_.join();
}

void RedisFanout::Wake() {
  if (loop_ != nullptr) loop_->Wake();
}

bool RedisFanout::connected() const {
  std::lock_guard<std::mutex> lock(mu_);
  return connected_;
}

std::string RedisFanout::epoch() const {
  std::lock_guard<std::mutex> lock(mu_);
  return epoch_;
}

uint64_t RedisFanout::HighWater(std::string* epoch) const {
  std::lock_guard<std::mutex> lock(mu_);
  *epoch = epoch_;
  return high_water_;
}

void RedisFanout::NoteSeq(const std::string& epoch, uint64_t seq) {
  std::lock_guard<std::mutex> lock(mu_);
  if (epoch == epoch_) high_water_ = std::max(high_water_, seq);
}

// ---- attach ---------------------------------------------------------------

void RedisFanout::ReleaseInterest(const Subscription& sub) {
  for (const auto& ch : sub.channels()) {
    auto it = pending_interest_.find(ch);
    if (it != pending_interest_.end() && --it->second <= 0) pending_interest_.erase(it);
  }
}

void RedisFanout::FailPending(PendingAttach& p) {
  if (p.stage == PendingAttach::Stage::kDone || p.stage == PendingAttach::Stage::kFailed) {
    return;
  }
  p.stage = PendingAttach::Stage::kFailed;
  feed_->Abandon(p.hand_over());
  ReleaseInterest(*p.sub());
  pending_.erase(p.token());
  p.cv.notify_all();
}

std::shared_ptr<PendingAttach> RedisFanout::Begin(std::shared_ptr<Subscription> sub) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!connected_) return nullptr;
  // The feed keeps live events for it from here on (they are dispatched
  // under mu_ too, so none slips between this and the SUBSCRIBE).
  auto p = std::make_shared<PendingAttach>(++next_token_, feed_->Begin(std::move(sub)));
  pending_[p->token()] = p;
  std::vector<std::string> subscribe = {"SUBSCRIBE"};
  for (const auto& ch : p->sub()->channels()) {
    ++pending_interest_[ch];
    if (subscribed_.insert(ch).second) subscribe.push_back(keys_.topic(ch));
  }
  if (subscribe.size() > 1) outbox_.push_back(std::move(subscribe));
  outbox_.push_back({"PING", absl::StrCat("s", p->token())});
  Wake();
  return p;
}

bool RedisFanout::WaitSubscribed(PendingAttach& p, absl::Time deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  while (p.stage == PendingAttach::Stage::kSubscribing && absl::Now() < deadline) {
    p.cv.wait_for(
        lock, absl::ToChronoMilliseconds(std::max(deadline - absl::Now(), absl::Milliseconds(1))));
  }
  return p.stage == PendingAttach::Stage::kSubscribed;
}

bool RedisFanout::Finish(const std::shared_ptr<PendingAttach>& p, std::vector<EventPtr> catch_up,
                         const std::string& epoch, uint64_t head, absl::Time deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  if (p->stage != PendingAttach::Stage::kSubscribed) return false;  // failed already
  if (epoch != epoch_) {
    // Redis' epoch moved under us (lost data, or the snapshot script found
    // it went back in time): let the fan-out thread find out what happened
    // (it resets every channel) and have this client come back.
    FailPending(*p);
    resync_ = true;
    Wake();
    return false;
  }
  p->SetCatchUp(std::move(catch_up), head);
  p->stage = PendingAttach::Stage::kFinishing;
  outbox_.push_back({"PING", absl::StrCat("f", p->token())});
  Wake();
  while (p->stage == PendingAttach::Stage::kFinishing && absl::Now() < deadline) {
    p->cv.wait_for(
        lock, absl::ToChronoMilliseconds(std::max(deadline - absl::Now(), absl::Milliseconds(1))));
  }
  if (p->stage == PendingAttach::Stage::kFinishing) FailPending(*p);
  return p->stage == PendingAttach::Stage::kDone;
}

void RedisFanout::Abandon(const std::shared_ptr<PendingAttach>& p) {
  std::lock_guard<std::mutex> lock(mu_);
  FailPending(*p);
}

void RedisFanout::Reconcile() {
  std::lock_guard<std::mutex> lock(mu_);
  absl::flat_hash_set<std::string> used;
  for (auto& [ch, n] : hub_->ChannelCounts()) used.insert(ch);
  std::vector<std::string> unsubscribe = {"UNSUBSCRIBE"};
  for (auto it = subscribed_.begin(); it != subscribed_.end();) {
    const std::string& ch = *it;
    if (!used.contains(ch) && !pending_interest_.contains(ch)) {
      unsubscribe.push_back(keys_.topic(ch));
      positions_.Forget(ch);
      subscribed_.erase(it++);
    } else {
      ++it;
    }
  }
  if (unsubscribe.size() > 1 && connected_) {
    outbox_.push_back(std::move(unsubscribe));
    Wake();
  }
}

// ---- the fan-out thread ---------------------------------------------------

void RedisFanout::TryConnect() {
  // A stop taken in this round must not start a connect that can block.
  if (sub_ != nullptr || stopping_.load()) return;
  absl::Status s = Connect();
  if (!s.ok()) {
    sub_.reset();
    reader_.reset();
    if (options_.on_state) options_.on_state("redis_unavailable", std::string(s.message()));
    loop_->RunAt(absl::Now() + backoff_, [this] { TryConnect(); });
    backoff_ = std::min(backoff_ * 2, options_.backoff.max);
    return;
  }
  s = loop_->Watch(sub_->fd(), EPOLLIN, this);
  if (!s.ok()) {
    Drop(s, backoff_);  // epoll refusing now will likely refuse at once again
    backoff_ = std::min(backoff_ * 2, options_.backoff.max);
    return;
  }
  backoff_ = options_.backoff.min;
  if (options_.on_connected) options_.on_connected();
  if (options_.on_state) options_.on_state("redis_connected", epoch());
  // Replies read along with Connect()'s last answer wait in hiredis' buffer,
  // where no readiness of the socket would report them.
  HandleReplies(absl::OkStatus());
}

void RedisFanout::SendOutbox() {
  if (sub_ == nullptr) return;  // Drop() cleared it; Begin() refuses meanwhile
  std::vector<std::vector<std::string>> out;
  bool resync;
  {
    std::lock_guard<std::mutex> lock(mu_);
    out.swap(outbox_);
    resync = resync_;
    resync_ = false;
  }
  if (resync) {
    Drop(absl::UnavailableError("epoch changed; reconnecting to resync"));
    return;
  }
  if (out.empty()) return;
  for (const auto& cmd : out) sub_->Append(cmd);
  absl::Status s = sub_->Flush();
  if (!s.ok()) Drop(s);
}

void RedisFanout::Heartbeat() {
  if (sub_ == nullptr) return;
  const absl::Time now = absl::Now();
  absl::Status s;
  if (!ping_outstanding_ && now - ping_sent_ >= options_.heartbeat) {
    sub_->Append({"PING", "h"});
    ping_outstanding_ = true;
    ping_sent_ = now;
    s = sub_->Flush();
  }
  if (s.ok() && ping_outstanding_ && now - ping_sent_ > options_.connect.command_timeout) {
    s = absl::UnavailableError("redis did not answer PING in time");
  }
  if (!s.ok()) Drop(s);
}

void RedisFanout::OnFdEvents(uint32_t /*events*/) {
  if (sub_ == nullptr) return;
  HandleReplies(sub_->ReadSocket());
}

void RedisFanout::HandleReplies(absl::Status read) {
  absl::Status s = std::move(read);
  while (s.ok()) {
    absl::StatusOr<RedisReplyPtr> reply = sub_->NextBuffered();
    if (!reply.ok()) s = reply.status();
    if (!s.ok() || *reply == nullptr) break;
    HandleReply(**reply);
  }
  if (!s.ok()) {
    Drop(s);
    return;
  }
  // A live event of a new epoch asked for a resync; the outbox may hold
  // commands queued meanwhile.
  SendOutbox();
}

void RedisFanout::Drop(const absl::Status& why, absl::Duration reconnect_after) {
  if (sub_ == nullptr) return;
  loop_->Unwatch(sub_->fd(), this);
  sub_.reset();
  reader_.reset();
  // Reconnect at once after a lost connection; failed connects back off.
  if (reconnect_after <= absl::ZeroDuration()) {
    loop_->Post([this] { TryConnect(); });
  } else {
    loop_->RunAt(absl::Now() + reconnect_after, [this] { TryConnect(); });
  }
  ping_outstanding_ = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    connected_ = false;
    outbox_.clear();
    std::vector<std::shared_ptr<PendingAttach>> pending;
    for (auto& [token, p] : pending_) pending.push_back(p);
    for (const auto& p : pending) FailPending(*p);
  }
  // The pub/sub connection publishes nothing: what an unanswered command
  // means for a publish ("outcome unknown ...") does not apply here.
  absl::string_view message = why.message();
  message = message.substr(0, message.find(" after the command was sent"));
  if (options_.on_state) options_.on_state("redis_connection_lost", std::string(message));
}

void RedisFanout::HandleReply(const redisReply& reply) {
  if (IsArrayOf(reply, "message", 3)) {
    OnMessage(std::string(ReplyView(reply.element[1])), ReplyView(reply.element[2]));
    return;
  }
  absl::string_view token;
  if (IsPong(reply, &token)) OnPong(token);
}

void RedisFanout::OnMessage(const std::string& topic, absl::string_view text) {
  std::string channel;
  LiveMessage live;
  if (!keys_.ChannelOfTopic(topic, &channel) || !ParseLiveMessage(text, &live)) {
    return;
  }
  absl::StatusOr<StoredEvent> stored = DecodeStoredEvent(live.payload);
  if (!stored.ok()) return;
  EventPtr ev = BuildEvent(live.epoch, live.seq, channel, std::move(*stored), *encoder_);
  std::lock_guard<std::mutex> lock(mu_);
  if (live.epoch != epoch_) {
    resync_ = true;  // the fan-out loop reconnects and resets every channel
    return;
  }
  if (!positions_.Admit(channel, live.seq)) return;  // a recovery read had it
  high_water_ = std::max(high_water_, live.seq);
  feed_->Dispatch(ev);  // kept for pending attaches of the channel too
}

void RedisFanout::OnPong(absl::string_view token) {
  if (token == "h") {
    ping_outstanding_ = false;
    return;
  }
  if (token.size() < 2) return;
  uint64_t id = 0;
  if (!absl::SimpleAtoi(token.substr(1), &id)) return;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = pending_.find(id);
  if (it == pending_.end()) return;
  std::shared_ptr<PendingAttach> p = it->second;
  if (token[0] == 's' && p->stage == PendingAttach::Stage::kSubscribing) {
    p->stage = PendingAttach::Stage::kSubscribed;
  } else if (token[0] == 'f' && p->stage == PendingAttach::Stage::kFinishing) {
    for (const auto& ch : p->sub()->channels()) positions_.Raise(ch, p->head());
    feed_->Finish(p->hand_over(), p->TakeCatchUp(), p->head());
    p->stage = PendingAttach::Stage::kDone;
    ReleaseInterest(*p->sub());
    pending_.erase(it);
  } else {
    return;
  }
  p->cv.notify_all();
}

}  // namespace ssebridge
