// HttpServer: an HTTP listener of the bridge (cpp-httplib). It parses and
// routes; an accepted SSE request is then taken off httplib's thread and
// handed to the StreamWriter, so no thread waits on an open stream. The
// bridge runs two: the public one (/v1/*, static files) and the internal
// one (--admin_port: /metrics, the status page). Which routes a listener
// serves follows from its Wiring: each group only when its part is set.
//
// Routes:
//   GET  /healthz, /readyz                        always
//   GET  /v1/events?channel=a&channel=b[&lastEventId=..][&ticket=..][&stream=..]
//   POST /v1/publish                              when `admission` is set
//        the SSE stream: StreamAdmission decides, this door translates its
//        refusal (400 / 401 with WWW-Authenticate / 403 / 429 and 503 with
//        Retry-After) before the stream starts; publish takes the proto3
//        JSON of PublishRequest and answers PublishResponse, or a batch
//        (a JSON array, or application/x-ndjson) answered {"results":[..]}
//   GET  /metrics                                 when `metrics` is set
//   whatever Wiring::extra_routes adds (GET /ui, /ui/events)
//   HTTP/2 (gRPC) connections, to Wiring::http2_connections when set
//   GET  /<path>   a file under --static_dir (when set; after the above)
// Errors are JSON {"error": "<code>", "message": "<field>: <why>"}.
// Requests are read by a RequestReader (one epoll thread) and run on a
// pool of `threads` only once their head and body are in, so slow or silent
// clients hold no thread; see Options for the size limits and deadlines.
// The reader asks CheckHead about each head first: a publish without a
// valid credential is refused before its body is read.
#ifndef SSEBRIDGE_HTTP_HTTP_SERVER_H_
#define SSEBRIDGE_HTTP_HTTP_SERVER_H_

#include <httplib.h>

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "bridge/admission/stream_admission.h"
#include "bridge/auth/cors_policy.h"
#include "bridge/auth/publisher_auth.h"
#include "bridge/core/delivery_policy.h"
#include "bridge/core/subscription.h"
#include "bridge/http/pooled_http_server.h"
#include "bridge/http/static_files.h"
#include "bridge/sse/stream_writer.h"

