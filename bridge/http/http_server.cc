#include "bridge/http/http_server.h"

#include <httplib.h>

#include <memory>
#include <random>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "bridge/core/json_text.h"
#include "bridge/core/names.h"
#include "bridge/http/events_request.h"
#include "bridge/http/http_error.h"
#include "bridge/http/pooled_http_server.h"
#include "bridge/http/sse_response_head.h"
#include "bridge/http/stream_refusal.h"
#include "bridge/ops/log.h"
#include "bridge/sse/sse_encoder.h"

namespace ssebridge {
namespace {

void AddHeaders(httplib::Response& res, const CorsPolicy::Headers& headers) {
  for (const auto& [k, v] : headers) res.set_header(k, v);
}

PooledHttpServer::Settings PoolSettings(const HttpServer::Options& o) {
  PooledHttpServer::Settings p;
  p.threads = o.threads;
  p.body_timeout = o.body_timeout;
  p.reader.limits.max_request_line_bytes = o.max_request_line_bytes;
  p.reader.limits.max_header_bytes = o.max_header_bytes;
  p.reader.limits.max_header_count = o.max_header_count;
  p.reader.limits.max_body_bytes = o.max_body_bytes;
  p.reader.header_timeout = o.header_timeout;
  p.reader.idle_timeout = o.idle_timeout;
  p.reader.max_buffered_bytes = o.body_buffer_bytes;
  p.reader.max_connections_per_address = o.waiting_connections_per_ip;
  p.reader.max_buffered_bytes_per_address = o.body_buffer_bytes_per_ip;
  return p;
}

// What a stream the broker could not attach answers, headers unsent: the
// same 503 (JSON body, Retry-After, CORS) as a refusal for readiness.
std::string UnavailableResponse(const std::string& version, const httplib::Headers& cors) {
  const std::string body = absl::StrCat(
      "{\"error\":\"unavailable\",\"message\":",
      JsonQuote("broker: the stream could not be attached (the broker is unavailable); retry "
                "with the last event id"),
      "}\n");
  std::string response = absl::StrCat(version == "HTTP/1.0" ? "HTTP/1.0" : "HTTP/1.1",
                                      " 503 Service Unavailable\r\nContent-Type: "
                                      "application/json\r\nCache-Control: no-store\r\n"
                                      "Retry-After: ",
                                      kRetryAfterUnavailableSeconds, "\r\n");
  for (const auto& [k, v] : cors) absl::StrAppend(&response, k, ": ", v, "\r\n");
  absl::StrAppend(&response, "Content-Length: ", body.size(), "\r\nConnection: close\r\n\r\n",
                  body);
  return response;
}

}  // namespace

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
  PooledHttpServer::Settings settings = PoolSettings(options_);
  settings.reader.check_head = [this](const RequestHead& head) { return CheckHead(head); };
  if (wiring_.publish_on_reader) {
    settings.reader.answer_on_reader = [this](const RequestHead& head, absl::string_view body) {
      return AnswerOnReader(head, body);
    };
  }
  settings.reader.http2_connections = wiring_.http2_connections;
  impl_ = std::make_unique<PooledHttpServer>(settings);
  PooledHttpServer& svr = *impl_;
  absl::Status reader = svr.StartReader();
  if (!reader.ok()) return reader;
  svr.set_socket_options(&PooledHttpServer::SocketOptions);
  svr.set_tcp_nodelay(true);
  svr.set_payload_max_length(options_.max_body_bytes);
  svr.set_keep_alive_max_count(options_.keepalive_requests);

