#include "bridge/broker/redis/sentinel_primary_locator.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace ssebridge {

namespace {

// A sentinel that refused our password (WRONGPASS), or wants one we did
// not send (NOAUTH), is misconfigured, and no retry mends it: name the flag,
// since "redis AUTH failed" alone reads like Redis' own password.
absl::Status NamePasswordFlag(const absl::Status& s) {
  if (s.code() != absl::StatusCode::kPermissionDenied &&
      !absl::StrContains(s.message(), "NOAUTH")) {
    return s;
  }
  return absl::Status(s.code(), absl::StrCat(s.message(),
                                             " (the sentinels' own password: "
                                             "--redis_sentinel_password_file)"));
}

}  // namespace

SentinelPrimaryLocator::SentinelPrimaryLocator(Options options) : options_(std::move(options)) {
  if (pipe2(wake_, O_NONBLOCK | O_CLOEXEC) != 0) wake_[0] = wake_[1] = -1;
}

SentinelPrimaryLocator::~SentinelPrimaryLocator() {
  stopping_.store(true);
  {
    // Under fds_mu_ only descriptors still open are touched (each is
    // unregistered before its connection closes it).
    std::lock_guard<std::mutex> lock(fds_mu_);
    for (int fd : open_fds_) shutdown(fd, SHUT_RDWR);
  }
  Wake();
  if (watcher_.joinable()) watcher_.join();
  for (int fd : wake_) {
    if (fd >= 0) close(fd);
  }
}

void SentinelPrimaryLocator::StartWatching() {
  if (watcher_.joinable() || options_.sentinels.empty()) return;
  watcher_ = std::thread([this] { Watch(); });
}

void SentinelPrimaryLocator::Register(int fd) {
  std::lock_guard<std::mutex> lock(fds_mu_);
  open_fds_.push_back(fd);
  if (stopping_.load()) shutdown(fd, SHUT_RDWR);
}

void SentinelPrimaryLocator::Unregister(int fd) {
  std::lock_guard<std::mutex> lock(fds_mu_);
  open_fds_.erase(std::remove(open_fds_.begin(), open_fds_.end(), fd), open_fds_.end());
}

void SentinelPrimaryLocator::Report(const std::string& state, const std::string& detail) {
  if (options_.on_state) options_.on_state(state, detail);
}

std::optional<RedisPrimaryAddress> SentinelPrimaryLocator::known() const {
  std::lock_guard<std::mutex> lock(mu_);
  return known_;
}

RedisPrimaryAddress SentinelPrimaryLocator::Adopt(const RedisPrimaryAddress& address) {
  std::string old;
  bool first = false;
  RedisPrimaryAddress out;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (known_.has_value() && known_->host == address.host && known_->port == address.port) {
      RedisPrimaryAddress same = *known_;
      same.generation = generation();
      return same;
    }
    first = !known_.has_value();
    if (!first) old = known_->Describe();
    known_ = address;
    // Moved() and the generation read under mu_: a concurrent Adopt of yet
    // another address cannot slip in between, or a connection to this
    // address would carry the newer generation and outlive that move.
    if (!first) Moved();
    out = address;
    out.generation = generation();
  }
  if (first) {
    Report("redis_primary", address.Describe());
  } else {
    Report("redis_primary_moved", absl::StrCat(old, " -> ", address.Describe()));
  }
  return out;
}

bool SentinelPrimaryLocator::ApplySwitchMessage(const std::string& payload) {
  RedisPrimaryAddress to;
  if (!ParseSwitchMaster(payload, options_.master, &to)) return false;
  Adopt(to);
  return true;
}

absl::StatusOr<std::unique_ptr<RedisConnection>> SentinelPrimaryLocator::ConnectTo(
    const SentinelAddress& s) {
  RedisConnectOptions o;
  o.url.host = s.host;
  o.url.port = s.port;
  o.url.password = options_.password;
  o.url.db = 0;  // sentinels have no databases: no SELECT
  o.connect_timeout = options_.timeout;
  o.command_timeout = options_.timeout;
  o.tls = options_.tls;
  return RedisConnection::Connect(o);  // no locator: this very address
}

absl::StatusOr<RedisPrimaryAddress> SentinelPrimaryLocator::Ask(const SentinelAddress& s) {
  absl::StatusOr<std::unique_ptr<RedisConnection>> conn = ConnectTo(s);
  if (!conn.ok()) return NamePasswordFlag(conn.status());
  Register((*conn)->fd());
  absl::StatusOr<RedisReplyPtr> r =
      (*conn)->Command({"SENTINEL", "get-master-addr-by-name", options_.master});
  Unregister((*conn)->fd());
  if (!r.ok()) return r.status();
  absl::StatusOr<RedisPrimaryAddress> a = ParseMasterAddrReply(**r, options_.master);
  if (!a.ok()) return NamePasswordFlag(a.status());
  return a;
}

