#include "bridge/broker/redis/redis_fleet.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <random>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "bridge/broker/redis/redis_fleet_scripts.h"

namespace ssebridge {
namespace {

std::string RandomHex(int bytes) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  std::string out;
  for (int i = 0; i < bytes; ++i) {
    absl::StrAppendFormat(&out, "%02x", static_cast<unsigned>(rng() & 0xff));
  }
  return out;
}

std::string Millis(absl::Duration d) {
  return absl::StrCat(std::max<int64_t>(1, absl::ToInt64Milliseconds(d)));
}

absl::string_view Str(const redisReply* r) { return {r->str, r->len}; }

bool IsMessage(const redisReply& r, absl::string_view* text) {
  if (r.type != REDIS_REPLY_ARRAY || r.elements != 3 || r.element[0]->type != REDIS_REPLY_STRING ||
      Str(r.element[0]) != "message") {
    return false;
  }
  *text = Str(r.element[2]);
  return true;
}

}  // namespace

std::string RedisFleet::MakeReplicaName() {
  char host[256] = {0};
  std::string name = "replica";
  if (gethostname(host, sizeof host - 1) == 0 && host[0] != '\0') name = host;
  // Spaces would break the request line; a host name has none, but be sure.
  std::replace(name.begin(), name.end(), ' ', '_');
  return absl::StrCat(name, "-", RandomHex(4));
}

RedisFleet::RedisFleet(Options options)
    : options_(std::move(options)),
      keys_(options_.prefix),
      replica_(options_.replica.empty() ? MakeReplicaName() : options_.replica),
      where_(options_.connect.url.Describe()),
      pool_(options_.connect, options_.pool_size, options_.backoff),
      wake_fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}

RedisFleet::~RedisFleet() {
  Stop(absl::InfinitePast());
  if (wake_fd_ >= 0) close(wake_fd_);
}

absl::Status RedisFleet::Named(const absl::Status& s) const {
  return absl::Status(s.code(), absl::StrCat("Redis at ", where_, ": ", s.message()));
}

absl::Status RedisFleet::Start(Hooks hooks) {
  hooks_ = std::move(hooks);
  thread_ = std::thread([this] { Run(); });
  return absl::OkStatus();
}

void RedisFleet::Stop(absl::Time deadline) {
  if (!thread_.joinable()) return;
  stop_.store(true);
  pool_.CancelInFlight();
  Wake();
  // The thread leaves the fleet on its way out; give it until the deadline.
  while (!done_.load() && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(5));
  if (!done_.load()) {
    std::lock_guard<std::mutex> lock(fd_mu_);
    if (sub_fd_ >= 0) shutdown(sub_fd_, SHUT_RDWR);
    if (cmd_fd_ >= 0) shutdown(cmd_fd_, SHUT_RDWR);
  }
  thread_.join();
}

void RedisFleet::Disconnect() {
  std::lock_guard<std::mutex> lock(fd_mu_);
  sub_fd_ = cmd_fd_ = -1;
  sub_.reset();
  cmd_.reset();
}

void RedisFleet::Wake() {
  uint64_t one = 1;
  ssize_t n = write(wake_fd_, &one, sizeof one);
  (void)n;
}

// ---- callers' side ----------------------------------------------------------

absl::StatusOr<bool> RedisFleet::TakeStream(absl::string_view key, size_t limit, size_t* held) {
  absl::ReaderMutexLock resync(&resync_mu_);
  const std::vector<std::string> keys = {keys_.fleet(absl::StrCat("streams:", key)),
                                         keys_.fleet(absl::StrCat("held:", replica_))};
  const std::vector<std::string> args = {replica_, absl::StrCat(limit), keys_.fleet("alive:"),
                                         std::string(key)};
  bool taken = false;
  absl::Status s = pool_.Run([&](RedisConnection& conn) -> absl::Status {
    absl::StatusOr<RedisReplyPtr> r = conn.Eval(kFleetTakeScript, keys, args);
    if (!r.ok()) return r.status();
    if (absl::Status error = ReplyStatus(**r); !error.ok()) return error;
    const redisReply& reply = **r;
    if (reply.type != REDIS_REPLY_ARRAY || reply.elements != 2) {
      return absl::InternalError("the fleet take script answered an unexpected reply");
    }
    taken = reply.element[0]->integer == 1;
    *held = static_cast<size_t>(std::max<long long>(0, reply.element[1]->integer));
    return absl::OkStatus();
  });
  std::lock_guard<std::mutex> lock(mu_);
  if (!s.ok()) {
    // Sent without an answer: Redis may count a stream the ledger does not.
    if (absl::IsDeadlineExceeded(s)) resync_needed_ = true;
    return Named(s);
  }
  if (taken) ++counts_[std::string(key)];
  return taken;
}

