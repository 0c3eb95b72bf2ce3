#include "bridge/sse/http_server.h"

#include <fcntl.h>
#include <httplib.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <random>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "bridge/core/json_text.h"
#include "bridge/core/names.h"
#include "bridge/ops/log.h"
#include "bridge/sse/events_request.h"
#include "bridge/sse/request_reader.h"
#include "bridge/sse/request_stream.h"
#include "bridge/sse/sse_encoder.h"

namespace ssebridge {
namespace {

// Filled by the /v1/events handler when it accepts a stream; read by the
// connection loop once httplib is done with the request.
struct Takeover {
  RequestStream* stream = nullptr;
  std::function<void(int fd)> start;
};
thread_local Takeover* t_takeover = nullptr;

void ErrorReply(httplib::Response& res, int status, absl::string_view code,
                absl::string_view message) {
  res.status = status;
  res.set_content(absl::StrCat("{\"error\":", JsonQuote(code),
                               ",\"message\":", JsonQuote(message), "}\n"),
                  "application/json");
}

absl::string_view ErrorCodeFor(int status) {
  switch (status) {
    case 400: return "bad_request";
    case 404: return "not_found";
    case 401: return "unauthenticated";
    case 403: return "permission_denied";
    case 405: return "method_not_allowed";
    case 413: return "payload_too_large";
    case 414: return "uri_too_long";
    case 431: return "header_too_large";
    case 429: return "resource_exhausted";
    case 503: return "unavailable";
    default: return status >= 500 ? "internal" : "bad_request";
  }
}

void AddHeaders(httplib::Response& res, const CorsPolicy::Headers& headers) {
  for (const auto& [k, v] : headers) res.set_header(k, v);
}

// RFC 6750: a 401 names the scheme; with a rejected credential it says so.
void Unauthenticated(httplib::Response& res, absl::string_view message,
                     bool credential_sent) {
  res.set_header("WWW-Authenticate",
                 credential_sent ? "Bearer realm=\"ssebridge\", error=\"invalid_token\""
                                 : "Bearer realm=\"ssebridge\"");
  ErrorReply(res, 401, "unauthenticated", message);
}

}  // namespace

// httplib's accept loop runs process_and_close_socket on its task queue.
// Ours only hands the socket to the RequestReader, so it runs right there
// on the accept thread; requests run on the Impl's own pool once read.
class InlineQueue : public httplib::TaskQueue {
 public:
  void enqueue(std::function<void()> fn) override { fn(); }
  void shutdown() override {}
};

class HttpServer::Impl : public httplib::Server {
 public:
  explicit Impl(const HttpServer::Options& o)
      : body_timeout_(o.body_timeout),
        pool_(static_cast<size_t>(o.threads)),
        reader_(ReaderOptions(o), [this](RequestReader::Ready ready) {
          pool_.enqueue([this, ready = std::move(ready)]() mutable {
            Serve(std::move(ready));
          });
        }) {
    new_task_queue = [] { return new InlineQueue; };
  }
  ~Impl() override { StopWorkers(); }

  absl::Status StartReader() { return reader_.Start(); }
  // After stop() and the accept loop's end: connections still waiting for
  // a request are closed, requests in progress finish.
  void StopWorkers() {
    if (workers_stopped_) return;
    workers_stopped_ = true;
    reader_.Stop();
    pool_.shutdown();
  }
  const RequestReader& reader() const { return reader_; }

  // The packaged default sets SO_REUSEPORT, which would let a second bridge
  // silently share the port; we want bind() to fail instead.
  static void SocketOptions(socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  }

  void Relisten(int backlog) { ::listen(svr_sock_, backlog); }

 private:
  static RequestReader::Options ReaderOptions(const HttpServer::Options& o) {
    RequestReader::Options r;
    r.limits.max_request_line_bytes = o.max_request_line_bytes;
    r.limits.max_header_bytes = o.max_header_bytes;
    r.limits.max_header_count = o.max_header_count;
    r.limits.max_body_bytes = o.max_body_bytes;
    r.header_timeout = o.header_timeout;
    r.idle_timeout = o.idle_timeout;
    return r;
  }

  bool process_and_close_socket(socket_t sock) override {
    reader_.Add(sock, "", 0);
    return true;
  }

