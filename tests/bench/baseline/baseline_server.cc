// ssebridge_bench_baseline: the floor the benchmark compares against.
//
// A minimal single-threaded epoll SSE fan-out server with no broker, no
// history and no validation, in one of two modes:
//   --mode=send       one send() per delivery: each published event is
//                     written to each stream at once with its own syscall
//   --mode=coalesced  events are appended to each stream's buffer and every
//                     touched stream is flushed with one send() after the
//                     whole batch of publish requests read in one loop turn
//
//   GET  /sub...   an SSE stream (every stream gets every event)
//   POST /pub      body = event data; answered "ok" (keep-alive, pipelining)
//
// --http_port (0 = ephemeral); logs {"msg":"listening","http_port":N} on
// stderr. Stops on SIGTERM/SIGINT.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

volatile sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }

struct Conn {
  int fd = -1;
  bool stream = false;
  bool want_out = false;
  bool dirty = false;
  std::string in;
  std::string out;  // unsent bytes (a stream's backlog or HTTP responses)
};

class Server {
 public:
  Server(bool coalesce, int port) : coalesce_(coalesce), port_(port) {}

  int Run() {
    lfd_ = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(lfd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(uint16_t(port_));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(lfd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(lfd_, 4096) != 0) {
      std::fprintf(stderr, "{\"msg\":\"cannot listen\",\"error\":\"%s\"}\n", std::strerror(errno));
      return 2;
    }
    socklen_t alen = sizeof a;
    getsockname(lfd_, reinterpret_cast<sockaddr*>(&a), &alen);
    ep_ = epoll_create1(EPOLL_CLOEXEC);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = ~uint64_t(0);
    epoll_ctl(ep_, EPOLL_CTL_ADD, lfd_, &ev);
    std::fprintf(stderr, "{\"msg\":\"listening\",\"http_port\":%d,\"mode\":\"%s\"}\n",
                 ntohs(a.sin_port), coalesce_ ? "coalesced" : "send");
    std::fflush(stderr);
    std::vector<epoll_event> evs(1024);
    while (!g_stop) {
      int n = epoll_wait(ep_, evs.data(), int(evs.size()), 200);
      if (n < 0) {
        if (errno == EINTR) continue;
        return 1;
      }
      for (int k = 0; k < n; ++k) {
        uint64_t tag = evs[size_t(k)].data.u64;
        if (tag == ~uint64_t(0)) {
          Accept();
          continue;
        }
        int fd = int(tag);
        if (size_t(fd) >= conns_.size() || conns_[size_t(fd)].fd < 0) continue;
        uint32_t e = evs[size_t(k)].events;
        if (e & EPOLLOUT) Flush(fd);
        if (size_t(fd) < conns_.size() && conns_[size_t(fd)].fd >= 0 &&
            (e & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP))) {
          Read(fd);
        }
      }
      // Coalesced mode: one send() per touched stream for the whole batch.
      for (int fd : dirty_) {
        if (size_t(fd) < conns_.size() && conns_[size_t(fd)].fd >= 0) {
          conns_[size_t(fd)].dirty = false;
          Flush(fd);
        }
      }
      dirty_.clear();
    }
    std::fprintf(stderr, "{\"msg\":\"stopped\",\"sends\":%llu,\"deliveries\":%llu}\n",
                 static_cast<unsigned long long>(sends_),
                 static_cast<unsigned long long>(deliveries_));
    return 0;
  }

 private:
  void Accept() {
    for (int i = 0; i < 256; ++i) {
      int fd = accept4(lfd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      if (size_t(fd) >= conns_.size()) conns_.resize(size_t(fd) + 1024);
      Conn& c = conns_[size_t(fd)];
      c = Conn();
      c.fd = fd;
      epoll_event ev{};
      ev.events = EPOLLIN | EPOLLRDHUP;
      ev.data.u64 = uint64_t(fd);
      epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev);
    }
  }

  void Close(int fd) {
    Conn& c = conns_[size_t(fd)];
    if (c.stream) {
      for (size_t i = 0; i < streams_.size(); ++i) {
        if (streams_[i] == fd) {
          streams_[i] = streams_.back();
          streams_.pop_back();
          break;
        }
      }
    }
    close(fd);
    c = Conn();
  }

