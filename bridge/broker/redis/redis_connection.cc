#include "bridge/broker/redis/redis_connection.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/time.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "bridge/broker/redis/redis_sentinel.h"

namespace ssebridge {

namespace {

timeval TimevalOf(absl::Duration d) {
  if (d <= absl::ZeroDuration()) d = absl::Milliseconds(1);
  return absl::ToTimeval(d);
}

void AppendArgv(redisContext* ctx, const std::vector<std::string>& argv) {
  std::vector<const char*> ptrs;
  std::vector<size_t> lens;
  ptrs.reserve(argv.size());
  lens.reserve(argv.size());
  for (const auto& a : argv) {
    ptrs.push_back(a.data());
    lens.push_back(a.size());
  }
  redisAppendCommandArgv(ctx, static_cast<int>(argv.size()), ptrs.data(), lens.data());
}

// One "<field>:<value>" line of INFO's text; "" when absent.
std::string InfoField(absl::string_view info, absl::string_view field) {
  for (absl::string_view line : absl::StrSplit(info, '\n')) {
    if (!absl::ConsumePrefix(&line, field) || !absl::ConsumePrefix(&line, ":")) continue;
    return std::string(absl::StripAsciiWhitespace(line));
  }
  return "";
}

}  // namespace

absl::Status ReplyStatus(const redisReply& reply) {
  if (reply.type != REDIS_REPLY_ERROR) return absl::OkStatus();
  absl::string_view text(reply.str, reply.len);
  for (absl::string_view transient :
       {"LOADING", "BUSY", "MASTERDOWN", "READONLY", "TRYAGAIN", "CLUSTERDOWN"}) {
    if (absl::StartsWith(text, transient)) {
      return absl::UnavailableError(absl::StrCat("redis: ", text));
    }
  }
  if (absl::StartsWith(text, "OOM")) {
    return absl::ResourceExhaustedError(absl::StrCat("redis: ", text));
  }
  return absl::InternalError(absl::StrCat("redis: ", text));
}

std::string ReplyString(const redisReply& reply) {
  switch (reply.type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR:
      return std::string(reply.str, reply.len);
    case REDIS_REPLY_INTEGER:
      return absl::StrCat(reply.integer);
    default:
      return "";
  }
}

absl::StatusOr<std::unique_ptr<RedisConnection>> RedisConnection::Connect(
    const RedisConnectOptions& options) {
  RedisPrimaryAddress where;
  where.host = options.url.host;
  where.port = options.url.port;
  if (options.locator != nullptr) {
    absl::StatusOr<RedisPrimaryAddress> located = options.locator->Locate();
    if (!located.ok()) return located.status();
    where = *located;
  }
  const std::string describe = absl::StrCat(where.Describe(), "/", options.url.db);
  redisContext* ctx =
      redisConnectWithTimeout(where.host.c_str(), where.port, TimevalOf(options.connect_timeout));
  if (ctx == nullptr) return absl::UnavailableError("redis: out of memory");
  if (ctx->err) {
    std::string why = ctx->errstr;
    redisFree(ctx);
    return absl::UnavailableError(absl::StrCat("redis ", describe, ": ", why));
  }
  std::unique_ptr<RedisConnection> conn(new RedisConnection(ctx, options.command_timeout));
  if (options.tls != nullptr) {
    redisSetTimeout(ctx, TimevalOf(options.connect_timeout));
    absl::StatusOr<std::unique_ptr<RedisTlsSession>> session =
        options.tls->Handshake(ctx->fd, where.host);
    if (!session.ok()) {
      return absl::UnavailableError(
          absl::StrCat("redis ", describe, ": ", session.status().message()));
    }
    conn->tls_ = std::move(*session);
  }
  redisSetTimeout(ctx, TimevalOf(options.command_timeout));
  redisEnableKeepAlive(ctx);
  if (!options.url.password.empty()) {
    std::vector<std::string> auth = {"AUTH"};
    if (!options.url.user.empty()) auth.push_back(options.url.user);
    auth.push_back(options.url.password);
    absl::StatusOr<RedisReplyPtr> r = conn->Command(auth);
    if (!r.ok()) return r.status();
    if ((*r)->type == REDIS_REPLY_ERROR) {
      // Never echo the password; Redis' own message does not contain it.
      return absl::PermissionDeniedError(absl::StrCat("redis AUTH failed: ", ReplyString(**r)));
    }
  }
  if (options.locator != nullptr && options.locator->verify_role()) {
    // A sentinel's answer may be a moment old: the address must be a master
    // now, or writes would meet READONLY (or, worse, reads be stale).
    absl::StatusOr<RedisReplyPtr> role = conn->Checked({"ROLE"});
    if (!role.ok()) return role.status();
    if (!RoleIsMaster(**role)) {
      options.locator->Suspect(where);
      return absl::UnavailableError(absl::StrCat(
          "redis ", describe, " is not the primary (ROLE: replica); asking the sentinels again"));
    }
  }
  if (options.url.db != 0) {
    absl::StatusOr<RedisReplyPtr> r = conn->Checked({"SELECT", absl::StrCat(options.url.db)});
    if (!r.ok()) return r.status();
  }
  if (options.locator != nullptr) {
    conn->track_token_ = options.locator->Track(ctx->fd, where.generation);
    if (conn->track_token_ == 0) {
      return absl::UnavailableError(absl::StrCat(
          "redis ", describe, ": the primary moved while connecting; connecting again"));
    }
    conn->locator_ = options.locator;
    conn->where_ = where;
  }
  return conn;
}

RedisConnection::~RedisConnection() {
  // Untracked before the close: the locator never shuts down a descriptor
  // that was reused meanwhile.
  if (track_token_ != 0) locator_->Untrack(track_token_);
  tls_.reset();
  redisFree(ctx_);
}

void RedisConnection::NoteReply(const redisReply& reply) {
  if (reply.type != REDIS_REPLY_ERROR || demoted_) return;
  const absl::string_view text(reply.str, reply.len);
  // A script's write meets it as "... READONLY You can't write ...".
  if (!absl::StartsWith(text, "READONLY") && !absl::StrContains(text, "READONLY You can't write")) {
    return;
  }
  demoted_ = true;
  if (locator_ != nullptr) locator_->Suspect(where_);
}

// INFO without a section: the default ones hold both "Server" and
// "Replication" on every Redis version (several sections in one INFO need 7).
void RedisConnection::RequestIdentity() { Append({"INFO"}); }

absl::Status RedisConnection::ReadIdentity() {
  absl::StatusOr<RedisReplyPtr> info = Read();
  if (!info.ok()) return info.status();
  const redisReply& r = **info;
  const absl::string_view text(r.str == nullptr ? "" : r.str, r.str == nullptr ? 0 : r.len);
  if (r.type == REDIS_REPLY_ERROR) {
    // Refused for good (an ACL without +info, a renamed command): known to
    // be unknowable. Anything else (BUSY, LOADING) is a moment's state and
    // must not switch the check off for this connection's life.
    if (!absl::StartsWith(text, "NOPERM") && !absl::StrContains(text, "unknown command")) {
      return ReplyStatus(r);
    }
    identity_refusal_ = absl::StrCat("INFO refused: ", text);
  } else if (r.type == REDIS_REPLY_STRING) {
    const std::string run_id = InfoField(text, "run_id");
    const std::string replid = InfoField(text, "master_replid");
    if (run_id.empty() || replid.empty()) {
      identity_refusal_ = "INFO has no run_id or master_replid (a proxy?)";
    } else {
      identity_ = absl::StrCat(run_id, ":", replid);
    }
  } else {
    identity_refusal_ = "INFO answered with no text";
  }
  identity_known_ = true;
  return absl::OkStatus();
}

absl::Status RedisConnection::LearnIdentity() {
  if (identity_known_) return absl::OkStatus();
  RequestIdentity();
  absl::Status s = Flush();
  if (!s.ok()) return s;
  return ReadIdentity();
}

int RedisConnection::fd() const { return ctx_->fd; }

bool RedisConnection::StaleWhileIdle() const {
  if (tls_ != nullptr && tls_->Pending() > 0) return true;
  pollfd p = {ctx_->fd, POLLIN, 0};
  return poll(&p, 1, 0) != 0;  // readable, hung up, or an error
}

absl::Status RedisConnection::Broken(absl::string_view what, bool sent) {
  if (broken_) return broken_status_;
  broken_ = true;
  // hiredis reports a socket timeout as the errno text of EAGAIN
  // ("Resource temporarily unavailable"): say what it means.
  const bool timed_out =
      io_timed_out_ ||
      (ctx_->err == REDIS_ERR_IO && (absl::string_view(ctx_->errstr) == strerror(EAGAIN) ||
                                     absl::string_view(ctx_->errstr) == strerror(EWOULDBLOCK)));
  std::string why =
      timed_out ? absl::StrCat("timed out after ", absl::FormatDuration(command_timeout_),
                               " (--redis_command_timeout)")
      : !io_error_.empty() ? io_error_
                           : std::string(ctx_->err ? ctx_->errstr : "connection closed");
  if (!sent) {
    broken_status_ = absl::UnavailableError(
        absl::StrCat("redis ", what, ": ", why, "; the command was not sent"));
  } else {
    broken_status_ = absl::DeadlineExceededError(
        absl::StrCat("redis ", what, ": ", why,
                     " after the command was sent: outcome unknown, Redis may have run it "
                     "(retry a publish only with an idempotency key)"));
  }
  return broken_status_;
}

absl::StatusOr<RedisReplyPtr> RedisConnection::Command(const std::vector<std::string>& argv) {
  Append(argv);
  if (absl::Status s = Flush(); !s.ok()) return s;
  return Read();
}

absl::StatusOr<RedisReplyPtr> RedisConnection::Checked(const std::vector<std::string>& argv) {
  absl::StatusOr<RedisReplyPtr> r = Command(argv);
  if (!r.ok()) return r;
  absl::Status s = ReplyStatus(**r);
  if (!s.ok()) return s;
  return r;
}

void RedisConnection::Append(const std::vector<std::string>& argv) { AppendArgv(ctx_, argv); }

// A write that fails leaves the last command incomplete in Redis' input, so
// Redis cannot have run it (a pipeline's earlier commands: see EvalMany).
absl::Status RedisConnection::Flush() {
  if (broken_) return broken_status_;
  if (tls_ != nullptr) {
    if (!TlsFlush()) return Broken("write", false);
    return absl::OkStatus();
  }
  int done = 0;
  while (!done) {
    if (redisBufferWrite(ctx_, &done) != REDIS_OK) return Broken("write", false);
  }
  return absl::OkStatus();
}

bool RedisConnection::TlsFlush() {
  const size_t size = sdslen(ctx_->obuf);
  if (size == 0) return true;
  absl::Status s = tls_->WriteAll(ctx_->obuf, size, &io_timed_out_);
  if (!s.ok()) {
    io_error_ = std::string(s.message());
    return false;
  }
  // sdsclear(), inline: hiredis' sds.h declares its functions without
  // extern "C", so only its inline ones link from C++.
  sdssetlen(ctx_->obuf, 0);
  ctx_->obuf[0] = '\0';
  return true;
}

bool RedisConnection::TlsReadOnce() {
  char buf[16 * 1024];  // one TLS record's worth
  absl::StatusOr<size_t> n = tls_->Read(buf, sizeof buf, &io_timed_out_);
  if (!n.ok()) {
    io_error_ = std::string(n.status().message());
    return false;
  }
  return redisReaderFeed(ctx_->reader, buf, *n) == REDIS_OK;
}

absl::StatusOr<RedisReplyPtr> RedisConnection::Read() {
  if (broken_) return broken_status_;
  void* reply = nullptr;
  if (tls_ != nullptr) {
    // What redisGetReply does, with the bytes going through TLS.
    if (!TlsFlush()) return Broken("write", true);
    while (reply == nullptr) {
      if (redisGetReplyFromReader(ctx_, &reply) != REDIS_OK) return Broken("parse", true);
      if (reply == nullptr && !TlsReadOnce()) return Broken("read", true);
    }
  } else if (redisGetReply(ctx_, &reply) != REDIS_OK || reply == nullptr) {
    return Broken("read", true);
  }
  NoteReply(*static_cast<redisReply*>(reply));
  return RedisReplyPtr(static_cast<redisReply*>(reply));
}

absl::Status RedisConnection::ReadSocket() {
  if (broken_) return broken_status_;
  if (tls_ != nullptr) {
    // Everything whole that is there, without waiting for the rest of a
    // record (the caller's loop must not block), and all OpenSSL holds:
    // the socket will not wake the caller for that.
    char buf[16 * 1024];
    for (;;) {
      absl::StatusOr<size_t> n = tls_->ReadAvailable(buf, sizeof buf);
      if (!n.ok()) {
        io_error_ = std::string(n.status().message());
        return Broken("read", true);
      }
      if (*n == 0) return absl::OkStatus();
      if (redisReaderFeed(ctx_->reader, buf, *n) != REDIS_OK) return Broken("parse", true);
    }
  }
  if (redisBufferRead(ctx_) != REDIS_OK) return Broken("read", true);
  return absl::OkStatus();
}

absl::StatusOr<RedisReplyPtr> RedisConnection::NextBuffered() {
  if (broken_) return broken_status_;
  void* reply = nullptr;
  if (redisGetReplyFromReader(ctx_, &reply) != REDIS_OK) return Broken("parse", true);
  if (reply != nullptr) NoteReply(*static_cast<redisReply*>(reply));
  return RedisReplyPtr(static_cast<redisReply*>(reply));
}

}  // namespace ssebridge