  // One request, whose head the reader has read. Afterwards the connection
  // goes back to the reader to wait for the next one (keep-alive), leaves
  // as an SSE stream, or is closed.
  void Serve(RequestReader::Ready ready) {
    const int sock = ready.fd;
    if (!is_running()) {
      ::close(sock);
      return;
    }
    RequestStream strm(sock, std::move(ready.buffered), absl::Now() + body_timeout_);
    Takeover takeover;
    takeover.stream = &strm;
    t_takeover = &takeover;
    const bool last = ready.served + 1 >= static_cast<int>(keep_alive_max_count_);
    bool closed = false;
    const bool ok = process_request(strm, last, closed, nullptr);
    t_takeover = nullptr;
    if (takeover.start) {
      int flags = fcntl(sock, F_GETFL, 0);
      fcntl(sock, F_SETFL, flags | O_NONBLOCK);
      int one = 1;
      setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      takeover.start(sock);
      return;
    }
    if (!ok || closed || last || !is_running()) {
      ::shutdown(sock, SHUT_RDWR);
      ::close(sock);
      return;
    }
    reader_.Add(sock, strm.TakeBuffered(), ready.served + 1);
  }

  const absl::Duration body_timeout_;
  httplib::ThreadPool pool_;
  RequestReader reader_;
  bool workers_stopped_ = false;
};

HttpServer::HttpServer(Options options, Wiring wiring)
    : options_(std::move(options)), wiring_(std::move(wiring)) {}

HttpServer::~HttpServer() { Stop(); }

int64_t HttpServer::JitteredRetryMillis() const {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  int64_t base = absl::ToInt64Milliseconds(options_.retry);
  int64_t jitter = absl::ToInt64Milliseconds(options_.retry_jitter);
  if (jitter <= 0) return base;
  return base + static_cast<int64_t>(rng() % static_cast<uint64_t>(jitter + 1));
}

absl::Status HttpServer::Start() {
  impl_ = std::make_unique<Impl>(options_);
  Impl& svr = *impl_;
  absl::Status reader = svr.StartReader();
  if (!reader.ok()) return reader;
  svr.set_socket_options(&Impl::SocketOptions);
  svr.set_tcp_nodelay(true);
  svr.set_payload_max_length(options_.max_body_bytes);

  svr.set_error_handler(httplib::Server::HandlerWithResponse(
      [](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    std::string message =
        res.status == 404 ? absl::StrCat("no route for ", req.method, " ", req.path)
                          : absl::StrCat("HTTP ", res.status);
    ErrorReply(res, res.status, ErrorCodeFor(res.status), message);
    return httplib::Server::HandlerResponse::Handled;
  }));
  svr.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, const std::exception_ptr&) {
        ErrorReply(res, 500, "internal", "internal error");
      });

  svr.Get("/v1/events", [this](const httplib::Request& req,
                               httplib::Response& res) {
    HandleEvents(req, res);
  });
  // A content-reader handler reads the body itself. httplib's default body
  // reading caps application/x-www-form-urlencoded bodies (curl -d's
  // default type) at 8 KiB, and would parse them as a query string.
  svr.Post("/v1/publish", [this](const httplib::Request& req,
                                 httplib::Response& res,
                                 const httplib::ContentReader& read_body) {
    AddHeaders(res, wiring_.cors->ForOrigin(req.get_header_value("Origin")));
    std::string body;
    const bool complete = read_body([&body](const char* data, size_t n) {
      body.append(data, n);
      return true;
    });
    if (!complete) {
      const bool too_large =
          req.get_header_value<uint64_t>("Content-Length") >
          options_.max_body_bytes;
      ErrorReply(res, too_large ? 413 : 400,
                 too_large ? "payload_too_large" : "bad_request",
                 too_large ? absl::StrCat("body: larger than ",
                                          options_.max_body_bytes, " bytes")
                           : "body: could not be read");
      return;
    }
    const std::string authorization = req.get_header_value("Authorization");
    HttpReply reply = wiring_.publish(body, authorization);
    if (reply.status == 401) {
      res.set_header("WWW-Authenticate",
                     authorization.empty()
                         ? "Bearer realm=\"ssebridge\""
                         : "Bearer realm=\"ssebridge\", error=\"invalid_token\"");
    }
    res.status = reply.status;
    res.set_content(reply.json, "application/json");
  });
  for (const char* path : {"/v1/events", "/v1/publish"}) {
    svr.Options(path, [this](const httplib::Request& req, httplib::Response& res) {
      AddHeaders(res, wiring_.cors->ForPreflight(req.get_header_value("Origin")));
      res.status = 204;
    });
  }
  auto not_allowed = [](absl::string_view allow) {
    return [allow = std::string(allow)](const httplib::Request& req,
                                        httplib::Response& res) {
      res.set_header("Allow", allow);
      ErrorReply(res, 405, "method_not_allowed",
                 absl::StrCat(req.method, " is not allowed on ", req.path,
                              "; use ", allow));
    };
  };
  svr.Post("/v1/events", not_allowed("GET"));
  svr.Put("/v1/events", not_allowed("GET"));
  svr.Delete("/v1/events", not_allowed("GET"));
  svr.Patch("/v1/events", not_allowed("GET"));
  svr.Get("/v1/publish", not_allowed("POST"));
  svr.Put("/v1/publish", not_allowed("POST"));
  svr.Delete("/v1/publish", not_allowed("POST"));
  svr.Patch("/v1/publish", not_allowed("POST"));

  svr.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("{\"status\":\"ok\"}\n", "application/json");
  });
  svr.Get("/readyz", [this](const httplib::Request&, httplib::Response& res) {
    if (draining()) {
      ErrorReply(res, 503, "draining", "the bridge is shutting down");
    } else if (wiring_.ready && !wiring_.ready()) {
      ErrorReply(res, 503, "unavailable", "the broker cannot reach its store");
    } else {
      res.set_content("{\"status\":\"ready\"}\n", "application/json");
    }
  });
  svr.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(wiring_.metrics ? wiring_.metrics() : "",
                    "text/plain; version=0.0.4");
  });

  if (wiring_.extra_routes) {
    wiring_.extra_routes(svr, [](std::function<void(int fd)> start) {
      if (t_takeover == nullptr) return false;
      t_takeover->stream->Discard();
      t_takeover->start = std::move(start);
      return true;
    });
  }

  // Last: the routes above win over files of the same name.
  if (wiring_.static_files != nullptr) {
    svr.Get(R"(/.*)", [this](const httplib::Request& req, httplib::Response& res) {
      ServeStatic(req, res);
    });
  }

  if (options_.port == 0) {
    port_ = svr.bind_to_any_port(options_.address);
  } else if (svr.bind_to_port(options_.address, options_.port)) {
    port_ = options_.port;
  }
  if (port_ < 0) {
    return absl::UnavailableError(absl::StrCat(
        "cannot listen for HTTP on ", options_.address, ":", options_.port,
        " (address in use, or not an address of this host)"));
  }
  // httplib listens with a backlog of 5; a reconnect storm needs far more.
  svr.Relisten(options_.backlog);
  thread_ = std::thread([this] { impl_->listen_after_bind(); });
  return absl::OkStatus();
}

