#include "bridge/sse/http_server.h"

#include <fcntl.h>
#include <httplib.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <random>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "bridge/core/event_id.h"
#include "bridge/core/json_text.h"
#include "bridge/core/names.h"
#include "bridge/ops/log.h"
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

class HttpServer::Impl : public httplib::Server {
 public:

  // The packaged default sets SO_REUSEPORT, which would let a second bridge
  // silently share the port; we want bind() to fail instead.
  static void SocketOptions(socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  }

  void Relisten(int backlog) { ::listen(svr_sock_, backlog); }

 private:
  // httplib's keep-alive loop, with one addition: a request accepted as an
  // SSE stream leaves with its socket instead of closing it.
  bool process_and_close_socket(socket_t sock) override {
    RequestStream strm(sock, read_timeout_sec_, write_timeout_sec_);
    Takeover takeover;
    takeover.stream = &strm;
    t_takeover = &takeover;
    bool ret = false;
    for (size_t count = keep_alive_max_count_; count > 0 && is_running();
         --count) {
      if (!WaitForRequest(strm)) break;
      bool closed = false;
      ret = process_request(strm, count == 1, closed, nullptr);
      if (takeover.start) {
        t_takeover = nullptr;
        int flags = fcntl(sock, F_GETFL, 0);
        fcntl(sock, F_SETFL, flags | O_NONBLOCK);
        int one = 1;
        setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        takeover.start(sock);
        return true;
      }
      if (!ret || closed) break;
    }
    t_takeover = nullptr;
    ::shutdown(sock, SHUT_RDWR);
    ::close(sock);
    return ret;
  }

  // An idle keep-alive connection must not hold up stop() for the whole
  // keep-alive timeout: wait in slices and give up once stopped.
  bool WaitForRequest(const RequestStream& strm) {
    for (time_t waited = 0; waited < keep_alive_timeout_sec_ * 10; ++waited) {
      if (!is_running()) return false;
      if (strm.WaitForRequest(100)) return true;
    }
    return false;
  }
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
  impl_ = std::make_unique<Impl>();
  Impl& svr = *impl_;
  const int threads = options_.threads;
  svr.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  svr.set_socket_options(&Impl::SocketOptions);
  svr.set_tcp_nodelay(true);
  svr.set_payload_max_length(options_.max_body_bytes);
  svr.set_keep_alive_timeout(5);
  svr.set_read_timeout(10);

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
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
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
  const size_t count = req.get_param_value_count("channel");
  if (count == 0) {
    ErrorReply(res, 400, "invalid_argument",
               "channel: at least one ?channel= query parameter is required");
    return;
  }
  if (count > options_.max_channels_per_connection) {
    ErrorReply(res, 400, "invalid_argument",
               absl::StrCat("channel: ", count, " channels requested; the limit "
                            "is ", options_.max_channels_per_connection,
                            " (--max_channels_per_connection)"));
    return;
  }
  std::vector<std::string> channels;
  absl::flat_hash_set<std::string> seen;
  for (size_t i = 0; i < count; ++i) {
    std::string name = req.get_param_value("channel", i);
    absl::Status s = ValidateChannelName(name, "channel");
    if (!s.ok()) {
      ErrorReply(res, 400, "invalid_argument", s.message());
      return;
    }
    if (seen.insert(name).second) channels.push_back(std::move(name));
  }
  // The browser's Last-Event-ID header (on reconnect) wins over the query
  // parameter (first connect). A bad header is not the page's fault: it gets
  // a reset event instead of an error EventSource could not recover from.
  std::string cursor;
  if (req.has_header("Last-Event-ID")) {
    cursor = req.get_header_value("Last-Event-ID");
  } else if (req.has_param("lastEventId")) {
    cursor = req.get_param_value("lastEventId");
    absl::StatusOr<EventId> id = ParseEventId(cursor, "lastEventId");
    if (!id.ok()) {
      ErrorReply(res, 400, "invalid_argument", id.status().message());
      return;
    }
  }
  SubscriberCredentials credentials;
  credentials.authorization = req.get_header_value("Authorization");
  credentials.cookie_header = req.get_header_value("Cookie");
  credentials.ticket = req.get_param_value("ticket");
  credentials.access_token = req.get_param_value("access_token");
  credentials.keep_ticket = req.method == "HEAD";
  const bool credential_sent =
      !credentials.authorization.empty() || !credentials.ticket.empty() ||
      !credentials.access_token.empty();
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
  sub.resuming = !cursor.empty();
  StreamWriter::StreamOptions extra;
  extra.access_log = options_.access_log;
  extra.client_ip = ClientAddress(req);
  extra.cursor = cursor;
  extra.expires_at = identity->expires_at;
  extra.hold = std::shared_ptr<ConnectionLimits::Lease>(std::move(*lease));
  t_takeover->stream->Discard();
  t_takeover->start = [this, sub = std::move(sub), cursor = std::move(cursor),
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
  res.set_content(std::move(file->body), file->content_type);
}

std::string HttpServer::ClientAddress(const httplib::Request& req) const {
  if (!options_.client_ip_header.empty()) {
    std::string forwarded = req.get_header_value(options_.client_ip_header.c_str());
    absl::string_view last = forwarded;
    size_t comma = last.rfind(',');
    if (comma != absl::string_view::npos) last.remove_prefix(comma + 1);
    last = absl::StripAsciiWhitespace(last);
    if (!last.empty()) return std::string(last);
  }
  return req.remote_addr;
}

void HttpServer::Stop() {
  if (!impl_) return;
  impl_->stop();
  if (thread_.joinable()) thread_.join();
  impl_.reset();
}

}  // namespace ssebridge
