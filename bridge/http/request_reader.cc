#include "bridge/http/request_reader.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "bridge/core/json_text.h"
#include "bridge/http/http2_preface.h"
#include "bridge/http/http_error.h"

namespace ssebridge {
namespace {

// The reader whose Add() this thread is inside (running Admit inline): a
// request answered on_reader there hands its connection back re-entrantly.
thread_local const RequestReader* t_admitting = nullptr;

// After a refusal, how long the client's remaining bytes are read and
// dropped (closing with unread input would reset the connection, and the
// client could lose the answer).
constexpr absl::Duration kLinger = absl::Seconds(1);

absl::string_view Reason(int status) {
  switch (status) {
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 408:
      return "Request Timeout";
    case 413:
      return "Payload Too Large";
    case 414:
      return "URI Too Long";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 503:
      return "Service Unavailable";
    default:
      return "Bad Request";
  }
}

}  // namespace

namespace {
// The peer's IP as text; "" for a socket without one.
std::string PeerAddress(int fd) {
  sockaddr_storage sa{};
  socklen_t len = sizeof(sa);
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&sa), &len) != 0) return "";
  char text[INET6_ADDRSTRLEN] = {};
  if (sa.ss_family == AF_INET) {
    ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&sa)->sin_addr, text, sizeof(text));
  } else if (sa.ss_family == AF_INET6) {
    ::inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&sa)->sin6_addr, text, sizeof(text));
  }
  return text;
}
}  // namespace

struct RequestReader::Connection final : EventLoop::FdHandler {
  // kHead: reading a head; kBody: its body; kIdle: kept alive, between
  // requests; kClosing: answered, dropping input until closed.
  enum class Phase { kIdle, kHead, kBody, kClosing };
  Connection(RequestReader* r, int f, int s, const RequestLimits& limits)
      : reader(r), fd(f), served(s), request(limits) {}
  void OnFdEvents(uint32_t /*events*/) override { reader->OnReadable(fd); }
  RequestReader* reader;
  int fd;
  int served;
  std::string address;  // the peer's IP ("" when it has none)
  Phase phase = Phase::kHead;
  bool started = false;         // a byte of this request came
  bool edge_triggered = false;  // while a partial HTTP/2 preface is peeked at
  size_t charged = 0;           // bytes counted in buffered_bytes_
  RequestAssembler request;
  std::multimap<absl::Time, int>::iterator deadline;
};

RequestReader::RequestReader(const Options& options, std::function<void(Ready)> ready)
    : options_(options), ready_(std::move(ready)) {}

RequestReader::~RequestReader() { Stop(); }

absl::Status RequestReader::Start() {
  absl::StatusOr<std::unique_ptr<EventLoop>> loop = EventLoop::Create();
  if (!loop.ok()) {
    return absl::InternalError(absl::StrCat("request reader: ", loop.status().message()));
  }
  loop_ = std::move(*loop);
  thread_ = std::thread([this] { loop_->Run(); });
  return absl::OkStatus();
}

void RequestReader::Stop() {
  {
    std::lock_guard<std::mutex> lock(add_mu_);
    if (stopped_) return;
    stopped_ = true;
  }
  if (thread_.joinable()) {
    loop_->Stop();  // after the Add()s posted before it
    thread_.join();
  }
  // The loop has ended: what it still holds is closed here.
  for (auto& [fd, c] : conns_) ::close(fd);
  conns_.clear();
  deadlines_.clear();
  held_.store(0);
  loop_.reset();  // runs the deletions still deferred
}