void HttpServer::HandleEvents(const httplib::Request& req,
                              httplib::Response& res) {
  AddHeaders(res, wiring_.cors->ForOrigin(req.get_header_value("Origin")));
  if (draining()) {
    ErrorReply(res, 503, "unavailable",
               "the bridge is shutting down; reconnect to another replica");
    return;
  }
  RequestFields params(req.params.begin(), req.params.end());
  RequestFields headers(req.headers.begin(), req.headers.end());
  absl::StatusOr<EventsRequest> parsed = ParseEventsRequest(
      {req.method, &params, &headers}, options_.max_channels_per_connection);
  if (!parsed.ok()) {
    ErrorReply(res, 400, "invalid_argument", parsed.status().message());
    return;
  }
  std::vector<std::string>& channels = parsed->channels;
  const SubscriberCredentials& credentials = parsed->credentials;
  const bool credential_sent = parsed->credential_sent;
  absl::StatusOr<SubscriberIdentity> identity =
      wiring_.auth->Authenticate(credentials, absl::Now());
  if (identity.ok() && !identity->user_id.empty()) {
    absl::Status valid = ValidateUserId(identity->user_id, "sub");
    if (!valid.ok()) identity = absl::UnauthenticatedError(valid.message());
  }
  if (!identity.ok()) {
    refused_401_.fetch_add(1, std::memory_order_relaxed);
    Unauthenticated(res, identity.status().message(), credential_sent);
    return;
  }
  absl::Status allowed = wiring_.auth->Authorize(*identity, channels);
  if (absl::IsUnauthenticated(allowed)) {
    refused_401_.fetch_add(1, std::memory_order_relaxed);
    Unauthenticated(res, allowed.message(),
                    credential_sent || !identity->ignored_cookie.empty());
    return;
  }
  if (!allowed.ok()) {
    refused_403_.fetch_add(1, std::memory_order_relaxed);
    ErrorReply(res, 403, "permission_denied", allowed.message());
    return;
  }
  if (wiring_.ready && !wiring_.ready()) {
    // Redis is away: an accepted stream could only be closed again at once.
    // EventSource gives up on a non-200 answer; the SDK reconnects after
    // Retry-After.
    res.set_header("Retry-After", "5");
    ErrorReply(res, 503, "unavailable",
               "the broker is unavailable (Redis unreachable); retry later");
    return;
  }
  if (wiring_.writer->streams() >= options_.max_connections) {
    ErrorReply(res, 503, "unavailable",
               absl::StrCat("this bridge holds its limit of ",
                            options_.max_connections,
                            " streams (--max_connections)"));
    return;
  }
  absl::StatusOr<std::unique_ptr<ConnectionLimits::Lease>> lease =
      wiring_.limits->Acquire(identity->user_id, ClientAddress(req));
  if (!lease.ok()) {
    refused_429_.fetch_add(1, std::memory_order_relaxed);
    res.set_header("Retry-After", "10");
    ErrorReply(res, 429, "resource_exhausted", lease.status().message());
    return;
  }
  if (req.method == "HEAD" || t_takeover == nullptr) {
    res.set_header("Cache-Control", "no-cache");
    res.set_content("", "text/event-stream");
    return;
  }

  std::string head = absl::StrCat(
      req.version == "HTTP/1.0" ? "HTTP/1.0" : "HTTP/1.1",
      " 200 OK\r\nContent-Type: text/event-stream\r\n"
      "Cache-Control: no-cache\r\nX-Accel-Buffering: no\r\n");
  for (const auto& [k, v] : res.headers) absl::StrAppend(&head, k, ": ", v, "\r\n");
  absl::StrAppend(&head, "\r\n", SseComment("ok"), SseRetry(JitteredRetryMillis()));

  Subscription::Options sub;
  sub.channels = std::move(channels);
  sub.user_id = identity->user_id;
  sub.queue_bytes = options_.queue_bytes;
  sub.resuming = !parsed->cursor.empty();
  StreamWriter::StreamOptions extra;
  extra.access_log = options_.access_log;
  extra.client_ip = ClientAddress(req);
  extra.cursor = parsed->cursor;
  extra.expires_at = identity->expires_at;
  extra.hold = std::shared_ptr<ConnectionLimits::Lease>(std::move(*lease));
  t_takeover->stream->Discard();
  t_takeover->start = [this, sub = std::move(sub), cursor = std::move(parsed->cursor),
                       head = std::move(head), extra = std::move(extra)](int fd) mutable {
    auto subscription = wiring_.writer->Open(fd, std::move(sub), *wiring_.policies,
                                             std::move(head), std::move(extra));
    wiring_.attach(std::move(subscription), cursor);
  };
  res.status = 200;
}

