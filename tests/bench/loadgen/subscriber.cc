// `loadgen sub`: one process, one thread, one epoll loop holding a slice of
// the benchmark's SSE streams.
//
// It opens --conns streams at most --connect_rate per second (and at most
// --max_pending connects in flight), parses each response as HTTP then SSE,
// and records for every benchmark event (payload from MakePayload) its
// publish->receive latency, which stream got it, and the first and last
// receive time per event. Protocol with the coordinator:
//   stdout: {"ready":...}            once every stream is open or has failed
//           {"warm":...}             once every open stream got an event
//                                    whose data starts with "warmup"
//           {"role":"sub",...}       the result, last line, then exit
//   stdin:  expect K                 each stream should get events 0..K-1
//           stop IDLE_MS HARD_MS     finish when every stream has every
//                                    event, or after IDLE_MS without an
//                                    event, or HARD_MS after this command
//           quit / end of input      finish now
// Every wait is bounded by --timeout_ms as well.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "common.h"
#include "http_sse.h"
#include "jwt_mint.h"

namespace bench {
namespace {

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

constexpr uint64_t kStdinTag = ~uint64_t(0);

struct Stream {
  enum class Phase { kWaiting, kConnecting, kHeaders, kOpen, kClosed, kFailed };
  int fd = -1;
  Phase phase = Phase::kWaiting;
  int attempts = 0;
  int64_t retry_at_ns = 0;
  size_t request_sent = 0;
  HttpResponseParser http;
  SseDataScanner sse;
  std::vector<uint64_t> seen;  // one bit per expected event
  int64_t received = 0;
  int64_t last_seq = -1;
  bool complete = false;
  bool warm = false;  // got a "warmup" event: the stream is attached
};

std::string ReadSecret(const std::string& path) {
  if (path.empty()) return "";
  std::ifstream in(path, std::ios::binary);
  std::string secret((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (secret.empty()) Die("sub: cannot read --jwt_secret_file " + path);
  while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
  return secret;
}

class Subscriber {
 public:
  explicit Subscriber(Options& o)
      : host_(o.Str("host", "127.0.0.1")),
        port_(int(o.Int("port", 0))),
        path_(o.Str("path", "/v1/events?channel=bench")),
        source_(o.Str("source", "")),
        conns_(o.Int("conns", 1)),
        first_index_(o.Int("first_index", 0)),
        connect_rate_(o.Double("connect_rate", 2000)),
        max_pending_(o.Int("max_pending", 256)),
        max_attempts_(int(o.Int("max_attempts", 3))),
        events_(o.Int("events", 0)),
        expected_(o.Int("expect", events_)),
        user_stride_(o.Int("user_stride", 0)),
        per_event_(o.Int("per_event", 1) != 0),
        timeout_ns_(o.Int("timeout_ms", 120000) * 1000000),
        headers_(o.All("header")),
        jwt_secret_(ReadSecret(o.Str("jwt_secret_file", ""))) {
    if (port_ <= 0) Die("sub: --port is required");
    if (conns_ <= 0 || conns_ > 19000) Die("sub: --conns must be 1..19000");
    if (events_ < 0 || events_ > 50000000) Die("sub: --events out of range");
    o.CheckAllUsed();
  }

  int Run();

 private:
  std::string RequestFor(int64_t index) const;
  void StartConnect(size_t i, int64_t now);
  void Fail(size_t i, const std::string& why, int64_t now, bool retryable);
  void OnWritable(size_t i, int64_t now);
  void OnReadable(size_t i);
  void OnEnd(size_t i, const std::string& why, int64_t now);
  void Record(Stream& s, const char* data, size_t len, int64_t now);
  void ReadStdin(int64_t now);
  void MaybeReady(int64_t now);
  void MaybeWarm(int64_t now);
  bool AllComplete() const;
  void Report(int64_t now);
  void NoteError(const std::string& e) { ++error_kinds_[e]; }

  // Options.
  std::string host_;
  int port_;
  std::string path_;
  std::string source_;
  int64_t conns_;
  int64_t first_index_;
  double connect_rate_;
  int64_t max_pending_;
  int max_attempts_;
  int64_t events_;
  int64_t expected_;
  // Per-user scenario: stream i is user u<i> and must only ever see events
  // whose seq % stride == i; anything else is counted as foreign.
  int64_t user_stride_;
  int64_t foreign_ = 0;
  bool per_event_;
  int64_t timeout_ns_;
  std::vector<std::string> headers_;
  std::string jwt_secret_;  // "{jwt}" in a header: a token for user u<i>

  // State.
  int ep_ = -1;
  sockaddr_in dst_{};
  sockaddr_in src_{};
  std::vector<Stream> streams_;
  std::vector<char> buf_ = std::vector<char>(256 * 1024);
  size_t next_to_start_ = 0;
  int64_t pending_ = 0;      // connects and requests awaiting response headers
  int64_t retries_due_ = 0;  // streams waiting to connect again
  int64_t started_ns_ = 0;
  int64_t open_ = 0;
  int64_t failed_ = 0;
  int64_t closed_early_ = 0;
  bool ready_ = false;
  int64_t warm_ = 0;  // streams that got a warm-up event
  bool warm_reported_ = false;
  int64_t ready_ns_ = 0;
  bool stdin_open_ = false;
  std::string stdin_buf_;
  bool stopping_ = false;
  int64_t stop_idle_ns_ = 0;
  int64_t stop_deadline_ns_ = 0;
  bool finish_now_ = false;
  std::map<int, int64_t> statuses_;
  std::map<std::string, int64_t> error_kinds_;

  // Measurements.
  Histogram latency_;
  int64_t deliveries_ = 0;
  int64_t duplicates_ = 0;
  int64_t out_of_order_ = 0;
  int64_t out_of_range_ = 0;
  int64_t other_events_ = 0;
  int64_t complete_open_ = 0;  // open streams holding every expected event
  int64_t bytes_ = 0;
  int64_t first_recv_ns_ = 0;
  int64_t last_recv_ns_ = 0;
  std::vector<int64_t> ev_first_;
  std::vector<int64_t> ev_last_;
  std::vector<int32_t> ev_count_;
};

std::string Subscriber::RequestFor(int64_t index) const {
  std::string path = path_;
  const std::string idx = std::to_string(index);
  for (size_t p; (p = path.find("{i}")) != std::string::npos;) path.replace(p, 3, idx);
  std::string req = "GET " + path + " HTTP/1.1\r\nHost: " + host_ + ":" + std::to_string(port_) +
                    "\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\n";
  for (std::string h : headers_) {
    for (size_t p; (p = h.find("{i}")) != std::string::npos;) h.replace(p, 3, idx);
    for (size_t p; (p = h.find("{jwt}")) != std::string::npos;) {
      if (jwt_secret_.empty()) Die("sub: {jwt} in --header needs --jwt_secret_file");
      h.replace(p, 5, MintHs256(jwt_secret_, "u" + idx));
    }
    req += h + "\r\n";
  }
  req += "\r\n";
  return req;
}

void Subscriber::StartConnect(size_t i, int64_t now) {
  Stream& s = streams_[i];
  ++s.attempts;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    Fail(i, std::string("socket: ") + std::strerror(errno), now, false);
    return;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (!source_.empty()) {
    // Pick the port at connect() time, per destination, so 127.0.0.x source
    // addresses each get the whole ephemeral range.
    setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    if (bind(fd, reinterpret_cast<sockaddr*>(&src_), sizeof src_) != 0) {
      std::string e = std::string("bind: ") + std::strerror(errno);
      close(fd);
      Fail(i, e, now, false);
      return;
    }
  }
  s.fd = fd;
  s.phase = Stream::Phase::kConnecting;
  s.request_sent = 0;
  s.http.Reset();
  ++pending_;
  int rc = connect(fd, reinterpret_cast<sockaddr*>(&dst_), sizeof dst_);
  if (rc != 0 && errno != EINPROGRESS) {
    Fail(i, std::string("connect: ") + std::strerror(errno), now, true);
    return;
  }
  epoll_event ev{};
  ev.events = EPOLLOUT | EPOLLIN | EPOLLRDHUP;
  ev.data.u64 = i;
  if (epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    Fail(i, std::string("epoll_ctl: ") + std::strerror(errno), now, false);
  }
}

void Subscriber::Fail(size_t i, const std::string& why, int64_t now, bool retryable) {
  Stream& s = streams_[i];
  if (s.fd >= 0) {
    close(s.fd);  // also removes it from epoll
    s.fd = -1;
  }
  if (s.phase == Stream::Phase::kConnecting || s.phase == Stream::Phase::kHeaders) --pending_;
  NoteError(why);
  if (retryable && s.attempts < max_attempts_) {
    s.phase = Stream::Phase::kWaiting;
    s.retry_at_ns = now + 200000000LL * s.attempts;  // 200 ms, 400 ms, ...
    ++retries_due_;
    return;
  }
  s.phase = Stream::Phase::kFailed;
  ++failed_;
}

void Subscriber::OnWritable(size_t i, int64_t now) {
  Stream& s = streams_[i];
  if (s.phase != Stream::Phase::kConnecting) return;
  if (s.request_sent == 0) {
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      Fail(i, std::string("connect: ") + std::strerror(err), now, true);
      return;
    }
  }
  std::string req = RequestFor(first_index_ + int64_t(i));
  while (s.request_sent < req.size()) {
    ssize_t n = send(s.fd, req.data() + s.request_sent, req.size() - s.request_sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;  // EPOLLOUT again
      Fail(i, std::string("send: ") + std::strerror(errno), now, true);
      return;
    }
    s.request_sent += size_t(n);
  }
  s.phase = Stream::Phase::kHeaders;
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP;
  ev.data.u64 = i;
  epoll_ctl(ep_, EPOLL_CTL_MOD, s.fd, &ev);
}

void Subscriber::Record(Stream& s, const char* data, size_t len, int64_t now) {
  int64_t sent_ns = 0, seq = 0;
  if (!ParsePayload(data, len, &sent_ns, &seq)) {
    ++other_events_;
    if (!s.warm && len >= 6 && std::memcmp(data, "warmup", 6) == 0) {
      s.warm = true;
      ++warm_;
      MaybeWarm(now);
    }
    return;
  }
  if (seq < 0 || seq >= events_) {
    ++out_of_range_;
    return;
  }
  if (user_stride_ > 0 &&
      seq % user_stride_ != (first_index_ + int64_t(&s - streams_.data())) % user_stride_) {
    ++foreign_;
    return;
  }
  uint64_t bit = uint64_t(1) << (seq & 63);
  uint64_t& word = s.seen[size_t(seq >> 6)];
  if (word & bit) {
    ++duplicates_;
    return;
  }
  word |= bit;
  if (seq < s.last_seq) ++out_of_order_;
  s.last_seq = seq;
  ++s.received;
  ++deliveries_;
  latency_.Add((now - sent_ns) / 1000);
  if (first_recv_ns_ == 0 || now < first_recv_ns_) first_recv_ns_ = now;
  if (now > last_recv_ns_) last_recv_ns_ = now;
  if (per_event_) {
    size_t k = size_t(seq);
    if (ev_count_[k] == 0 || now < ev_first_[k]) ev_first_[k] = now;
    if (now > ev_last_[k]) ev_last_[k] = now;
    ++ev_count_[k];
  }
  if (!s.complete && s.received >= expected_) {
    s.complete = true;
    ++complete_open_;
  }
}

void Subscriber::OnReadable(size_t i) {
  Stream& s = streams_[i];
  for (int rounds = 0; rounds < 4 && s.fd >= 0; ++rounds) {
    ssize_t n = recv(s.fd, buf_.data(), buf_.size(), 0);
    int64_t now = NowNs();
    if (n == 0) {
      OnEnd(i, "closed by server", now);
      return;
    }
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      OnEnd(i, std::string("recv: ") + std::strerror(errno), now);
      return;
    }
    bytes_ += n;
    const char* p = buf_.data();
    size_t left = size_t(n);
    bool was_headers = s.phase == Stream::Phase::kHeaders;
    size_t used = s.http.Feed(p, left, [&](const char* body, size_t blen) {
      s.sse.Feed(body, blen, [&](const char* d, size_t dl) { Record(s, d, dl, now); });
    });
    (void)used;
    if (was_headers && s.http.headers_done()) {
      --pending_;
      ++statuses_[s.http.status()];
      if (s.http.status() != 200) {
        s.phase = Stream::Phase::kFailed;
        ++failed_;
        NoteError("HTTP " + std::to_string(s.http.status()));
        close(s.fd);
        s.fd = -1;
        MaybeReady(now);
        return;
      }
      s.phase = Stream::Phase::kOpen;
      ++open_;
      MaybeReady(now);
    }
    if (s.http.error()) {
      OnEnd(i, "malformed HTTP response", now);
      return;
    }
    if (s.http.done()) {
      OnEnd(i, "response ended", now);
      return;
    }
    if (size_t(n) < buf_.size()) return;
  }
}

void Subscriber::OnEnd(size_t i, const std::string& why, int64_t now) {
  Stream& s = streams_[i];
  if (s.phase == Stream::Phase::kOpen) {
    close(s.fd);
    s.fd = -1;
    s.phase = Stream::Phase::kClosed;
    ++closed_early_;
    if (s.complete) --complete_open_;
    NoteError(why);
    return;
  }
  Fail(i, why, now, true);
  MaybeReady(now);
}

void Subscriber::MaybeReady(int64_t now) {
  if (ready_ || open_ + failed_ < conns_) return;
  ready_ = true;
  ready_ns_ = now;
  // (warm-up events can arrive before the last stream opens)
  std::printf("{\"ready\":true,\"open\":%lld,\"failed\":%lld,\"connect_ms\":%.1f}\n",
              static_cast<long long>(open_), static_cast<long long>(failed_),
              double(now - started_ns_) / 1e6);
  std::fflush(stdout);
  MaybeWarm(now);
}

// Every open stream got a warm-up event: every subscription is attached, so
// the coordinator may start the measured publish.
void Subscriber::MaybeWarm(int64_t now) {
  if (warm_reported_ || !ready_ || warm_ < open_ - closed_early_) return;
  warm_reported_ = true;
  std::printf("{\"warm\":true,\"streams\":%lld,\"ms_since_ready\":%.1f}\n",
              static_cast<long long>(warm_), double(now - ready_ns_) / 1e6);
  std::fflush(stdout);
}

bool Subscriber::AllComplete() const {
  // Streams that closed early can no longer complete: they count as missing.
  return expected_ > 0 && complete_open_ >= open_ - closed_early_;
}

void Subscriber::ReadStdin(int64_t now) {
  char tmp[4096];
  ssize_t n = read(0, tmp, sizeof tmp);
  if (n <= 0) {
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    epoll_ctl(ep_, EPOLL_CTL_DEL, 0, nullptr);
    stdin_open_ = false;
    finish_now_ = true;
    return;
  }
  stdin_buf_.append(tmp, size_t(n));
  for (size_t nl; (nl = stdin_buf_.find('\n')) != std::string::npos;) {
    std::string line = stdin_buf_.substr(0, nl);
    stdin_buf_.erase(0, nl + 1);
    long long a = 0, b = 0;
    if (std::sscanf(line.c_str(), "expect %lld", &a) == 1) {
      expected_ = std::min<int64_t>(a, events_);
      complete_open_ = 0;
      for (Stream& s : streams_) {
        s.complete = s.received >= expected_;
        if (s.complete && s.phase == Stream::Phase::kOpen) ++complete_open_;
      }
    } else if (std::sscanf(line.c_str(), "stop %lld %lld", &a, &b) == 2) {
      stopping_ = true;
      stop_idle_ns_ = a * 1000000;
      stop_deadline_ns_ = now + b * 1000000;
    } else if (line == "quit") {
      finish_now_ = true;
    }
  }
}

int Subscriber::Run() {
  started_ns_ = NowNs();
  const int64_t hard_deadline = started_ns_ + timeout_ns_;
  dst_.sin_family = AF_INET;
  dst_.sin_port = htons(uint16_t(port_));
  if (inet_pton(AF_INET, host_.c_str(), &dst_.sin_addr) != 1)
    Die("sub: --host must be an IPv4 address");
  if (!source_.empty()) {
    src_.sin_family = AF_INET;
    src_.sin_port = 0;
    if (inet_pton(AF_INET, source_.c_str(), &src_.sin_addr) != 1) Die("sub: bad --source");
  }
  streams_.resize(size_t(conns_));
  if (events_ > 0) {
    for (Stream& s : streams_) s.seen.assign(size_t((events_ + 63) / 64), 0);
    if (per_event_) {
      ev_first_.assign(size_t(events_), 0);
      ev_last_.assign(size_t(events_), 0);
      ev_count_.assign(size_t(events_), 0);
    }
  }
  ep_ = epoll_create1(EPOLL_CLOEXEC);
  if (ep_ < 0) Die("epoll_create1 failed");
  {
    fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = kStdinTag;
    stdin_open_ = epoll_ctl(ep_, EPOLL_CTL_ADD, 0, &ev) == 0;
  }
  const double interval_ns = connect_rate_ > 0 ? 1e9 / connect_rate_ : 0;
  std::vector<epoll_event> events(1024);
  int64_t last_progress_deliveries = -1;
  int64_t last_progress_ns = started_ns_;
  while (true) {
    int64_t now = NowNs();
    if (now >= hard_deadline) {
      NoteError("timeout_ms reached");
      break;
    }
    if (finish_now_) break;
    // Start connects that are due: bounded by rate and by connects in flight.
    while (next_to_start_ < streams_.size() && pending_ < max_pending_) {
      int64_t due = started_ns_ + int64_t(double(next_to_start_) * interval_ns);
      if (due > now) break;
      StartConnect(next_to_start_++, now);
    }
    // Retries whose back-off is over.
    if (retries_due_ > 0 && pending_ < max_pending_) {
      for (size_t i = 0; i < streams_.size() && pending_ < max_pending_; ++i) {
        Stream& s = streams_[i];
        if (s.phase == Stream::Phase::kWaiting && s.attempts > 0 && s.retry_at_ns <= now) {
          --retries_due_;
          StartConnect(i, now);
        }
      }
    }
    if (ready_ && expected_ > 0 && AllComplete()) break;
    if (stopping_) {
      if (deliveries_ != last_progress_deliveries) {
        last_progress_deliveries = deliveries_;
        last_progress_ns = now;
      }
      int64_t last_activity = std::max(last_progress_ns, last_recv_ns_);
      if (now >= stop_deadline_ns_) {
        NoteError("stop: hard limit reached before every event arrived");
        break;
      }
      if (now - last_activity >= stop_idle_ns_) {
        if (expected_ > 0) NoteError("stop: idle limit reached before every event arrived");
        break;
      }
    }
    int timeout_ms = 50;
    if (next_to_start_ < streams_.size() || retries_due_ > 0) timeout_ms = 1;
    int n = epoll_wait(ep_, events.data(), int(events.size()), timeout_ms);
    if (n < 0) {
      if (errno == EINTR) continue;
      Die(std::string("epoll_wait: ") + std::strerror(errno));
    }
    for (int k = 0; k < n; ++k) {
      uint64_t tag = events[size_t(k)].data.u64;
      uint32_t ev = events[size_t(k)].events;
      now = NowNs();
      if (tag == kStdinTag) {
        ReadStdin(now);
        continue;
      }
      size_t i = size_t(tag);
      Stream& s = streams_[i];
      if (s.fd < 0) continue;
      if (s.phase == Stream::Phase::kConnecting) {
        if (ev & (EPOLLERR | EPOLLHUP)) {
          int err = 0;
          socklen_t len = sizeof err;
          getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &err, &len);
          Fail(i, std::string("connect: ") + std::strerror(err ? err : ECONNRESET), now, true);
          MaybeReady(now);
          continue;
        }
        if (ev & EPOLLOUT) OnWritable(i, now);
        if (s.fd < 0) MaybeReady(now);
        continue;
      }
      if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) OnReadable(i);
    }
  }
  Report(NowNs());
  return 0;
}