void RedisFleet::ReleaseStream(absl::string_view key) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = counts_.find(key);
    if (it == counts_.end()) return;  // a resync already dropped it
    if (--it->second == 0) counts_.erase(it);
    ++releases_[std::string(key)];
  }
  Wake();
}

void RedisFleet::CountUnchecked(absl::string_view key) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++counts_[std::string(key)];
    // Redis learns of it from the ledger, written whole by the next resync.
    resync_needed_ = true;
  }
  Wake();
}

absl::StatusOr<FleetDisconnect> RedisFleet::DisconnectElsewhere(const std::string& user) {
  const std::string request = RandomHex(8);
  const std::string reply_key = keys_.fleet(absl::StrCat("reply:", request));
  const std::string text = absl::StrCat("d ", request, " ", replica_, " ", user);
  long long reached = 0;
  absl::Status s = pool_.Run([&](RedisConnection& conn) -> absl::Status {
    absl::StatusOr<RedisReplyPtr> r = conn.Checked({"PUBLISH", keys_.fleet_topic(), text});
    if (!r.ok()) return r.status();
    reached = (*r)->integer;
    return absl::OkStatus();
  });
  if (!s.ok()) return Named(s);

  // `reached` counts every subscriber, this replica's own thread too: it
  // answers "self", so the others are told apart without guessing.
  FleetDisconnect out;
  bool self = false;
  long long got = 0;
  const absl::Time deadline = absl::Now() + options_.answer_timeout;
  // Each wait stays inside the command timeout, so the connection is not
  // taken for broken while Redis holds the BLPOP.
  const absl::Duration slice =
      std::max(absl::Milliseconds(10), options_.connect.command_timeout / 2);
  pool_
      .Run([&](RedisConnection& conn) -> absl::Status {
        while (got < reached) {
          const absl::Duration left = deadline - absl::Now();
          if (left <= absl::ZeroDuration()) break;
          const double wait = absl::ToDoubleSeconds(std::min(left, slice));
          absl::StatusOr<RedisReplyPtr> r =
              conn.Checked({"BLPOP", reply_key, absl::StrFormat("%.3f", std::max(0.001, wait))});
          if (!r.ok()) return r.status();
          const redisReply& reply = **r;
          if (reply.type != REDIS_REPLY_ARRAY || reply.elements != 2) continue;  // timed out
          ++got;
          std::vector<absl::string_view> parts = absl::StrSplit(Str(reply.element[1]), ' ');
          uint32_t n = 0;
          if (parts.size() == 2 && parts[1] == "self") {
            self = true;
          } else if (parts.size() == 2 && absl::SimpleAtoi(parts[1], &n)) {
            ++out.answered;
            out.disconnected += n;
          }
        }
        return conn.Checked({"DEL", reply_key}).status();
      })
      .IgnoreError();  // what was collected stands; answered < told says the rest
  out.told = static_cast<uint32_t>(std::max<long long>(0, reached - (self ? 1 : 0)));
  return out;
}

