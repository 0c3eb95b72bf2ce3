// `loadgen pub`: publishes benchmark events, each carrying its send time.
//
//   --mode=grpc-stream   ssebridge.v1.Publisher/PublishStream, up to --window
//                        requests awaiting their response
//   --mode=grpc-unary    Publisher/Publish, one call at a time
//   --mode=grpc-batch-stream  BatchPublisher/PublishBatchStream: up to
//                        --batch events per message (default 100), up to
//                        --window events awaiting their response
//   --mode=http          POST over --conns keep-alive connections, up to
//                        --pipeline requests in flight on each; the body is
//                        shaped by --format (bridge, nchan, pushpin,
//                        better-sse, baseline); with --format=bridge,
//                        --http_batch=N sends N events per POST as a JSON
//                        array (ssebridge's batch publish), each counted
//
// --events (0 = as many as fit in --duration_ms), --rate events/s (0 = as
// fast as the server accepts), --size payload bytes, --channel.
// --user_targets=U sets user_ids=["u<seq % U>"] (per-user delivery).
// --raw_data=TEXT publishes TEXT instead (the runner's "warmup" events).
// Prints one JSON line with what was sent, accepted and when.
#include "publisher.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common.h"
#include "http_sse.h"

namespace bench {

int64_t DueNs(const PubConfig& c, int64_t t0, int64_t i) {
  if (c.rate <= 0) return 0;
  return t0 + int64_t(double(i) * 1e9 / c.rate);
}

bool MoreToSend(const PubConfig& c, int64_t i, int64_t now, int64_t t0) {
  if (c.events > 0 && i >= c.events) return false;
  return now - t0 < c.duration_ns;
}

namespace {

void Print(const PubConfig& c, const PubResult& r) {
  std::string out = "{\"role\":\"pub\",\"mode\":";
  JsonString(c.mode, &out);
  out += ",\"format\":";
  JsonString(c.format, &out);
  auto num = [&](const char* k, int64_t v) {
    out += ",\"";
    out += k;
    out += "\":" + std::to_string(v);
  };
  num("sent", r.sent);
  num("accepted", r.accepted);
  num("errors", r.errors);
  num("subscribers_sum", r.subscribers_sum);
  num("first_send_ns", r.first_send_ns);
  num("last_send_ns", r.last_send_ns);
  num("last_ack_ns", r.last_ack_ns);
  num("max_lag_ns", r.max_lag_ns);
  num("server_closes", r.server_closes);
  double secs = double(r.last_ack_ns - r.first_send_ns) / 1e9;
  char buf[64];
  std::snprintf(buf, sizeof buf, ",\"accepted_per_s\":%.1f",
                secs > 0 ? double(r.accepted) / secs : 0.0);
  out += buf;
  out += ",\"error_kinds\":{";
  bool first = true;
  for (const auto& [what, count] : r.error_kinds) {
    if (!first) out += ',';
    first = false;
    JsonString(what, &out);
    out += ":" + std::to_string(count);
  }
  out += "}}\n";
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
}

// ---- HTTP -----------------------------------------------------------------

// Escapes for a JSON string body; `sse` also turns the payload into an SSE
// frame first (Pushpin's http-stream content).
void AppendJsonEscaped(const std::string& s, std::string* out) {
  std::string q;
  JsonString(s, &q);
  out->append(q, 1, q.size() - 2);
}

// One event as ssebridge's (and better-sse's) JSON body.
void AppendBridgeEvent(const PubConfig& c, const std::string& payload, std::string* body) {
  *body += "{\"channel\":\"" + c.channel + "\",";
  if (!c.event.empty()) *body += "\"event\":\"" + c.event + "\",";
  *body += "\"data\":\"";
  AppendJsonEscaped(payload, body);
  *body += "\"}";
}

std::string HttpHead(const PubConfig& c, const std::string& content_type, size_t body_bytes) {
  return "POST " + c.path + " HTTP/1.1\r\nHost: " + c.host + ":" + std::to_string(c.port) +
         "\r\nContent-Type: " + content_type + "\r\nContent-Length: " + std::to_string(body_bytes) +
         "\r\n\r\n";
}

std::string HttpRequest(const PubConfig& c, const std::string& payload) {
  std::string body;
  std::string content_type = "application/json";
  if (c.format == "bridge" || c.format == "better-sse") {
    AppendBridgeEvent(c, payload, &body);
  } else if (c.format == "pushpin") {
    std::string frame;
    if (!c.event.empty()) frame = "event: " + c.event + "\n";
    frame += "data: " + payload + "\n\n";
    body = "{\"items\":[{\"channel\":\"" + c.channel +
           "\",\"formats\":{\"http-stream\":{\"content\":\"";
    AppendJsonEscaped(frame, &body);
    body += "\"}}}]}";
  } else if (c.format == "nchan" || c.format == "baseline") {
    body = payload;
    content_type = "text/plain";
  } else {
    Die("pub: unknown --format " + c.format);
  }
  return HttpHead(c, content_type, body.size()) + body;
}

struct HttpConn {
  int fd = -1;
  std::string out;
  size_t out_off = 0;
  int inflight = 0;
  std::deque<int64_t> batch_events;  // --http_batch: events of each request in flight
  std::string body;                  // --http_batch: the response being read
  HttpResponseParser parser;
  bool connected = false;
  bool want_out = false;
};

class HttpPublisher {
 public:
  explicit HttpPublisher(const PubConfig& c) : c_(c) {}

