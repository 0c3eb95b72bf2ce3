#include "bridge/broker/redis/redis_ticket_vault.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bridge/broker/redis/redis_scripts.h"

namespace ssebridge {

RedisTicketVault::RedisTicketVault(const Options& options)
    : keys_(options.prefix),
      where_(options.connect.url.Describe()),
      pool_(options.connect, options.pool_size, options.backoff) {}

absl::Status RedisTicketVault::Named(const absl::Status& s) const {
  return absl::Status(s.code(), absl::StrCat("Redis at ", where_, ": ", s.message()));
}

absl::Status RedisTicketVault::Put(absl::string_view name, absl::string_view record,
                                   absl::Time expires_at, absl::Duration keep) {
  const int64_t keep_ms = std::max<int64_t>(1, absl::ToInt64Milliseconds(keep));
  std::vector<std::string> argv = {
      "SET", keys_.ticket(name),    absl::StrCat(absl::ToUnixMicros(expires_at), " ", record),
      "PX",  absl::StrCat(keep_ms), "NX"};
  bool stored = false;
  absl::Status s = pool_.Run([&](RedisConnection& conn) -> absl::Status {
    absl::StatusOr<RedisReplyPtr> reply = conn.Checked(argv);
    if (!reply.ok()) return reply.status();
    stored = (*reply)->type != REDIS_REPLY_NIL;  // NX: nil when the key exists
    return absl::OkStatus();
  });
  if (!s.ok()) return Named(s);
  if (!stored) return absl::AlreadyExistsError("ticket: the key exists already");
  return absl::OkStatus();
}

absl::StatusOr<TicketVault::Found> RedisTicketVault::Fetch(absl::string_view name, absl::Time now,
                                                           bool take) {
  const std::vector<std::string> keys = {keys_.ticket(name)};
  const std::vector<std::string> args = {absl::StrCat(absl::ToUnixMicros(now)), take ? "1" : "0"};
  Found found;
  absl::Status s = pool_.Run([&](RedisConnection& conn) -> absl::Status {
    absl::StatusOr<RedisReplyPtr> reply = conn.Eval(kTicketTakeScript, keys, args);
    if (!reply.ok()) return reply.status();
    const redisReply& r = **reply;
    absl::Status error = ReplyStatus(r);
    if (!error.ok()) return error;
    if (r.type != REDIS_REPLY_ARRAY || r.elements < 1) {
      return absl::InternalError("the ticket script answered an unexpected reply");
    }
    const std::string fate = ReplyString(*r.element[0]);
    if (fate == "live" && r.elements == 2) {
      found.fate = Fate::kLive;
      found.record = ReplyString(*r.element[1]);
    } else if (fate == "used") {
      found.fate = Fate::kUsed;
    } else if (fate == "expired") {
      found.fate = Fate::kExpired;
    } else if (fate == "unknown") {
      found.fate = Fate::kUnknown;
    } else {
      return absl::InternalError(absl::StrCat("the ticket script answered '", fate, "'"));
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return Named(s);
  return found;
}

absl::StatusOr<TicketVault::Found> RedisTicketVault::Take(absl::string_view name, absl::Time now) {
  return Fetch(name, now, true);
}

absl::StatusOr<TicketVault::Found> RedisTicketVault::Look(absl::string_view name, absl::Time now) {
  return Fetch(name, now, false);
}

}  // namespace ssebridge
