// RedisConnection's scripts: EVALSHA with the script loaded on demand (and
// again after a restart or SCRIPT FLUSH), alone or pipelined.
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "bridge/broker/redis/redis_connection.h"

namespace ssebridge {

namespace {

// SCRIPT LOAD failed: whatever happened to it, the script itself was never
// sent, so the caller's command certainly did not run.
absl::Status ScriptNotRun(const absl::Status& load) {
  if (load.code() != absl::StatusCode::kDeadlineExceeded) return load;
  return absl::UnavailableError(absl::StrCat("redis did not answer SCRIPT LOAD (", load.message(),
                                             "); the command itself was not sent"));
}

std::vector<std::string> EvalShaArgv(const std::string& sha, const std::vector<std::string>& keys,
                                     const std::vector<std::string>& args) {
  std::vector<std::string> argv;
  argv.reserve(3 + keys.size() + args.size());
  argv.push_back("EVALSHA");
  argv.push_back(sha);
  argv.push_back(absl::StrCat(keys.size()));
  argv.insert(argv.end(), keys.begin(), keys.end());
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

}  // namespace

std::string& RedisConnection::ShaSlot(const RedisScript& script) {
  if (shas_.size() <= static_cast<size_t>(script.id)) {
    shas_.resize(static_cast<size_t>(script.id) + 1);
  }
  return shas_[static_cast<size_t>(script.id)];
}

absl::StatusOr<RedisReplyPtr> RedisConnection::Eval(const RedisScript& script,
                                                    const std::vector<std::string>& keys,
                                                    const std::vector<std::string>& args) {
  std::string& sha = ShaSlot(script);
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (sha.empty()) {
      absl::StatusOr<RedisReplyPtr> loaded = Checked({"SCRIPT", "LOAD", script.source});
      if (!loaded.ok()) return ScriptNotRun(loaded.status());
      sha = ReplyString(**loaded);
    }
    absl::StatusOr<RedisReplyPtr> r = Command(EvalShaArgv(sha, keys, args));
    if (!r.ok()) return r;
    if ((*r)->type == REDIS_REPLY_ERROR &&
        absl::StartsWith(absl::string_view((*r)->str, (*r)->len), "NOSCRIPT")) {
      sha.clear();  // Redis restarted or SCRIPT FLUSH: load it again
      continue;
    }
    absl::Status s = ReplyStatus(**r);
    if (!s.ok()) return s;
    return r;
  }
  return absl::InternalError("redis: script vanished twice (NOSCRIPT)");
}

std::vector<absl::StatusOr<RedisReplyPtr>> RedisConnection::EvalMany(
    const RedisScript& script, const std::vector<ScriptCall>& calls) {
  std::vector<absl::StatusOr<RedisReplyPtr>> out;
  out.reserve(calls.size());
  auto fail_rest = [&](const absl::Status& why) {
    while (out.size() < calls.size()) out.push_back(why);
    return std::move(out);
  };
  if (calls.empty()) return out;
  std::string& sha = ShaSlot(script);
  if (sha.empty()) {
    absl::StatusOr<RedisReplyPtr> loaded = Checked({"SCRIPT", "LOAD", script.source});
    if (!loaded.ok()) return fail_rest(ScriptNotRun(loaded.status()));
    sha = ReplyString(**loaded);
  }
  Append({"SCRIPT", "LOAD", script.source});
  for (const ScriptCall& call : calls) Append(EvalShaArgv(sha, call.keys, call.args));
  if (absl::Status s = Flush(); !s.ok()) {
    // Part of the pipeline may have been written whole and run.
    return fail_rest(absl::DeadlineExceededError(
        absl::StrCat(s.message(),
                     "; part of the batch may have been sent: outcome unknown "
                     "(retry only with idempotency keys)")));
  }
  absl::StatusOr<RedisReplyPtr> loaded = Read();
  if (!loaded.ok()) return fail_rest(loaded.status());
  absl::Status load_status = ReplyStatus(**loaded);
  for (size_t i = 0; i < calls.size(); ++i) {
    absl::StatusOr<RedisReplyPtr> r = Read();
    if (!r.ok()) return fail_rest(r.status());
    if (!load_status.ok()) {
      out.push_back(load_status);
      continue;
    }
    if ((*r)->type == REDIS_REPLY_ERROR &&
        absl::StartsWith(absl::string_view((*r)->str, (*r)->len), "NOSCRIPT")) {
      sha.clear();
      out.push_back(
          absl::UnavailableError("redis: the script cache was flushed during a batch; retry"));
      continue;
    }
    absl::Status s = ReplyStatus(**r);
    if (!s.ok()) {
      out.push_back(s);
    } else {
      out.push_back(std::move(r));
    }
  }
  return out;
}

}  // namespace ssebridge