void RequestReader::Add(int fd, std::string buffered, int served) {
  if (t_admitting == this) {
    // From a request answered on_reader inside the Admit() below, on this
    // thread: that call holds add_mu_ (so the loop is alive and running)
    // and the loop's round. The loop takes the connection in next.
    Ready added{fd, "", std::move(buffered), served};
    loop_->Post([this, added = std::move(added)] { Admit(added); });
    return;
  }
  {
    std::lock_guard<std::mutex> lock(add_mu_);
    if (!stopped_ && loop_ != nullptr) {
      Ready added{fd, "", std::move(buffered), served};
      // A kept-alive connection back from its request thread is taken in
      // right here while the loop sleeps: no wake-up of the reader per
      // request (at a few requests a second that is most of its cost).
      t_admitting = this;
      const bool ran = loop_->TryRunInline([&] { Admit(added); });
      t_admitting = nullptr;
      if (ran) return;
      loop_->Post([this, added = std::move(added)] { Admit(added); });
      return;
    }
  }
  ::shutdown(fd, SHUT_RDWR);
  ::close(fd);
}

void RequestReader::Admit(const Ready& added) {
  const int fd = added.fd;
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL, 0) | O_NONBLOCK);
  auto owned = std::make_unique<Connection>(this, fd, added.served, options_.limits);
  Connection& c = *owned;
  if (!loop_->Watch(fd, EPOLLIN | EPOLLRDHUP, &c).ok()) {
    ::close(fd);
    return;
  }
  c.deadline = deadlines_.end();
  c.address = PeerAddress(fd);
  conns_.emplace(fd, std::move(owned));
  held_.fetch_add(1, std::memory_order_relaxed);
  const size_t per_address = options_.max_connections_per_address;
  if (++addresses_[c.address].connections > per_address && per_address > 0) {
    if (c.served > 0 && added.rest.empty()) {
      Forget(fd, /*close_fd=*/true);  // kept alive, nothing asked: just close
      return;
    }
    Refuse(c, 503,
           absl::StrCat("connection: this address holds its share of ", per_address,
                        " connections waiting for a request "
                        "(--http_waiting_connections_per_ip); retry later"));
    return;
  }
  // A fresh connection's first request is due within header_timeout; a
  // kept-alive one may idle first.
  if (c.served > 0 && added.rest.empty()) {
    c.phase = Connection::Phase::kIdle;
    SetDeadline(c, absl::Now() + options_.idle_timeout);
    return;
  }
  SetDeadline(c, absl::Now() + options_.header_timeout);
  if (!added.rest.empty()) {
    c.started = true;
    c.request.Feed(added.rest);
    if (Charge(c)) Examine(c);
  }
}

void RequestReader::SetDeadline(Connection& c, absl::Time when) {
  if (c.deadline != deadlines_.end()) deadlines_.erase(c.deadline);
  c.deadline = deadlines_.emplace(when, c.fd);
  ArmDeadlineTimer();
}

void RequestReader::ArmDeadlineTimer() {
  if (deadlines_.empty()) return;  // an armed timer finds nothing due: harmless
  const absl::Time earliest = deadlines_.begin()->first;
  if (deadline_timer_ && deadline_timer_at_ <= earliest) return;
  if (deadline_timer_) loop_->Cancel(*deadline_timer_);
  deadline_timer_at_ = earliest;
  deadline_timer_ = loop_->RunAt(earliest, [this] {
    deadline_timer_.reset();
    deadline_timer_at_ = absl::InfiniteFuture();
    ExpireDeadlines(absl::Now());
    ArmDeadlineTimer();
  });
}

void RequestReader::OnReadable(int fd) {
  auto it = conns_.find(fd);
  if (it == conns_.end()) return;
  Connection& c = *it->second;
  if (options_.http2_connections && c.served == 0 && !c.started && !LooksLikeHttp1(c)) {
    return;
  }
  char buf[16 * 1024];
  // Bounded, so one fast sender cannot keep the loop from the others (the
  // epoll is level-triggered: the rest is read on the next round).
  for (int reads = 0; reads < 64; ++reads) {
    const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (n <= 0) {
      Forget(fd, /*close_fd=*/true);
      return;
    }
    if (c.phase == Connection::Phase::kClosing) continue;  // dropped
    if (c.phase == Connection::Phase::kIdle) {
      c.phase = Connection::Phase::kHead;
      SetDeadline(c, absl::Now() + options_.header_timeout);
    }
    c.started = true;
    c.request.Feed(absl::string_view(buf, static_cast<size_t>(n)));
    if (!Charge(c)) return;
    const int before = c.fd;
    Examine(c);
    // Handed over or refused: stop reading into it here.
    if (conns_.find(before) == conns_.end() || c.phase == Connection::Phase::kClosing) {
      return;
    }
  }
}