  svr.set_error_handler(
      httplib::Server::HandlerWithResponse([](const httplib::Request& req, httplib::Response& res) {
        if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
        std::string message = res.status == 404
                                  ? absl::StrCat("no route for ", req.method, " ", req.path)
                                  : absl::StrCat("HTTP ", res.status);
        SetJsonError(res, res.status, HttpErrorCode(res.status), message);
        return httplib::Server::HandlerResponse::Handled;
      }));
  svr.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, const std::exception_ptr&) {
        SetJsonError(res, 500, "internal", "internal error");
      });

  if (wiring_.admission != nullptr) AddApiRoutes(svr);

  svr.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("{\"status\":\"ok\"}\n", "application/json");
  });
  svr.Get("/readyz", [this](const httplib::Request&, httplib::Response& res) {
    if (draining()) {
      SetJsonError(res, 503, "draining", "the bridge is shutting down");
    } else if (wiring_.ready && !wiring_.ready()) {
      SetJsonError(res, 503, "unavailable", "the broker cannot reach its store");
    } else {
      res.set_content("{\"status\":\"ready\"}\n", "application/json");
    }
  });
  if (wiring_.metrics) {
    svr.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(wiring_.metrics(), "text/plain; version=0.0.4");
    });
  }

  if (wiring_.extra_routes) {
    wiring_.extra_routes(svr, &PooledHttpServer::TakeOver);
  }

  // Last: the routes above win over files of the same name.
  if (wiring_.static_files != nullptr) {
    svr.Get(R"(/.*)",
            [this](const httplib::Request& req, httplib::Response& res) { ServeStatic(req, res); });
  }

  if (options_.port == 0) {
    port_ = svr.bind_to_any_port(options_.address);
  } else if (svr.bind_to_port(options_.address, options_.port)) {
    port_ = options_.port;
  }
  if (port_ < 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen for HTTP on ", options_.address, ":", options_.port,
                     " (address in use, or not an address of this host)"));
  }
  svr.Relisten(options_.backlog);
  thread_ = std::thread([this] { impl_->listen_after_bind(); });
  return absl::OkStatus();
}

