// RedisBroker::PublishBatch: a batch as a few kPublishBatchScript calls
// (runs of at most Options::batch_call_events events / batch_call_bytes
// payload bytes), pipelined on one connection in one round trip. Redis runs
// them in the batch's order, and each call runs its events in order, so
// ids, history, retained values and idempotency replays are those of the
// same publishes made one by one (redis_scripts.h).
#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bridge/broker/redis/redis_broker.h"
#include "bridge/broker/redis/redis_codec.h"
#include "bridge/broker/redis/redis_scripts.h"
#include "bridge/core/event_id.h"

namespace ssebridge {

RedisConnection::ScriptCall RedisBroker::BatchCall(const std::vector<PublishSpec>& specs,
                                                   size_t begin, size_t end, absl::Time now) const {
  RedisConnection::ScriptCall call;
  call.keys = {keys_.epoch(), keys_.seq(), keys_.retained_bytes(), keys_.retained_index()};
  call.keys.reserve(4 + 3 * (end - begin) + 1);
  call.args = {NewEpoch(),
               absl::StrCat(std::max<size_t>(1, options_.history_size)),
               Millis(options_.history_ttl),
               Millis(options_.idempotency_window),
               absl::StrCat(absl::ToUnixMicros(now)),
               absl::StrCat(options_.retained.max_per_channel),
               absl::StrCat(options_.retained.max_bytes)};
  for (std::string& arg : HighWaterArgs()) call.args.push_back(std::move(arg));
  call.args.reserve(call.args.size() + 6 * (end - begin) + 1);
  for (size_t i = begin; i < end; ++i) {
    const PublishSpec& spec = specs[i];
    const bool idempotent = !spec.idempotency_key.empty();
    call.keys.push_back(keys_.history(spec.channel));
    call.keys.push_back(keys_.meta(spec.channel));
    if (idempotent) call.keys.push_back(keys_.idempotency(spec.idempotency_key));
    if (spec.retain) {
      call.keys.push_back(keys_.retained(spec.channel));
      if (spec.user_ids.empty()) call.keys.push_back(keys_.retained_public(spec.channel));
      for (const std::string& user : spec.user_ids) {
        call.keys.push_back(keys_.retained_user(spec.channel, user));
      }
    }
    call.args.push_back(EncodeStoredEvent(spec, now));
    call.args.push_back(keys_.topic(spec.channel));
    call.args.push_back(spec.channel);
    call.args.push_back(spec.retain ? RetainedField(spec.type, spec.user_ids) : "");
    call.args.push_back(absl::StrCat(spec.user_ids.size()));
    call.args.push_back(idempotent ? "1" : "0");
  }
  call.keys.push_back(keys_.epoch_owner());
  call.args.emplace_back();  // the server's identity, set by OwnedBy()
  return call;
}

std::vector<absl::StatusOr<PublishOutcome>> RedisBroker::PublishBatch(
    std::vector<PublishSpec>* specs) {
  const absl::Time now = absl::Now();
  const std::vector<PublishSpec>& all = *specs;
  // [begin, end) of the batch per call.
  std::vector<std::pair<size_t, size_t>> runs;
  for (size_t begin = 0; begin < all.size();) {
    size_t end = begin + 1;
    size_t bytes = all[begin].data.size();
    while (end < all.size() && end - begin < options_.batch_call_events &&
           bytes + all[end].data.size() <= options_.batch_call_bytes) {
      bytes += all[end++].data.size();
    }
    runs.emplace_back(begin, end);
    begin = end;
  }
  std::vector<RedisConnection::ScriptCall> calls;
  calls.reserve(runs.size());
  for (const auto& [begin, end] : runs) calls.push_back(BatchCall(all, begin, end, now));

  std::vector<absl::StatusOr<PublishOutcome>> out;
  absl::Status s = pool_.Run([&](RedisConnection& conn) -> absl::Status {
    for (RedisConnection::ScriptCall& call : calls) {
      if (absl::Status owned = OwnedBy(conn, &call.args); !owned.ok()) return owned;
    }
    std::vector<absl::StatusOr<RedisReplyPtr>> replies = conn.EvalMany(kPublishBatchScript, calls);
    out.clear();
    out.reserve(all.size());
    absl::Status first_error;
    for (size_t c = 0; c < runs.size(); ++c) {
      const auto [begin, end] = runs[c];
      // A call that failed as a whole answers that status for each of its
      // events: UNAVAILABLE (not run), DEADLINE_EXCEEDED (outcome unknown),
      // OOM (Redis refuses a script's first write only, so nothing of it
      // was stored). An error raised mid-call (a key of the wrong type: not
      // data the bridge wrote) leaves the events before it stored, as the
      // single script leaves half an event; INTERNAL says something is off.
      absl::Status failed = replies[c].status();
      const redisReply* r = failed.ok() ? replies[c]->get() : nullptr;
      if (failed.ok() && (r->type != REDIS_REPLY_ARRAY || r->elements != 1 + 2 * (end - begin))) {
        failed = absl::InternalError("redis: unexpected batch publish reply");
      }
      if (!failed.ok()) {
        if (first_error.ok()) first_error = failed;
        for (size_t i = begin; i < end; ++i) out.push_back(failed);
        continue;
      }
      for (size_t i = begin; i < end; ++i) {
        const size_t at = 1 + 2 * (i - begin);
        out.push_back(EventOutcome(*r->element[at], *r->element[at + 1], all[i]));
      }
    }
    // The pool drops a connection that broke; per-spec errors stay in `out`.
    return conn.broken() ? first_error : absl::OkStatus();
  });
  if (out.size() != all.size()) {
    out.assign(all.size(), s.ok() ? absl::InternalError("redis: batch lost") : s);
  }
  return out;
}

}  // namespace ssebridge