absl::StatusOr<std::vector<ReplicaStats>> RedisFleet::Stats() {
  std::vector<ReplicaStats> out;
  absl::Status s = pool_.Run([&](RedisConnection& conn) -> absl::Status {
    absl::StatusOr<RedisReplyPtr> r =
        conn.Eval(kFleetStatsScript, {keys_.fleet("replicas")}, {keys_.fleet("alive:")});
    if (!r.ok()) return r.status();
    if (absl::Status error = ReplyStatus(**r); !error.ok()) return error;
    const redisReply& reply = **r;
    out.clear();
    for (size_t i = 0; i + 1 < reply.elements; i += 2) {
      ReplicaStats stats;
      if (DecodeReplicaStats(ReplyString(*reply.element[i]), ReplyString(*reply.element[i + 1]),
                             &stats)) {
        out.push_back(std::move(stats));
      }
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return Named(s);
  return out;
}

// ---- the fleet's thread -------------------------------------------------------

void RedisFleet::Run() {
  absl::Duration delay = options_.backoff.min;
  bool up = false;
  while (!stop_.load()) {
    absl::Status s;
    if (sub_ == nullptr) {
      s = Connect();
      if (s.ok()) {
        delay = options_.backoff.min;
        next_refresh_ = absl::InfinitePast();
        // Redis may have lost writes while this replica was away (a
        // failover to a lagging replica, a restart from an older dump)
        // though its lease survived: rewrite this replica's counts from
        // its own ledger, or a lost release would lock a user out for good.
        std::lock_guard<std::mutex> lock(mu_);
        resync_needed_ = true;
      }
    }
    bool resync_due;
    {
      std::lock_guard<std::mutex> lock(mu_);
      resync_due = resync_needed_;
    }
    if (s.ok() && (resync_due || absl::Now() >= next_refresh_)) {
      s = Refresh();
      next_refresh_ = absl::Now() + options_.refresh;
    }
    if (s.ok()) s = FlushReleases();
    if (s.ok()) {
      if (!up && options_.on_state) options_.on_state("fleet_connected", replica_);
      up = true;
      const absl::Duration until = std::max(absl::ZeroDuration(), next_refresh_ - absl::Now());
      pollfd fds[2] = {{sub_->fd(), POLLIN, 0}, {wake_fd_, POLLIN, 0}};
      poll(fds, 2, static_cast<int>(std::min<int64_t>(100, absl::ToInt64Milliseconds(until) + 1)));
      if (fds[1].revents) {
        uint64_t drained;
        ssize_t n = read(wake_fd_, &drained, sizeof drained);
        (void)n;
      }
      if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
        s = sub_->ReadSocket();
        while (s.ok()) {
          absl::StatusOr<RedisReplyPtr> reply = sub_->NextBuffered();
          if (!reply.ok()) s = reply.status();
          if (!s.ok() || *reply == nullptr) break;
          absl::string_view text;
          if (IsMessage(**reply, &text)) OnRequest(text);
        }
      }
      if (s.ok() && cmd_->broken()) s = absl::UnavailableError("fleet command connection lost");
    }
    if (s.ok()) continue;
    Disconnect();
    if (up || delay == options_.backoff.min) {
      if (options_.on_state) options_.on_state("fleet_unavailable", std::string(s.message()));
    }
    up = false;
    pollfd w = {wake_fd_, POLLIN, 0};
    poll(&w, 1, static_cast<int>(absl::ToInt64Milliseconds(delay)));
    uint64_t drained;
    ssize_t n = read(wake_fd_, &drained, sizeof drained);
    (void)n;
    delay = std::min(delay * 2, options_.backoff.max);
  }
  // Leaving on purpose: drop the lease and reap ourselves, so the other
  // replicas stop counting this one at once instead of after the lease.
  if (cmd_ != nullptr && !cmd_->broken()) {
    cmd_->Checked({"DEL", keys_.fleet(absl::StrCat("alive:", replica_))}).IgnoreError();
    cmd_->Eval(kFleetReapScript, {keys_.fleet("replicas")},
               {keys_.fleet("alive:"), keys_.fleet("held:"), keys_.fleet("streams:")})
        .IgnoreError();
  }
  done_.store(true);
}

absl::Status RedisFleet::Connect() {
  absl::StatusOr<std::unique_ptr<RedisConnection>> sub = RedisConnection::Connect(options_.connect);
  if (!sub.ok()) return sub.status();
  absl::StatusOr<std::unique_ptr<RedisConnection>> cmd = RedisConnection::Connect(options_.connect);
  if (!cmd.ok()) return cmd.status();
  {
    std::lock_guard<std::mutex> lock(fd_mu_);
    sub_ = std::move(*sub);
    cmd_ = std::move(*cmd);
    sub_fd_ = sub_->fd();
    cmd_fd_ = cmd_->fd();
  }
  // Stopped while connecting: Stop() may have looked at the fds before
  // they were set, so do not start a call it could not cut.
  if (stop_.load()) return absl::CancelledError("stopping");
  sub_->Append({"SUBSCRIBE", keys_.fleet_topic()});
  if (absl::Status s = sub_->Flush(); !s.ok()) return s;
  absl::StatusOr<RedisReplyPtr> confirmed = sub_->Read();
  if (!confirmed.ok()) return confirmed.status();
  return absl::OkStatus();
}

absl::Status RedisFleet::Refresh() {
  ReplicaStats stats;
  if (hooks_.local_stats) stats = hooks_.local_stats();
  stats.replica = replica_;
  stats.reported_at = absl::Now();
  absl::StatusOr<RedisReplyPtr> r = cmd_->Eval(
      kFleetBeatScript, {keys_.fleet(absl::StrCat("alive:", replica_)), keys_.fleet("replicas")},
      {replica_, EncodeReplicaStats(stats), Millis(options_.lease)});
  if (!r.ok()) return r.status();
  if (absl::Status error = ReplyStatus(**r); !error.ok()) return error;
  bool resync = (*r)->type == REDIS_REPLY_INTEGER && (*r)->integer == 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    resync = resync || resync_needed_;
  }
  if (resync) {
    if (absl::Status s = Resync(); !s.ok()) return s;
  }
  absl::StatusOr<RedisReplyPtr> reaped =
      cmd_->Eval(kFleetReapScript, {keys_.fleet("replicas")},
                 {keys_.fleet("alive:"), keys_.fleet("held:"), keys_.fleet("streams:")});
  if (!reaped.ok()) return reaped.status();
  return ReplyStatus(**reaped);
}

absl::Status RedisFleet::Resync() {
  absl::WriterMutexLock alone(&resync_mu_);
  std::vector<std::string> args = {replica_, keys_.fleet("streams:")};
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [key, n] : counts_) {
      args.push_back(key);
      args.push_back(absl::StrCat(n));
    }
    // Written as absolute counts: the releases waiting are in them already.
    releases_.clear();
    resync_needed_ = false;
  }
  absl::StatusOr<RedisReplyPtr> r =
      cmd_->Eval(kFleetResyncScript, {keys_.fleet(absl::StrCat("held:", replica_))}, args);
  absl::Status s = r.ok() ? ReplyStatus(**r) : r.status();
  if (!s.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    resync_needed_ = true;
  }
  return s;
}