  PubResult Run() {
    ep_ = epoll_create1(EPOLL_CLOEXEC);
    dst_.sin_family = AF_INET;
    dst_.sin_port = htons(uint16_t(c_.port));
    if (inet_pton(AF_INET, c_.host.c_str(), &dst_.sin_addr) != 1) Die("pub: --host must be IPv4");
    conns_.resize(size_t(c_.conns));
    for (size_t k = 0; k < conns_.size(); ++k) Connect(k);
    const int64_t t0 = NowNs();
    std::vector<epoll_event> evs(64);
    int64_t i = 0;
    while (true) {
      int64_t now = NowNs();
      bool more = MoreToSend(c_, i, now, t0);
      int64_t inflight = 0;
      for (auto& hc : conns_) inflight += hc.inflight;
      if (!more && inflight == 0) break;
      if (now - t0 > c_.duration_ns + c_.drain_ns) {
        ++r_.error_kinds["drain limit reached with requests in flight"];
        break;
      }
      if (reconnects_ > 100000) {
        ++r_.error_kinds["more than 100000 reconnects"];
        break;
      }
      for (size_t k = 0; k < conns_.size(); ++k) {
        if (conns_[k].fd < 0) {
          ++reconnects_;
          Connect(k);
        }
      }
      // Hand due events to connections with room.
      int64_t wait_ns = 50000000;
      if (more) {
        for (size_t k = 0; k < conns_.size() && MoreToSend(c_, i, now, t0); ++k) {
          HttpConn& hc = conns_[k];
          while (hc.connected && hc.inflight < c_.pipeline && MoreToSend(c_, i, now, t0)) {
            int64_t due = DueNs(c_, t0, i);
            if (due > now) {
              wait_ns = std::min<int64_t>(wait_ns, due - now);
              break;
            }
            if (due > 0 && now - due > r_.max_lag_ns) r_.max_lag_ns = now - due;
            if (r_.first_send_ns == 0) r_.first_send_ns = now;
            r_.last_send_ns = now;
            if (c_.http_batch > 0) {
              // Up to --http_batch events that are due, in one JSON array.
              batch_body_ = "[";
              int64_t n = 0;
              while (n < c_.http_batch && MoreToSend(c_, i, now, t0) && DueNs(c_, t0, i) <= now) {
                NextPayload(now, i);
                if (n > 0) batch_body_ += ',';
                AppendBridgeEvent(c_, payload_, &batch_body_);
                ++n;
                ++i;
              }
              batch_body_ += ']';
              hc.out += HttpHead(c_, "application/json", batch_body_.size());
              hc.out += batch_body_;
              hc.batch_events.push_back(n);
            } else {
              NextPayload(now, i);
              hc.out += HttpRequest(c_, payload_);
              ++i;
            }
            ++hc.inflight;
            r_.sent = i;
            now = NowNs();
          }
          Flush(k);
        }
      }
      for (auto& hc : conns_) {
        if (hc.fd < 0) wait_ns = std::min<int64_t>(wait_ns, 10000000);  // retry soon
      }
      timespec ts{wait_ns / 1000000000, long(wait_ns % 1000000000)};
      int n = epoll_pwait2(ep_, evs.data(), int(evs.size()), &ts, nullptr);
      for (int e = 0; e < n; ++e) {
        size_t k = size_t(evs[size_t(e)].data.u64);
        HttpConn& hc = conns_[k];
        if (hc.fd < 0) continue;
        uint32_t ev = evs[size_t(e)].events;
        if (!hc.connected && (ev & EPOLLOUT)) {
          int err = 0;
          socklen_t len = sizeof err;
          getsockopt(hc.fd, SOL_SOCKET, SO_ERROR, &err, &len);
          if (err != 0) {
            Broken(k, std::string("connect: ") + std::strerror(err));
            continue;
          }
          hc.connected = true;
        }
        if (ev & EPOLLOUT) Flush(k);
        if (ev & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP)) Read(k);
      }
    }
    for (auto& hc : conns_) {
      if (hc.fd >= 0) close(hc.fd);
    }
    close(ep_);
    return r_;
  }