namespace ssebridge {

struct HttpReply {
  int status = 200;
  std::string json;
};

class HttpServer {
 public:
  struct Options {
    std::string address = "0.0.0.0";
    int port = 8080;
    int threads = 8;
    int backlog = 4096;
    size_t max_channels_per_connection = 64;
    size_t max_body_bytes = 1 << 20;
    // Request size limits (414 / 431), enforced before a thread is spent.
    size_t max_request_line_bytes = 8192;
    size_t max_header_bytes = 16 * 1024;
    size_t max_header_count = 100;
    // A request head must arrive within header_timeout (of accept, or of its
    // first byte on a kept-alive connection); a kept-alive connection may
    // idle for idle_timeout; once the head is in, the body must arrive and
    // the response be taken within body_timeout.
    absl::Duration header_timeout = absl::Seconds(10);
    absl::Duration idle_timeout = absl::Seconds(5);
    absl::Duration body_timeout = absl::Seconds(10);
    // Bytes of requests being received, over all connections (0: no limit).
    size_t body_buffer_bytes = 64 << 20;
    // One client address's share of the reader (see RequestReader::Options);
    // 0: none.
    size_t waiting_connections_per_ip = 0;
    size_t body_buffer_bytes_per_ip = 16 << 20;
    // Requests per kept-alive connection (httplib's own default is 5).
    size_t keepalive_requests = 100;
    absl::Duration retry = absl::Seconds(3);
    absl::Duration retry_jitter = absl::Seconds(2);
    // Header holding the client address when behind a proxy (its rightmost
    // entry, the one the proxy added); empty: the peer address.
    std::string client_ip_header;
    bool access_log = true;  // see access_log.h
  };
  // Hands the request's socket to `start` once httplib is done with it (as
  // /v1/events does); false when the request cannot be taken over (HEAD).
  using TakeOver = std::function<bool(std::function<void(int fd)> start)>;
  // What the server needs from the rest of the bridge; all must outlive it.
  struct Wiring {
    // The public API (/v1/events, /v1/publish); null: not served here.
    StreamAdmission* admission = nullptr;
    StreamWriter* writer = nullptr;
    const PolicyTable* policies = nullptr;
    const CorsPolicy* cors = nullptr;
    // Broker::Attach: the stream's subscription and its resume cursor.
    std::function<void(std::shared_ptr<Subscription>, absl::string_view)> attach;
    // Body, Authorization and Content-Type headers of POST /v1/publish.
    std::function<HttpReply(const std::string& body, const std::string& authorization,
                            const std::string& content_type)>
        publish;
    // Whether `publish` may run on the reader thread that read this body
    // (Content-Type as sent): only for work that never waits and is short.
    // Unset: every publish goes to a pool thread.
    std::function<bool(absl::string_view body, absl::string_view content_type)> publish_on_reader;
    // Checks the credential of POST /v1/publish from its head, before its
    // body is read (401/403 at once); null: only `publish` checks it.
    const PublisherAuth* publisher_auth = nullptr;
    // GET /metrics; unset: not served here.
    std::function<std::string()> metrics;
    // Broker readiness (Redis reachable); unset: always ready.
    std::function<bool()> ready;
    // --static_dir; null: no static files.
    const StaticFiles* static_files = nullptr;
    // More routes (the status page), registered before the static files.
    std::function<void(httplib::Server&, TakeOver)> extra_routes;
    // Connections that open with the HTTP/2 preface (plaintext gRPC: the
    // Admin service on the internal port) go here, fd owned by the callee;
    // unset: they get 400 like any bad request.
    std::function<void(int fd)> http2_connections;
  };

  HttpServer(Options options, Wiring wiring);
  ~HttpServer();

  // Binds (refusing a port already in use) and starts serving.
  absl::Status Start();
  int port() const { return port_; }

  // Readiness goes false; open streams are left to the StreamWriter, new
  // ones to StreamAdmission::BeginDrain.
  void BeginDrain() { draining_.store(true); }
  bool draining() const { return draining_.load(); }
  void Stop();

  // A reconnection delay for one stream: retry plus random jitter, in ms.
  int64_t JitteredRetryMillis() const;

  // Connections waiting for (the rest of) a request; requests cut at
  // --http_header_timeout; requests refused as too large (414/431/413).
  size_t waiting_connections() const;
  uint64_t request_timeouts() const;
  uint64_t requests_too_large() const;
  // Requests refused for bad framing (400); bytes of requests being received.
  uint64_t requests_malformed() const;
  // Publishes answered on the reader thread (Wiring::publish_on_reader).
  uint64_t answered_on_reader() const;
  size_t receiving_bytes() const;

 private:
  void AddApiRoutes(PooledHttpServer& svr);
  void HandleEvents(const httplib::Request& req, httplib::Response& res);
  // The RequestReader's question for each complete head: may it proceed?
  std::optional<HeadRefusal> CheckHead(const RequestHead& head) const;
  // RequestReader::Options::answer_on_reader: POST /v1/publish, when
  // Wiring::publish_on_reader says so.
  bool AnswerOnReader(const RequestHead& head, absl::string_view body) const;
  void ServeStatic(const httplib::Request& req, httplib::Response& res) const;
  std::string ClientAddress(const httplib::Request& req) const;

  Options options_;
  Wiring wiring_;
  std::unique_ptr<PooledHttpServer> impl_;
  std::thread thread_;
  int port_ = -1;
  std::atomic<bool> draining_{false};
};

}  // namespace ssebridge

#endif  // SSEBRIDGE_HTTP_HTTP_SERVER_H_