  void SetWantOut(int fd, bool want) {
    Conn& c = conns_[size_t(fd)];
    if (c.want_out == want) return;
    c.want_out = want;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP | (want ? EPOLLOUT : 0u);
    ev.data.u64 = uint64_t(fd);
    epoll_ctl(ep_, EPOLL_CTL_MOD, fd, &ev);
  }

  // Sends the connection's backlog: one send() call (more only when the
  // socket takes part of it and then more room appears).
  void Flush(int fd) {
    Conn& c = conns_[size_t(fd)];
    if (c.out.empty()) {
      SetWantOut(fd, false);
      return;
    }
    ssize_t n = send(fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
    ++sends_;
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        SetWantOut(fd, true);
        return;
      }
      Close(fd);
      return;
    }
    c.out.erase(0, size_t(n));
    SetWantOut(fd, !c.out.empty());
  }

  void Deliver(const std::string& frame) {
    for (int fd : streams_) {
      Conn& c = conns_[size_t(fd)];
      ++deliveries_;
      if (coalesce_) {
        c.out += frame;
        if (!c.dirty) {
          c.dirty = true;
          dirty_.push_back(fd);
        }
      } else if (!c.out.empty()) {
        c.out += frame;  // behind a backlog: keep the order
      } else {
        ssize_t n = send(fd, frame.data(), frame.size(), MSG_NOSIGNAL);
        ++sends_;
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) continue;  // closed on next read
        size_t sent = n < 0 ? 0 : size_t(n);
        if (sent < frame.size()) {
          c.out.assign(frame, sent, std::string::npos);
          SetWantOut(fd, true);
        }
      }
    }
  }

  void Read(int fd) {
    Conn& c = conns_[size_t(fd)];
    char buf[65536];
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
      Close(fd);
      return;
    }
    if (n < 0) return;
    if (c.stream) return;  // a stream's client says nothing after its request
    c.in.append(buf, size_t(n));
    bool answered = false;
    while (true) {
      size_t end = c.in.find("\r\n\r\n");
      if (end == std::string::npos) break;
      std::string head = c.in.substr(0, end);
      if (head.compare(0, 4, "GET ") == 0) {
        c.in.erase(0, end + 4);
        c.stream = true;
        streams_.push_back(fd);
        c.out +=
            "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
            "X-Accel-Buffering: no\r\n\r\n: ok\n\nretry: 3000\n\n";
        Flush(fd);
        return;
      }
      size_t body_len = 0;
      for (size_t p = 0; p < head.size();) {
        size_t eol = head.find("\r\n", p);
        if (eol == std::string::npos) eol = head.size();
        if (eol - p > 15 && strncasecmp(head.c_str() + p, "content-length:", 15) == 0) {
          body_len = size_t(std::strtoull(head.c_str() + p + 15, nullptr, 10));
        }
        p = eol + 2;
      }
      if (c.in.size() < end + 4 + body_len) break;
      std::string body = c.in.substr(end + 4, body_len);
      c.in.erase(0, end + 4 + body_len);
      if (head.compare(0, 5, "POST ") != 0) {
        c.out += "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
      } else {
        ++seq_;
        std::string frame = "id: " + std::to_string(seq_) + "\ndata: " + body + "\n\n";
        Deliver(frame);
        c.out += "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n";
      }
      answered = true;
    }
    if (answered) Flush(fd);
  }

  bool coalesce_;
  int port_;
  int lfd_ = -1;
  int ep_ = -1;
  std::vector<Conn> conns_;
  std::vector<int> streams_;
  std::vector<int> dirty_;
  unsigned long long seq_ = 0;
  unsigned long long sends_ = 0;
  unsigned long long deliveries_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  std::string mode = "send";
  int port = 0;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--mode=", 0) == 0) {
      mode = a.substr(7);
    } else if (a.rfind("--http_port=", 0) == 0) {
      port = std::atoi(a.c_str() + 12);
    } else {
      std::fprintf(stderr, "usage: %s --mode=send|coalesced --http_port=N\n", argv[0]);
      return 2;
    }
  }
  if (mode != "send" && mode != "coalesced") {
    std::fprintf(stderr, "--mode must be send or coalesced\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  Server server(mode == "coalesced", port);
  return server.Run();
}