void HttpServer::AddApiRoutes(PooledHttpServer& svr) {
  svr.Get("/v1/events",
          [this](const httplib::Request& req, httplib::Response& res) { HandleEvents(req, res); });
  // A content-reader handler reads the body itself. httplib's default body
  // reading caps application/x-www-form-urlencoded bodies (curl -d's
  // default type) at 8 KiB, and would parse them as a query string.
  svr.Post("/v1/publish", [this](const httplib::Request& req, httplib::Response& res,
                                 const httplib::ContentReader& read_body) {
    AddHeaders(res, wiring_.cors->ForOrigin(req.get_header_value("Origin")));
    std::string body;
    const bool complete = read_body([&body](const char* data, size_t n) {
      body.append(data, n);
      return true;
    });
    if (!complete) {
      const bool too_large =
          req.get_header_value<uint64_t>("Content-Length") > options_.max_body_bytes;
      SetJsonError(res, too_large ? 413 : 400, too_large ? "payload_too_large" : "bad_request",
                   too_large ? absl::StrCat("body: larger than ", options_.max_body_bytes, " bytes")
                             : "body: could not be read");
      return;
    }
    const std::string authorization = req.get_header_value("Authorization");
    HttpReply reply = wiring_.publish(body, authorization, req.get_header_value("Content-Type"));
    if (reply.status == 401) {
      res.set_header("WWW-Authenticate",
                     authorization.empty() ? "Bearer realm=\"ssebridge\""
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
    return [allow = std::string(allow)](const httplib::Request& req, httplib::Response& res) {
      res.set_header("Allow", allow);
      SetJsonError(res, 405, "method_not_allowed",
                   absl::StrCat(req.method, " is not allowed on ", req.path, "; use ", allow));
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
}

void HttpServer::HandleEvents(const httplib::Request& req, httplib::Response& res) {
  AddHeaders(res, wiring_.cors->ForOrigin(req.get_header_value("Origin")));
  RequestFields params(req.params.begin(), req.params.end());
  RequestFields headers(req.headers.begin(), req.headers.end());
  absl::StatusOr<EventsRequest> parsed =
      ParseEventsRequest({req.method, &params, &headers}, options_.max_channels_per_connection);
  if (!parsed.ok()) {
    SetStreamRefusal(res, parsed.status(), false);
    return;
  }
  StreamRequest request;
  request.channels = std::move(parsed->channels);
  request.cursor = std::move(parsed->cursor);
  request.cursor_field = parsed->cursor_from_header ? "" : "lastEventId";
  request.browser = std::move(parsed->credentials);
  request.client_address = ClientAddress(req);
  absl::StatusOr<StreamGrant> grant = wiring_.admission->Admit(request, absl::Now());
  if (!grant.ok()) {
    const absl::Status& refused = grant.status();
    SetStreamRefusal(
        res, refused,
        parsed->credential_sent || refused.GetPayload(kCredentialRejected).has_value());
    return;
  }
  if (req.method == "HEAD" || !PooledHttpServer::CanTakeOver()) {
    res.set_header("Cache-Control", "no-cache");
    res.set_content("", "text/event-stream");
    return;
  }

  std::string head = SseResponseHead(req.version, res.headers);
  absl::StrAppend(&head, SseStreamOpening(JitteredRetryMillis(),
                                          absl::ToInt64Milliseconds(wiring_.writer->heartbeat())));

  StreamWriter::StreamOptions extra;
  extra.unavailable_response =
      std::make_shared<const std::string>(UnavailableResponse(req.version, res.headers));
  extra.access_log = options_.access_log;
  extra.client_ip = std::move(request.client_address);
  extra.cursor = grant->cursor;
  extra.expires_at = grant->expires_at;
  extra.hold = std::move(grant->charge);
  extra.stream_key = std::move(parsed->stream_key);
  PooledHttpServer::TakeOver([this, sub = std::move(grant->subscription),
                              cursor = std::move(grant->cursor), head = std::move(head),
                              extra = std::move(extra)](int fd) mutable {
    // The stream this one replaces closes first: never two at once.
    if (!extra.stream_key.empty()) wiring_.writer->ReplaceStream(sub.user_id, extra.stream_key);
    auto subscription = wiring_.writer->Open(fd, std::move(sub), *wiring_.policies, std::move(head),
                                             std::move(extra));
    wiring_.attach(std::move(subscription), cursor);
  });
  res.status = 200;
}

std::optional<HeadRefusal> HttpServer::CheckHead(const RequestHead& head) const {
  if (wiring_.publisher_auth == nullptr || head.method != "POST") return std::nullopt;
  // The path as httplib's router will see it (percent-decoded, query and
  // fragment cut), so no spelling of /v1/publish gets its body read
  // unauthenticated.
  const std::string path =
      httplib::detail::decode_url(head.target.substr(0, head.target.find_first_of("?#")), false);
  if (path != "/v1/publish") return std::nullopt;
  const std::string authorization(head.Header("Authorization"));
  absl::StatusOr<PublisherIdentity> who =
      wiring_.publisher_auth->Authenticate(authorization, absl::Now());
  if (who.ok()) return std::nullopt;
  const bool denied = absl::IsPermissionDenied(who.status());
  if (!denied && !absl::IsUnauthenticated(who.status())) return std::nullopt;
  HeadRefusal refusal;
  refusal.status = denied ? 403 : 401;
  refusal.json =
      absl::StrCat("{\"error\":", JsonQuote(denied ? "permission_denied" : "unauthenticated"),
                   ",\"message\":", JsonQuote(who.status().message()), "}\n");
  refusal.headers = wiring_.cors->ForOrigin(head.Header("Origin"));
  if (!denied) {
    refusal.headers.emplace_back("WWW-Authenticate",
                                 authorization.empty()
                                     ? "Bearer realm=\"ssebridge\""
                                     : "Bearer realm=\"ssebridge\", error=\"invalid_token\"");
  }
  return refusal;
}

bool HttpServer::AnswerOnReader(const RequestHead& head, absl::string_view body) const {
  // Other spellings of the path go to a pool thread, harmlessly.
  if (head.method != "POST") return false;
  const absl::string_view target = head.target;
  if (target != "/v1/publish" && !absl::StartsWith(target, "/v1/publish?")) return false;
  return wiring_.publish_on_reader(body, head.Header("Content-Type"));
}

void HttpServer::ServeStatic(const httplib::Request& req, httplib::Response& res) const {
  absl::StatusOr<StaticFiles::File> file = wiring_.static_files->Read(req.path);
  if (!file.ok()) {
    if (absl::IsInvalidArgument(file.status())) {
      SetJsonError(res, 400, "invalid_argument", file.status().message());
    } else if (absl::IsNotFound(file.status())) {
      SetJsonError(res, 404, "not_found", file.status().message());
    } else {
      SetJsonError(res, 500, "internal", file.status().message());
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

size_t HttpServer::waiting_connections() const { return impl_ ? impl_->reader().connections() : 0; }
uint64_t HttpServer::request_timeouts() const { return impl_ ? impl_->reader().timed_out() : 0; }
uint64_t HttpServer::requests_too_large() const { return impl_ ? impl_->reader().refused() : 0; }
uint64_t HttpServer::requests_malformed() const { return impl_ ? impl_->reader().malformed() : 0; }
uint64_t HttpServer::answered_on_reader() const { return impl_ ? impl_->answered_on_reader() : 0; }
size_t HttpServer::receiving_bytes() const { return impl_ ? impl_->reader().buffered_bytes() : 0; }

void HttpServer::Stop() {
  if (!impl_) return;
  impl_->stop();
  if (thread_.joinable()) thread_.join();
  impl_->StopWorkers();
  impl_.reset();
}

}  // namespace ssebridge
