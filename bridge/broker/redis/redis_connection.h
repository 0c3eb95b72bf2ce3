// RedisConnection: one blocking hiredis connection (connect timeout, AUTH,
// SELECT, command timeout) with Lua scripts run by EVALSHA, loaded on first
// use and again after NOSCRIPT. Not thread-safe: one owner at a time.
//
// An I/O error or timeout leaves the connection broken(); the owner drops it
// and connects again later. What the caller is told depends on whether the
// command can have run:
//   UNAVAILABLE        it certainly did not (no connection, or it was never
//                      completely sent: Redis only runs a whole command);
//   DEADLINE_EXCEEDED  it was sent and no answer came (timed out, or the
//                      connection was lost meanwhile): outcome unknown, Redis
//                      may have run it. The message says which.
//
// With a locator in the options, Connect() asks it where the primary is,
// confirms with ROLE when it says so, and registers the socket with it (a
// move of the primary shuts the socket down). A READONLY error reply (the
// primary was demoted under us) marks the connection broken() after the
// reply is returned, and tells the locator, so the owner reconnects through
// it.
#ifndef SSEBRIDGE_BROKER_REDIS_REDIS_CONNECTION_H_
#define SSEBRIDGE_BROKER_REDIS_REDIS_CONNECTION_H_

#include <hiredis/hiredis.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "bridge/broker/redis/redis_primary_locator.h"
#include "bridge/broker/redis/redis_tls.h"
#include "bridge/broker/redis/redis_url.h"

namespace ssebridge {

struct RedisReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using RedisReplyPtr = std::unique_ptr<redisReply, RedisReplyDeleter>;

struct RedisConnectOptions {
  RedisUrl url;  // host and port are unused when there is a locator
  // Where the primary is; null: url's host:port.
  std::shared_ptr<RedisPrimaryLocator> locator;
  absl::Duration connect_timeout = absl::Seconds(2);
  absl::Duration command_timeout = absl::Seconds(2);
  // Set: every byte goes through TLS (rediss://); the handshake is bounded
  // by connect_timeout.
  std::shared_ptr<const RedisTls> tls;
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

  // The reply (possibly a Redis error reply); UNAVAILABLE or
  // DEADLINE_EXCEEDED on I/O failure (see above).
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
  // no reply fails: DEADLINE_EXCEEDED (outcome unknown) once the pipeline
  // may have reached Redis, UNAVAILABLE when nothing of it was sent.
  struct ScriptCall {
    std::vector<std::string> keys;
    std::vector<std::string> args;
  };
  std::vector<absl::StatusOr<RedisReplyPtr>> EvalMany(const RedisScript& script,
                                                      const std::vector<ScriptCall>& calls);

  // Pipelining and pub/sub: queue a command, flush, read replies.
  void Append(const std::vector<std::string>& argv);
  absl::Status Flush();
  // Reads one reply; blocks (up to the command timeout) if none is buffered.
  // A failure here is DEADLINE_EXCEEDED: whatever was flushed may have run.
  absl::StatusOr<RedisReplyPtr> Read();
  // Reads what the socket has (call when poll() says readable), then
  // returns the next complete reply, or nullptr when none is complete yet.
  absl::Status ReadSocket();
  absl::StatusOr<RedisReplyPtr> NextBuffered();

  // Which server history this connection reached, once learned:
  // "<run_id>:<master_replid>". The run_id is new at every start of a
  // redis-server process, the replication id at every promotion (also of
  // the same process, back from being a replica), so it changes with every
  // restart and failover: that is how the broker tells that the data it
  // reads may have gone back in time (redis_scripts.h, the epoch's owner).
  // "" before it is learned, or when the server will not tell
  // (identity_refusal() says why). Not part of Connect(): only the
  // connections that run the epoch's scripts ask, and a connect stays
  // without commands a frozen Redis would hold.
  const std::string& server_identity() const { return identity_; }
  const std::string& identity_refusal() const { return identity_refusal_; }
  // INFO, once per connection (a no-op when known). A transient error
  // reply (BUSY, LOADING) is a status and is asked again next time.
  absl::Status LearnIdentity();
  // The same, split for a pipeline: queue the INFO, and later read its
  // reply (it must be the next reply).
  void RequestIdentity();
  absl::Status ReadIdentity();

  bool broken() const { return broken_ || demoted_; }
  int fd() const;
  // Whether the peer closed or sent something unasked while the connection
  // sat idle (a restarted Redis): such a connection must not be used, or a
  // command would be sent into a dead socket and its outcome be unknown.
  bool StaleWhileIdle() const;

 private:
  RedisConnection(redisContext* ctx, absl::Duration command_timeout)
      : ctx_(ctx), command_timeout_(command_timeout) {}
  // The TLS counterparts of redisBufferWrite / redisBufferRead: hiredis'
  // output buffer out through the session, the session's bytes into
  // hiredis' reader. On failure they set io_error_ / io_timed_out_.
  bool TlsFlush();
  bool TlsReadOnce();
  // A READONLY reply: this is no longer the primary.
  void NoteReply(const redisReply& reply);
  // Marks the connection broken. `sent`: a command may have reached Redis.
  absl::Status Broken(absl::string_view what, bool sent);
  // The SHA this connection loaded `script` as; "" until loaded.
  std::string& ShaSlot(const RedisScript& script);

  redisContext* ctx_;
  std::unique_ptr<RedisTlsSession> tls_;  // destroyed before ctx_ closes the fd
  std::string io_error_;                  // the TLS layer's reason
  bool io_timed_out_ = false;
  const absl::Duration command_timeout_;
  bool broken_ = false;
  bool demoted_ = false;  // met READONLY; replies already read stay valid
  std::shared_ptr<RedisPrimaryLocator> locator_;
  RedisPrimaryAddress where_;
  uint64_t track_token_ = 0;
  absl::Status broken_status_;
  std::vector<std::string> shas_;
  std::string identity_;
  std::string identity_refusal_;
  bool identity_known_ = false;
};

// A Redis error reply as a status: LOADING, BUSY, MASTERDOWN, READONLY,
// TRYAGAIN and CLUSTERDOWN are UNAVAILABLE (retry later), OOM is
// RESOURCE_EXHAUSTED, anything else INTERNAL. OK for non-error replies.
absl::Status ReplyStatus(const redisReply& reply);

// Reply helpers: string content of a string/status/integer reply.
std::string ReplyString(const redisReply& reply);

}  // namespace ssebridge

#endif  // SSEBRIDGE_BROKER_REDIS_REDIS_CONNECTION_H_