bool RequestReader::LooksLikeHttp1(Connection& c) {
  char first[kHttp2ClientPreface.size()];
  const ssize_t n = ::recv(c.fd, first, sizeof(first), MSG_PEEK);
  // An error or end of input: the ordinary read below meets it too.
  const ProtocolGuess guess = n <= 0
                                  ? ProtocolGuess::kHttp1
                                  : GuessProtocol(absl::string_view(first, static_cast<size_t>(n)));
  if (guess == ProtocolGuess::kUndecided) {
    // Peeking leaves the bytes in the socket, so a level-triggered epoll
    // would report them again at once; wait for new ones instead. The
    // header deadline still runs.
    if (!c.edge_triggered) {
      (void)loop_->Rewatch(c.fd, EPOLLIN | EPOLLRDHUP | EPOLLET, &c);
      c.edge_triggered = true;
    }
    return false;
  }
  if (guess == ProtocolGuess::kHttp2) {
    const int fd = c.fd;
    http2_handed_over_.fetch_add(1, std::memory_order_relaxed);
    Forget(fd, /*close_fd=*/false);
    options_.http2_connections(fd);
    return false;
  }
  if (c.edge_triggered) {
    (void)loop_->Rewatch(c.fd, EPOLLIN | EPOLLRDHUP, &c);
    c.edge_triggered = false;
  }
  return true;
}

void RequestReader::Examine(Connection& c) {
  switch (c.request.state()) {
    case RequestAssembler::State::kNeedHead:
      return;
    case RequestAssembler::State::kRejected:
      Refuse(c, c.request.reject_status(), c.request.reject_message());
      return;
    case RequestAssembler::State::kNeedBody:
    case RequestAssembler::State::kComplete:
      break;
  }
  if (c.phase == Connection::Phase::kHead && !HeadArrived(c)) return;
  if (c.request.state() != RequestAssembler::State::kComplete) return;
  const bool on_reader =
      options_.answer_on_reader && options_.answer_on_reader(c.request.head(), c.request.body());
  Ready ready{c.fd, c.request.TakeRequest(), c.request.TakeRest(), c.served, on_reader};
  Forget(c.fd, /*close_fd=*/false);
  ready_(std::move(ready));
}

bool RequestReader::Charge(Connection& c) {
  const size_t held = c.request.buffered_bytes();
  AddressShare& share = addresses_[c.address];
  buffered_bytes_ = buffered_bytes_ - c.charged + held;
  share.bytes = share.bytes - c.charged + held;
  c.charged = held;
  buffered_.store(buffered_bytes_, std::memory_order_relaxed);
  const size_t per_address = options_.max_buffered_bytes_per_address;
  if (per_address > 0 && share.bytes > per_address && share.bytes != held) {
    Refuse(c, 503,
           absl::StrCat("request: this address holds its share of ", per_address,
                        " bytes of requests being received "
                        "(--http_body_buffer_bytes_per_ip); retry later"));
    return false;
  }
  const size_t limit = options_.max_buffered_bytes;
  if (limit == 0 || buffered_bytes_ <= limit || buffered_bytes_ == held) return true;
  Refuse(c, 503,
         absl::StrCat("request: the bridge holds its limit of ", limit,
                      " bytes of requests being received "
                      "(--http_body_buffer_bytes); retry later"));
  return false;
}

void RequestReader::Uncharge(Connection& c) {
  auto it = addresses_.find(c.address);
  if (it != addresses_.end()) it->second.bytes -= c.charged;
  buffered_bytes_ -= std::exchange(c.charged, 0);
  buffered_.store(buffered_bytes_, std::memory_order_relaxed);
}