void Subscriber::Report(int64_t now) {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  int64_t complete = 0, missing = 0;
  for (const Stream& s : streams_) {
    if (s.phase == Stream::Phase::kWaiting || s.phase == Stream::Phase::kConnecting ||
        s.phase == Stream::Phase::kHeaders) {
      continue;
    }
    if (s.received >= expected_) {
      ++complete;
    } else if (s.phase == Stream::Phase::kOpen || s.phase == Stream::Phase::kClosed) {
      missing += expected_ - s.received;
    }
  }
  int64_t never = 0;
  for (const Stream& s : streams_) {
    if (s.phase == Stream::Phase::kWaiting || s.phase == Stream::Phase::kConnecting ||
        s.phase == Stream::Phase::kHeaders) {
      ++never;
    }
  }
  std::string out = "{\"role\":\"sub\"";
  auto num = [&](const char* k, int64_t v) {
    out += ",\"";
    out += k;
    out += "\":" + std::to_string(v);
  };
  num("conns", conns_);
  num("open", open_);
  num("failed", failed_);
  num("never_opened", never);
  num("closed_early", closed_early_);
  num("events", events_);
  num("expected", expected_);
  num("deliveries", deliveries_);
  num("complete_streams", complete);
  num("missing", missing);
  num("duplicates", duplicates_);
  num("out_of_order", out_of_order_);
  num("out_of_range", out_of_range_);
  num("foreign", foreign_);
  num("other_events", other_events_);
  num("bytes", bytes_);
  num("first_recv_ns", first_recv_ns_);
  num("last_recv_ns", last_recv_ns_);
  num("started_ns", started_ns_);
  num("ready_ns", ready_ns_);
  num("finished_ns", now);
  char cpu[128];
  std::snprintf(cpu, sizeof cpu, ",\"cpu_user_s\":%.3f,\"cpu_sys_s\":%.3f",
                double(ru.ru_utime.tv_sec) + double(ru.ru_utime.tv_usec) / 1e6,
                double(ru.ru_stime.tv_sec) + double(ru.ru_stime.tv_usec) / 1e6);
  out += cpu;
  out += ",\"statuses\":{";
  bool first = true;
  for (const auto& [code, count] : statuses_) {
    if (!first) out += ',';
    first = false;
    out += "\"" + std::to_string(code) + "\":" + std::to_string(count);
  }
  out += "},\"errors\":{";
  first = true;
  for (const auto& [what, count] : error_kinds_) {
    if (!first) out += ',';
    first = false;
    JsonString(what, &out);
    out += ":" + std::to_string(count);
  }
  out += "},\"latency\":" + latency_.Json();
  if (per_event_ && events_ > 0) {
    // Per event: first and last receive time (0 when nobody got it) and count.
    auto arr = [&](const char* k, auto const& v) {
      out += ",\"";
      out += k;
      out += "\":[";
      for (size_t j = 0; j < v.size(); ++j) {
        if (j) out += ',';
        out += std::to_string(v[j]);
      }
      out += ']';
    };
    arr("event_first_ns", ev_first_);
    arr("event_last_ns", ev_last_);
    arr("event_count", ev_count_);
  }
  out += "}\n";
  for (Stream& s : streams_) {
    if (s.fd >= 0) {
      // Abortive close: no TIME_WAIT left behind for the next run's ports.
      linger lg{1, 0};
      setsockopt(s.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
      close(s.fd);
      s.fd = -1;
    }
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
}

}  // namespace

int RunSubscriber(Options& options) {
  Subscriber sub(options);
  return sub.Run();
}

}  // namespace bench