void HttpServer::ServeStatic(const httplib::Request& req,
                             httplib::Response& res) const {
  absl::StatusOr<StaticFiles::File> file = wiring_.static_files->Read(req.path);
  if (!file.ok()) {
    if (absl::IsInvalidArgument(file.status())) {
      ErrorReply(res, 400, "invalid_argument", file.status().message());
    } else if (absl::IsNotFound(file.status())) {
      ErrorReply(res, 404, "not_found", file.status().message());
    } else {
      ErrorReply(res, 500, "internal", file.status().message());
    }
    return;
  }
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_content(file->body, file->content_type);
}

std::string HttpServer::ClientAddress(const httplib::Request& req) const {
  if (!options_.client_ip_header.empty()) {
    std::string forwarded = req.get_header_value(options_.client_ip_header);
    absl::string_view last = forwarded;
    size_t comma = last.rfind(',');
    if (comma != absl::string_view::npos) last.remove_prefix(comma + 1);
    last = absl::StripAsciiWhitespace(last);
    if (!last.empty()) return std::string(last);
  }
  return req.remote_addr;
}

size_t HttpServer::waiting_connections() const {
  return impl_ ? impl_->reader().connections() : 0;
}
uint64_t HttpServer::request_timeouts() const {
  return impl_ ? impl_->reader().timed_out() : 0;
}
uint64_t HttpServer::requests_too_large() const {
  return impl_ ? impl_->reader().refused() : 0;
}

void HttpServer::Stop() {
  if (!impl_) return;
  impl_->stop();
  if (thread_.joinable()) thread_.join();
  impl_->StopWorkers();
  impl_.reset();
}

}  // namespace ssebridge
