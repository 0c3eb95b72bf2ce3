#include "bridge/broker/redis/redis_broker.h"

#include <sys/socket.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "bridge/broker/redis/redis_codec.h"
#include "bridge/broker/redis/redis_scripts.h"
#include "bridge/broker/redis/redis_snapshot.h"
#include "bridge/broker/reset_notice.h"
#include "bridge/core/event_id.h"

namespace ssebridge {

namespace {

// `pool` is revived whenever the fan-out connects: Redis is back, so the
// replica is ready again without waiting for a publish to find out.
template <typename Counts>
RedisFanout::Options FanoutOptions(const RedisBroker::Options& o, std::shared_ptr<Counts> counts,
                                   RedisPool* pool) {
  RedisFanout::Options f;
  f.connect = o.connect;
  f.prefix = o.prefix;
  f.backoff = o.backoff;
  f.on_state = [counts, tell = o.on_state](const std::string& state, const std::string& detail) {
    if (state == "redis_connected") counts->connects.fetch_add(1);
    if (state == "redis_connection_lost") counts->losses.fetch_add(1);
    if (tell) tell(state, detail);
  };
  f.on_connected = [pool] { pool->Revive(); };
  f.reset_on_primary_change = o.reset_on_primary_change;
  return f;
}

// Asking for the server's identity failed: the script itself was never
// sent, so whatever it was to do certainly did not happen (and the INFO's
// own "outcome unknown" does not apply to it).
absl::Status ScriptNotSent(const absl::Status& asked) {
  if (asked.code() != absl::StatusCode::kDeadlineExceeded) return asked;
  absl::string_view cause = asked.message();
  cause = cause.substr(0, cause.find(" after the command was sent"));
  return absl::UnavailableError(
      absl::StrCat("redis did not answer INFO (", cause, "); the script itself was not sent"));
}

}  // namespace

std::vector<std::string> RedisBroker::HighWaterArgs() const {
  std::string known;
  const uint64_t high = fanout_.HighWater(&known);
  return {known.empty() ? "-" : known, absl::StrCat(high)};
}

std::string RedisBroker::Millis(absl::Duration d) {
  if (d == absl::InfiniteDuration() || d <= absl::ZeroDuration()) return "0";
  return absl::StrCat(std::max<int64_t>(1, absl::ToInt64Milliseconds(d)));
}

RedisBroker::RedisBroker(Options options, Hub* hub, const EventEncoder* encoder)
    : options_(std::move(options)),
      keys_(options_.prefix),
      hub_(hub),
      encoder_(encoder),
      state_counts_(std::make_shared<StateCounts>()),
      pool_(options_.connect, options_.pool_size, options_.backoff),
      feed_(hub),
      fanout_(FanoutOptions(options_, state_counts_, &pool_), hub, &feed_, encoder) {}

RedisBroker::~RedisBroker() { fanout_.Stop(); }

absl::Status RedisBroker::Start() { return fanout_.Start(); }
void RedisBroker::Stop() {
  CancelInFlight();
  fanout_.Stop();
}
void RedisBroker::CancelInFlight() {
  pool_.CancelInFlight();
  // A retained sweep waiting on a frozen Redis would otherwise hold the
  // shutdown (main joins the sweeper) for a whole command timeout.
  sweep_cancelled_.store(true);
  const int fd = sweep_fd_.load();
  if (fd >= 0) shutdown(fd, SHUT_RDWR);
}

bool RedisBroker::ready() const { return fanout_.connected() && pool_.healthy(); }

BrokerMetrics RedisBroker::metrics() const {
  BrokerMetrics m;
  m.ready = ready();
  m.store_connects = state_counts_->connects.load();
  m.store_losses = state_counts_->losses.load();
  m.retained_expired = state_counts_->retained_expired.load();
  return m;
}

RedisConnection::ScriptCall RedisBroker::PublishCall(const PublishSpec& spec,
                                                     absl::Time now) const {
  const bool idempotent = !spec.idempotency_key.empty();
  RedisConnection::ScriptCall call;
  call.keys = {keys_.epoch(),
               keys_.seq(),
               keys_.history(spec.channel),
               keys_.meta(spec.channel),
               keys_.retained(spec.channel),
               idempotent ? keys_.idempotency(spec.idempotency_key) : keys_.epoch(),
               keys_.retained_bytes(),
               keys_.retained_index(),
               keys_.retained_public(spec.channel)};
  if (spec.retain) {
    for (const std::string& user : spec.user_ids) {
      call.keys.push_back(keys_.retained_user(spec.channel, user));
    }
  }
  call.args = {NewEpoch(),
               EncodeStoredEvent(spec, now),
               absl::StrCat(std::max<size_t>(1, options_.history_size)),
               Millis(options_.history_ttl),
               spec.retain ? RetainedField(spec.type, spec.user_ids) : "",
               keys_.topic(spec.channel),
               Millis(options_.idempotency_window),
               absl::StrCat(absl::ToUnixMicros(now)),
               idempotent ? "1" : "0",
               absl::StrCat(options_.retained.max_per_channel),
               absl::StrCat(options_.retained.max_bytes),
               spec.channel};
  for (std::string& arg : HighWaterArgs()) call.args.push_back(std::move(arg));
  call.keys.push_back(keys_.epoch_owner());
  call.args.emplace_back();  // the server's identity, set by OwnedBy()
  return call;
}

absl::StatusOr<PublishOutcome> RedisBroker::PublishOutcomeOf(const redisReply& reply,
                                                             const PublishSpec& spec) {
  if (reply.type != REDIS_REPLY_ARRAY || reply.elements != 3) {
    return absl::InternalError("redis: unexpected publish reply");
  }
  return EventOutcome(*reply.element[1], *reply.element[2], spec);
}

absl::StatusOr<PublishOutcome> RedisBroker::EventOutcome(const redisReply& record_reply,
                                                         const redisReply& code,
                                                         const PublishSpec& spec) {
  if (record_reply.type != REDIS_REPLY_STRING || code.type != REDIS_REPLY_INTEGER) {
    return absl::InternalError("redis: unexpected publish reply");
  }
  if (code.integer == 2) {
    // A retained cap refused it; the script stored nothing.
    const std::string flag = ReplyString(record_reply);
    return absl::ResourceExhaustedError(
        absl::StrCat("retain: ",
                     flag == "max_retained_per_channel"
                         ? absl::StrCat("channel already holds ", options_.retained.max_per_channel,
                                        " retained values")
                         : absl::StrCat("retained values would exceed ",
                                        options_.retained.max_bytes, " bytes in all"),
                     " (--", flag, ")"));
  }
  // "<id> <published us>"
  const std::string record = ReplyString(record_reply);
  PublishOutcome outcome;
  size_t space = record.find(' ');
  int64_t us = 0;
  if (space == std::string::npos || !absl::SimpleAtoi(record.substr(space + 1), &us)) {
    return absl::InternalError("redis: malformed publish record");
  }
  outcome.id = record.substr(0, space);
  outcome.published_at = absl::FromUnixMicros(us);
  outcome.replayed = code.integer != 0;
  if (absl::StatusOr<EventId> id = ParseEventId(outcome.id, "id"); id.ok()) {
    fanout_.NoteSeq(id->epoch, id->seq);
  }
  if (!outcome.replayed) {
    // Recipients on this replica: the others count their own.
    Event probe;
    probe.channel = spec.channel;
    probe.user_ids = spec.user_ids;
    outcome.subscribers = hub_->CountRecipients(probe);
  }
  return outcome;
}

absl::Status RedisBroker::OwnedBy(RedisConnection& conn, std::vector<std::string>* args) const {
  if (!options_.reset_on_primary_change) {
    args->back().clear();
    return absl::OkStatus();
  }
  absl::Status s = conn.LearnIdentity();
  if (!s.ok()) return ScriptNotSent(s);
  args->back() = conn.server_identity();
  if (args->back().empty() && !owner_warned_.exchange(true) && options_.on_state) {
    options_.on_state("redis_epoch_owner_unknown", OwnerUnknown(conn.identity_refusal()));
  }
  return absl::OkStatus();
}

absl::StatusOr<PublishOutcome> RedisBroker::Publish(const PublishSpec& spec) {
  RedisConnection::ScriptCall call = PublishCall(spec, absl::Now());
  absl::StatusOr<PublishOutcome> outcome;
  absl::Status s = pool_.Run([&](RedisConnection& conn) -> absl::Status {
    if (absl::Status owned = OwnedBy(conn, &call.args); !owned.ok()) return owned;
    absl::StatusOr<RedisReplyPtr> r = conn.Eval(kPublishScript, call.keys, call.args);
    if (!r.ok()) return r.status();
    outcome = PublishOutcomeOf(**r, spec);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return outcome;
}

absl::StatusOr<RedisBroker::Snapshot> RedisBroker::ReadSnapshot(const Subscription& sub,
                                                                absl::string_view last_event_id) {
  const bool fresh = last_event_id.empty();
  std::string local_reason;
  EventId cursor;
  if (!fresh) {
    absl::StatusOr<EventId> parsed = ParseEventId(last_event_id, "Last-Event-ID");
    if (parsed.ok()) {
      cursor = *parsed;
    } else {
      local_reason = std::string(kResetMalformed);
    }
  }
  const bool resume = !fresh && local_reason.empty();
  std::vector<std::string> keys = {keys_.epoch(), keys_.seq()};
  for (const auto& ch : sub.channels()) {
    keys.push_back(keys_.history(ch));
    keys.push_back(keys_.meta(ch));
    keys.push_back(keys_.retained(ch));
    keys.push_back(keys_.retained_public(ch));
    keys.push_back(keys_.retained_user(ch, sub.user_id()));
  }
  std::vector<std::string> args = {NewEpoch(), resume ? "resume" : "fresh",
                                   resume ? cursor.epoch : "", absl::StrCat(cursor.seq)};
  for (std::string& arg : HighWaterArgs()) args.push_back(std::move(arg));
  keys.push_back(keys_.epoch_owner());
  args.emplace_back();  // the server's identity, set by OwnedBy()
  absl::StatusOr<ScriptReply> reply;
  absl::Status s = pool_.Run([&](RedisConnection& conn) -> absl::Status {
    if (absl::Status owned = OwnedBy(conn, &args); !owned.ok()) return owned;
    absl::StatusOr<RedisReplyPtr> r = conn.Eval(kSnapshotScript, keys, args);
    if (!r.ok()) return r.status();
    reply = ParseScriptReply(**r);
    return reply.status();
  });
  if (!s.ok()) return s;
  Snapshot snap;
  snap.epoch = reply->epoch;
  snap.head = reply->head;
  snap.catch_up =
      BuildCatchUp(sub, *reply, fresh, local_reason, last_event_id, absl::Now(), *encoder_);
  return snap;
}

absl::Status RedisBroker::Attach(std::shared_ptr<Subscription> sub,
                                 absl::string_view last_event_id) {
  const absl::Time deadline = absl::Now() + 2 * options_.connect.command_timeout;
  std::shared_ptr<PendingAttach> p = fanout_.Begin(sub);
  if (p == nullptr) {
    return absl::UnavailableError("redis: not connected; retry with the last event id");
  }
  if (!fanout_.WaitSubscribed(*p, deadline)) {
    fanout_.Abandon(p);
    return absl::UnavailableError("redis: the subscribe was not confirmed in time");
  }
  absl::StatusOr<Snapshot> snap = ReadSnapshot(*sub, last_event_id);
  if (!snap.ok()) {
    fanout_.Abandon(p);
    return absl::UnavailableError(
        absl::StrCat("redis: reading the catch-up failed: ", snap.status().message()));
  }
  if (!fanout_.Finish(p, std::move(snap->catch_up), snap->epoch, snap->head, deadline)) {
    return absl::UnavailableError(
        "redis: the attach did not complete (connection lost "
        "or epoch changed); retry with the last event id");
  }
  return absl::OkStatus();
}

void RedisBroker::Sweep(absl::Time now) {
  fanout_.Reconcile();
  // A pool marked unhealthy by a failed call while the fan-out stayed
  // connected: probe it, so readiness does not wait for the next publish.
  if (!pool_.healthy() && fanout_.connected()) {
    pool_.Run([](RedisConnection& conn) { return conn.Checked({"PING"}).status(); }).IgnoreError();
  }
  if (options_.retained.ttl == absl::InfiniteDuration() || !fanout_.connected()) return;
  // Every replica sweeps; the script is atomic, so they never double-count.
  // Bounded per call; a backlog drains over the next sweeps. The sweep has
  // a connection of its own: its failures must not mark the publish pool
  // unhealthy (ready() needs the pool, and only a publish would heal it).
  std::lock_guard<std::mutex> lock(sweep_mu_);
  if (sweep_cancelled_.load()) return;
  if (sweep_conn_ == nullptr || sweep_conn_->broken()) {
    absl::StatusOr<std::unique_ptr<RedisConnection>> conn =
        RedisConnection::Connect(options_.connect);
    if (!conn.ok()) return;  // the next sweep tries again
    sweep_conn_ = std::move(*conn);
  }
  const std::vector<std::string> keys = {keys_.retained_index(), keys_.retained_bytes()};
  const std::vector<std::string> args = {
      absl::StrCat(absl::ToUnixMicros(now - options_.retained.ttl)), keys_.prefix(), "1000"};
  sweep_fd_.store(sweep_conn_->fd());
  // Cancelled between the check above and now: the store above is seen by
  // the canceller or the canceller's flag by this load, never neither.
  if (sweep_cancelled_.load()) {
    sweep_fd_.store(-1);
    return;
  }
  absl::StatusOr<RedisReplyPtr> r = sweep_conn_->Eval(kRetainedSweepScript, keys, args);
  sweep_fd_.store(-1);
  if (r.ok() && (*r)->type == REDIS_REPLY_INTEGER) {
    state_counts_->retained_expired.fetch_add(static_cast<uint64_t>((*r)->integer));
  }
}

}  // namespace ssebridge