 private:
  void Connect(size_t k) {
    HttpConn& hc = conns_[k];
    hc = HttpConn();
    hc.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(hc.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    int rc = connect(hc.fd, reinterpret_cast<sockaddr*>(&dst_), sizeof dst_);
    if (rc != 0 && errno != EINPROGRESS) {
      // Counted; the main loop tries again (bounded by the run's time).
      ++r_.error_kinds[std::string("connect: ") + std::strerror(errno)];
      close(hc.fd);
      hc.fd = -1;
      return;
    }
    hc.connected = rc == 0;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP;
    ev.data.u64 = k;
    epoll_ctl(ep_, EPOLL_CTL_ADD, hc.fd, &ev);
    hc.want_out = true;
  }

  void SetWantOut(size_t k, bool want) {
    HttpConn& hc = conns_[k];
    if (hc.want_out == want) return;
    hc.want_out = want;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP | (want ? EPOLLOUT : 0u);
    ev.data.u64 = k;
    epoll_ctl(ep_, EPOLL_CTL_MOD, hc.fd, &ev);
  }

  void Flush(size_t k) {
    HttpConn& hc = conns_[k];
    if (!hc.connected) return;
    while (hc.out_off < hc.out.size()) {
      ssize_t n = send(hc.fd, hc.out.data() + hc.out_off, hc.out.size() - hc.out_off, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
          SetWantOut(k, true);
          return;
        }
        Broken(k, std::string("send: ") + std::strerror(errno));
        return;
      }
      hc.out_off += size_t(n);
    }
    hc.out.clear();
    hc.out_off = 0;
    SetWantOut(k, false);
  }

  void Read(size_t k) {
    HttpConn& hc = conns_[k];
    ssize_t n = recv(hc.fd, buf_, sizeof buf_, 0);
    if (n == 0) {
      Broken(k, "closed by server");
      return;
    }
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      Broken(k, std::string("recv: ") + std::strerror(errno));
      return;
    }
    int64_t now = NowNs();
    const char* p = buf_;
    size_t left = size_t(n);
    while (left > 0) {
      size_t used = hc.parser.Feed(p, left, [&hc, this](const char* d, size_t m) {
        if (c_.http_batch > 0) hc.body.append(d, m);
      });
      p += used;
      left -= used;
      if (hc.parser.error()) {
        Broken(k, "malformed HTTP response");
        return;
      }
      if (!hc.parser.done()) break;
      int status = hc.parser.status();
      bool closes = hc.parser.closes();
      hc.parser.Reset();
      --hc.inflight;
      int64_t events = 1;
      int64_t failed = 0;  // events of a batch answered with an error
      if (c_.http_batch > 0) {
        events = hc.batch_events.front();
        hc.batch_events.pop_front();
        for (size_t at = 0; (at = hc.body.find("\"error\":", at)) != std::string::npos; ++at) {
          ++failed;
        }
        hc.body.clear();
      }
      if (status >= 200 && status < 300) {
        r_.accepted += events - failed;
        r_.errors += failed;
        if (failed > 0) r_.error_kinds["batch event refused"] += failed;
        r_.last_ack_ns = now;
      } else {
        r_.errors += events;
        r_.error_kinds["HTTP " + std::to_string(status)] += events;
      }
      if (closes) {
        Broken(k, "");
        return;
      }
    }
  }