absl::Status RedisFleet::FlushReleases() {
  absl::flat_hash_map<std::string, size_t> releases;
  {
    std::lock_guard<std::mutex> lock(mu_);
    // A resync is due (it runs first in the next turn of the loop) and
    // writes absolute counts: a release of a stream Redis never counted
    // (CountUnchecked) must not be taken off what Redis holds before it.
    if (resync_needed_) return absl::OkStatus();
    releases.swap(releases_);
  }
  if (releases.empty()) return absl::OkStatus();
  std::vector<RedisConnection::ScriptCall> calls;
  const std::string held = keys_.fleet(absl::StrCat("held:", replica_));
  for (const auto& [key, n] : releases) {
    calls.push_back(
        {{keys_.fleet(absl::StrCat("streams:", key)), held}, {replica_, absl::StrCat(n), key}});
  }
  absl::Status failed;
  for (absl::StatusOr<RedisReplyPtr>& r : cmd_->EvalMany(kFleetReleaseScript, calls)) {
    absl::Status s = r.ok() ? ReplyStatus(**r) : r.status();
    if (!s.ok() && failed.ok()) failed = s;
  }
  if (!failed.ok()) {
    // Some may have been applied: the next refresh writes the ledger again.
    std::lock_guard<std::mutex> lock(mu_);
    resync_needed_ = true;
    next_refresh_ = absl::InfinitePast();
  }
  return cmd_->broken() ? failed : absl::OkStatus();
}

void RedisFleet::OnRequest(absl::string_view text) {
  // "d <request> <origin> <user>": the user last, as it may hold spaces.
  std::vector<absl::string_view> parts = absl::StrSplit(text, absl::MaxSplits(' ', 3));
  if (parts.size() != 4 || parts[0] != "d") return;
  std::string answer;
  if (parts[2] == replica_) {
    answer = absl::StrCat(replica_, " self");
  } else {
    const uint32_t n = hooks_.disconnect_local ? hooks_.disconnect_local(std::string(parts[3])) : 0;
    answer = absl::StrCat(replica_, " ", n);
  }
  // The answer outlives the asker's wait a little, then Redis drops it.
  cmd_->Eval(kFleetReplyScript, {keys_.fleet(absl::StrCat("reply:", parts[1]))},
             {answer, Millis(options_.answer_timeout + absl::Seconds(10))})
      .IgnoreError();  // a broken connection is found by the loop
}

}  // namespace ssebridge
