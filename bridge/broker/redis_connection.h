// RedisConnection: one blocking hiredis connection (connect timeout, AUTH,
// SELECT, command timeout) with Lua scripts run by EVALSHA, loaded on first
// use and again after NOSCRIPT. Not thread-safe: one owner at a time.
//
// An I/O error or timeout leaves the connection broken() and is reported as
// UNAVAILABLE; the owner drops it and connects again later.
#ifndef SSEBRIDGE_BROKER_REDIS_CONNECTION_H_
#define SSEBRIDGE_BROKER_REDIS_CONNECTION_H_

#include <memory>
#include <string>
#include <vector>

#include <hiredis/hiredis.h>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "bridge/broker/redis_url.h"

namespace ssebridge {

struct RedisReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using RedisReplyPtr = std::unique_ptr<redisReply, RedisReplyDeleter>;

struct RedisConnectOptions {
  RedisUrl url;
  absl::Duration connect_timeout = absl::Seconds(2);
  absl::Duration command_timeout = absl::Seconds(2);
};

// A Lua script; `id` indexes the connection's cache of loaded SHA1s.
struct RedisScript {
  int id;
  const char* source;
};

class RedisConnection {
 public:
  static absl::StatusOr<std::unique_ptr<RedisConnection>> Connect(
      const RedisConnectOptions& options);
  ~RedisConnection();
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  // The reply (possibly a Redis error reply), or UNAVAILABLE on I/O failure.
  absl::StatusOr<RedisReplyPtr> Command(const std::vector<std::string>& argv);
  // Command() that also turns an error reply into a status.
  absl::StatusOr<RedisReplyPtr> Checked(const std::vector<std::string>& argv);
  absl::StatusOr<RedisReplyPtr> Eval(const RedisScript& script,
                                     const std::vector<std::string>& keys,
                                     const std::vector<std::string>& args);

  // Runs `script` once per call in one round trip, in order: one result per
  // call (error replies as statuses). The pipeline opens with SCRIPT LOAD so
  // that no call meets NOSCRIPT (a Redis restart breaks the connection
  // instead; only a SCRIPT FLUSH racing the pipeline could, and that call
  // then fails with UNAVAILABLE). After an I/O failure every call that got
  // no reply fails with UNAVAILABLE, though Redis may have run it.
  struct ScriptCall {
    std::vector<std::string> keys;
    std::vector<std::string> args;
  };
  std::vector<absl::StatusOr<RedisReplyPtr>> EvalMany(
      const RedisScript& script, const std::vector<ScriptCall>& calls);

  // Pipelining and pub/sub: queue a command, flush, read replies.
  void Append(const std::vector<std::string>& argv);
  absl::Status Flush();
  // Reads one reply; blocks (up to the command timeout) if none is buffered.
  absl::StatusOr<RedisReplyPtr> Read();
  // Reads what the socket has (call when poll() says readable), then
  // returns the next complete reply, or nullptr when none is complete yet.
  absl::Status ReadSocket();
  absl::StatusOr<RedisReplyPtr> NextBuffered();

  bool broken() const { return broken_; }
  int fd() const;

 private:
  explicit RedisConnection(redisContext* ctx) : ctx_(ctx) {}
  absl::Status Broken(absl::string_view what);

  redisContext* ctx_;
  bool broken_ = false;
  std::vector<std::string> shas_;
};

// A Redis error reply as a status: LOADING, BUSY, MASTERDOWN, READONLY,
// TRYAGAIN and CLUSTERDOWN are UNAVAILABLE (retry later), OOM is
// RESOURCE_EXHAUSTED, anything else INTERNAL. OK for non-error replies.
absl::Status ReplyStatus(const redisReply& reply);

// Reply helpers: string content of a string/status/integer reply.
std::string ReplyString(const redisReply& reply);

}  // namespace ssebridge

#endif  // SSEBRIDGE_BROKER_REDIS_CONNECTION_H_