  // The connection is gone (or the server said it closes it after its
  // response): requests still in flight on it are lost, and it reconnects.
  void Broken(size_t k, const std::string& why) {
    HttpConn& hc = conns_[k];
    if (!why.empty()) ++r_.error_kinds[why];
    if (why.empty()) ++r_.server_closes;
    if (c_.http_batch > 0) {
      for (int64_t n : hc.batch_events) r_.errors += n;
    } else {
      r_.errors += hc.inflight;
    }
    close(hc.fd);
    hc.fd = -1;
    ++reconnects_;
    Connect(k);
  }

  void NextPayload(int64_t now, int64_t i) {
    if (c_.raw_data.empty()) {
      MakePayload(now, i, size_t(c_.size), &payload_);
    } else {
      payload_ = c_.raw_data;
    }
  }

  const PubConfig& c_;
  PubResult r_;
  int ep_ = -1;
  sockaddr_in dst_{};
  std::vector<HttpConn> conns_;
  std::string payload_;
  std::string batch_body_;
  int reconnects_ = 0;
  char buf_[65536];
};

}  // namespace

int RunPublisher(Options& o) {
  PubConfig c;
  c.mode = o.Str("mode", "grpc-stream");
  c.target = o.Str("target", "");
  c.host = o.Str("host", "127.0.0.1");
  c.port = int(o.Int("port", 0));
  c.path = o.Str("path", "/v1/publish");
  c.format = o.Str("format", c.mode == "http" ? "bridge" : "grpc");
  c.channel = o.Str("channel", "bench");
  c.event = o.Str("event", "");
  c.events = o.Int("events", 0);
  c.rate = o.Double("rate", 0);
  c.size = o.Int("size", 100);
  c.duration_ns = o.Int("duration_ms", 60000) * 1000000;
  c.drain_ns = o.Int("drain_ms", 30000) * 1000000;
  c.window = o.Int("window", 1000);
  c.batch = c.mode == "grpc-batch-stream" ? o.Int("batch", 100) : 0;
  c.http_batch = c.mode == "http" ? o.Int("http_batch", 0) : 0;
  c.hint_every = o.Int("hint_every", 0);
  c.conns = int(o.Int("conns", 1));
  c.pipeline = int(o.Int("pipeline", 1));
  c.user_targets = o.Int("user_targets", 0);
  c.raw_data = o.Str("raw_data", "");
  o.CheckAllUsed();
  if (c.events == 0 && c.rate <= 0 && c.duration_ns <= 0) Die("pub: unbounded run");
  if (c.window < 1 || c.conns < 1 || c.conns > 256 || c.pipeline < 1)
    Die("pub: bad window/conns/pipeline");
  PubResult r;
  if (c.mode == "grpc-batch-stream" && (c.batch < 1 || c.batch > 1000)) {
    Die("pub: --batch must be 1 to 1000");
  }
  if (c.http_batch < 0 || c.http_batch > 100000 || (c.http_batch > 0 && c.format != "bridge")) {
    Die("pub: --http_batch must be 0 to 100000, with --format=bridge");
  }
  if (c.mode == "grpc-stream" || c.mode == "grpc-unary" || c.mode == "grpc-batch-stream") {
    if (c.target.empty()) Die("pub: --target=host:port is required for gRPC");
    r = c.mode == "grpc-unary" ? RunGrpcUnary(c) : RunGrpcStream(c);
  } else if (c.mode == "http") {
    if (c.port <= 0) Die("pub: --port is required for HTTP");
    HttpPublisher p(c);
    r = p.Run();
  } else {
    Die("pub: unknown --mode " + c.mode);
  }
  Print(c, r);
  return 0;
}

}  // namespace bench