absl::StatusOr<RedisPrimaryAddress> SentinelPrimaryLocator::Locate() {
  std::vector<std::string> errors;
  const size_t count = options_.sentinels.size();
  const size_t first = last_good_.load() % std::max<size_t>(count, 1);
  for (size_t i = 0; i < count; ++i) {
    if (stopping_.load()) return absl::UnavailableError("stopping");
    const size_t at = (first + i) % count;
    const SentinelAddress& s = options_.sentinels[at];
    absl::StatusOr<RedisPrimaryAddress> a = Ask(s);
    if (a.ok()) {
      last_good_.store(at);
      return Adopt(*a);
    }
    errors.push_back(absl::StrCat(s.Describe(), ": ", a.status().message()));
  }
  const std::string why = absl::StrJoin(errors, "; ");
  Report("sentinel_unavailable", why);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (known_.has_value()) {
      // No sentinel answers: the last primary is still the best guess, and
      // ROLE tells whether it still is one.
      RedisPrimaryAddress last = *known_;
      last.generation = generation();
      return last;
    }
  }
  return absl::UnavailableError(absl::StrCat("no sentinel answered (", why, ")"));
}

void SentinelPrimaryLocator::Suspect(const RedisPrimaryAddress& /*address*/) {
  refresh_.store(true);
  Wake();
}

void SentinelPrimaryLocator::Wake() {
  if (wake_[1] < 0) return;
  const char b = 1;
  ssize_t n = write(wake_[1], &b, 1);  // a full pipe already wakes
  (void)n;
}

bool SentinelPrimaryLocator::WaitWake(absl::Duration timeout) {
  pollfd p = {wake_[0], POLLIN, 0};
  const int ms = static_cast<int>(std::max<int64_t>(absl::ToInt64Milliseconds(timeout), 1));
  if (poll(&p, 1, ms) <= 0) return false;
  char buf[64];
  while (read(wake_[0], buf, sizeof buf) > 0) {
  }
  return true;
}

void SentinelPrimaryLocator::Watch() {
  size_t next = 0;
  absl::Duration backoff = options_.backoff_min;
  while (!stopping_.load()) {
    const SentinelAddress& s = options_.sentinels[next];
    bool subscribed = false;
    absl::Status lost = NamePasswordFlag(WatchOne(s, &subscribed));
    if (stopping_.load()) break;
    Report("sentinel_unavailable", absl::StrCat(s.Describe(), ": ", lost.message()));
    next = (next + 1) % options_.sentinels.size();
    if (subscribed) backoff = options_.backoff_min;
    // A full round of failures backs off; the next sentinel is tried at once.
    if (next == 0 || !subscribed) {
      WaitWake(backoff);
      backoff = std::min(backoff * 2, options_.backoff_max);
    }
    if (refresh_.exchange(false)) (void)Locate();
  }
}

absl::Status SentinelPrimaryLocator::WatchOne(const SentinelAddress& s, bool* subscribed) {
  absl::StatusOr<std::unique_ptr<RedisConnection>> made = ConnectTo(s);
  if (!made.ok()) return made.status();
  RedisConnection& conn = **made;
  Register(conn.fd());
  // Unregistered before `made` closes the descriptor.
  struct Unregistering {
    SentinelPrimaryLocator* self;
    int fd;
    ~Unregistering() { self->Unregister(fd); }
  } unregistering{this, conn.fd()};
  absl::StatusOr<RedisReplyPtr> sub = conn.Checked({"SUBSCRIBE", "+switch-master"});
  if (!sub.ok()) return sub.status();
  *subscribed = true;
  Report("sentinel_watching", s.Describe());
  // Subscribed first, then asked: a switch between the two is not missed.
  (void)Locate();
  const absl::Duration idle = 2 * options_.timeout;
  bool ping_outstanding = false;
  absl::Time ping_sent;
  absl::Time last_heard = absl::Now();
  while (!stopping_.load()) {
    pollfd p[2] = {{conn.fd(), POLLIN, 0}, {wake_[0], POLLIN, 0}};
    const absl::Duration wait = ping_outstanding ? options_.timeout - (absl::Now() - ping_sent)
                                                 : idle - (absl::Now() - last_heard);
    const int ms = static_cast<int>(std::max<int64_t>(absl::ToInt64Milliseconds(wait), 1));
    const int n = poll(p, wake_[0] >= 0 ? 2 : 1, ms);
    if (n < 0 && errno != EINTR) return absl::UnavailableError("poll failed");
    if (p[1].revents != 0) {
      WaitWake(absl::ZeroDuration());
      if (refresh_.exchange(false)) (void)Locate();
    }
    if (p[0].revents != 0) {
      if (absl::Status r = conn.ReadSocket(); !r.ok()) return r;
      last_heard = absl::Now();
      while (true) {
        absl::StatusOr<RedisReplyPtr> reply = conn.NextBuffered();
        if (!reply.ok()) return reply.status();
        if (*reply == nullptr) break;
        std::string payload;
        if (SwitchMasterPayload(**reply, &payload)) {
          ApplySwitchMessage(payload);
        } else {
          ping_outstanding = false;  // the PING's ["pong", ""]
        }
      }
    }
    const absl::Time now = absl::Now();
    if (ping_outstanding && now - ping_sent > options_.timeout) {
      return absl::UnavailableError("sentinel did not answer PING in time");
    }
    // Silent for `idle`, whatever woke the poll (wakes may come faster
    // than `idle` and must not keep a frozen sentinel from being noticed).
    if (!ping_outstanding && now - last_heard >= idle) {
      conn.Append({"PING"});
      if (absl::Status f = conn.Flush(); !f.ok()) return f;
      ping_outstanding = true;
      ping_sent = now;
    }
  }
  return absl::CancelledError("stopping");
}

}  // namespace ssebridge