bool RequestReader::HeadArrived(Connection& c) {
  c.phase = Connection::Phase::kBody;
  if (options_.check_head) {
    std::optional<HeadRefusal> refusal = options_.check_head(c.request.head());
    if (refusal) {
      refused_from_head_.fetch_add(1, std::memory_order_relaxed);
      Answer(c, *refusal);
      return false;
    }
  }
  if (c.request.awaits_continue()) {
    static constexpr absl::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    ssize_t ignored = ::send(c.fd, kContinue.data(), kContinue.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    (void)ignored;
  }
  SetDeadline(c, absl::Now() + options_.body_timeout);
  return true;
}

void RequestReader::Refuse(Connection& c, int status, const std::string& message) {
  if (status == 400) {
    malformed_.fetch_add(1, std::memory_order_relaxed);
  } else if (status == 413 || status == 414 || status == 431) {
    refused_.fetch_add(1, std::memory_order_relaxed);
  }
  HeadRefusal answer;
  answer.status = status;
  answer.json = absl::StrCat("{\"error\":", JsonQuote(HttpErrorCode(status)),
                             ",\"message\":", JsonQuote(message), "}\n");
  Answer(c, answer);
}

void RequestReader::Answer(Connection& c, const HeadRefusal& answer) {
  std::string response = absl::StrCat("HTTP/1.1 ", answer.status, " ", Reason(answer.status),
                                      "\r\nContent-Type: application/json\r\n");
  for (const auto& [name, value] : answer.headers) {
    absl::StrAppend(&response, name, ": ", value, "\r\n");
  }
  absl::StrAppend(&response, "Content-Length: ", answer.json.size(),
                  "\r\nConnection: close\r\n\r\n", answer.json);
  // Small enough for an empty socket buffer; a client whose buffer is full
  // loses the answer, not a thread.
  ssize_t ignored = ::send(c.fd, response.data(), response.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  (void)ignored;
  ::shutdown(c.fd, SHUT_WR);
  c.phase = Connection::Phase::kClosing;
  c.request = RequestAssembler(options_.limits);  // frees what it held
  Uncharge(c);
  SetDeadline(c, absl::Now() + kLinger);
}

void RequestReader::ExpireDeadlines(absl::Time now) {
  while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
    const int fd = deadlines_.begin()->second;
    Connection& c = *conns_.at(fd);
    if (c.phase == Connection::Phase::kHead) {
      timed_out_.fetch_add(1, std::memory_order_relaxed);
      if (c.started) {
        Refuse(c, 408,
               absl::StrCat("request: not complete within ",
                            absl::FormatDuration(options_.header_timeout),
                            " (--http_header_timeout)"));
        continue;
      }
    }
    if (c.phase == Connection::Phase::kBody) {
      timed_out_.fetch_add(1, std::memory_order_relaxed);
      Refuse(c, 408,
             absl::StrCat("request body: not complete within ",
                          absl::FormatDuration(options_.body_timeout),
                          " of its head (--http_body_timeout)"));
      continue;
    }
    Forget(fd, /*close_fd=*/true);
  }
}

void RequestReader::Forget(int fd, bool close_fd) {
  auto it = conns_.find(fd);
  if (it == conns_.end()) return;
  Connection& c = *it->second;
  if (c.deadline != deadlines_.end()) deadlines_.erase(c.deadline);
  Uncharge(c);
  auto share = addresses_.find(c.address);
  if (share != addresses_.end() && --share->second.connections == 0) addresses_.erase(share);
  loop_->Unwatch(fd, &c);
  // Freed at the end of the round: its OnFdEvents may be on the stack.
  loop_->DeferDelete([gone = it->second.release()] { delete gone; });
  conns_.erase(it);
  held_.fetch_sub(1, std::memory_order_relaxed);
  if (close_fd) ::close(fd);
}

}  // namespace ssebridge
