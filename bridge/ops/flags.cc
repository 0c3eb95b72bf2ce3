#include "bridge/ops/flags.h"

#include <cstdlib>

#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "bridge/core/channel_pattern.h"

ABSL_FLAG(std::string, http_address, "0.0.0.0", "Address the HTTP (SSE) server listens on.");
ABSL_FLAG(int32_t, http_port, 8080, "HTTP (SSE) port; 0 picks a free port (logged at startup).");
ABSL_FLAG(std::string, grpc_address, "0.0.0.0", "Address the gRPC server listens on.");
ABSL_FLAG(int32_t, grpc_port, 50051, "gRPC port; 0 picks a free port (logged at startup).");
ABSL_FLAG(int32_t, http_threads, 8,
          "Threads that parse and route HTTP requests. SSE streams do not "
          "hold one: they are handed to the stream writer.");
ABSL_FLAG(int32_t, grpc_max_threads, 512,
          "Most threads serving gRPC's sync API calls (unary publishes, "
          "Subscribe, Tickets, Admin); each open Subscribe holds one. Calls "
          "beyond it get RESOURCE_EXHAUSTED. Publish streams and health "
          "checks run on one loop thread of their own (publishes into Redis "
          "on --grpc_handler_threads).");
ABSL_FLAG(int32_t, grpc_handler_threads, 2,
          "Threads that run publish-stream batches when the broker's publish "
          "waits on the network (--broker=redis), so a stream waiting on "
          "Redis holds one of them, not the loop thread that reads every "
          "stream and answers health checks. At most this many streams wait "
          "on the broker at once (1-256). Each holds a --redis_pool_size "
          "connection while it waits, which SSE attaches and unary publishes "
          "share: keep it below that. The memory broker publishes on the "
          "loop thread.");
ABSL_FLAG(int64_t, grpc_max_message_bytes, 0,
          "Largest gRPC request message (a Publish, a whole PublishBatch) on "
          "either gRPC port; it is received before its credential is checked, "
          "so this bounds what an unauthenticated call can make the bridge "
          "hold. Larger ones get RESOURCE_EXHAUSTED. 0: 4 MiB or "
          "--max_event_bytes + 1 MiB, whichever is larger.");
ABSL_FLAG(int32_t, writer_threads, 0,
          "Event-driven stream writer threads (epoll); 0 = one per core.");
ABSL_FLAG(int32_t, max_connections, 18000,
          "Most concurrent SSE streams; further ones get HTTP 503.");
ABSL_FLAG(int32_t, max_channels_per_connection, 64,
          "Most channels one stream or Subscribe call may ask for.");
ABSL_FLAG(int64_t, max_event_bytes, 64 * 1024, "Largest event payload (data) accepted, in bytes.");
ABSL_FLAG(int32_t, max_user_ids, 1000, "Most user_ids one publish may target.");
ABSL_FLAG(int32_t, max_publish_batch, 1000,
          "Most events in one batch: a gRPC PublishBatch (or PublishBatchStream "
          "message) or a batch POST /v1/publish (JSON array or NDJSON). A larger "
          "batch publishes none of them (INVALID_ARGUMENT / 413). 1 to 100000.");
ABSL_FLAG(int64_t, history_size, 1000, "Events kept per channel for resume.");
ABSL_FLAG(int64_t, history_bytes, 1 << 20, "Bytes of events kept per channel for resume.");
ABSL_FLAG(absl::Duration, history_ttl, absl::Hours(1),
          "How long an event stays in history; 'inf' keeps it until count "
          "or bytes push it out.");
ABSL_FLAG(int64_t, max_channels, 100000,
          "Most channels holding history or retained values at once; a "
          "publish to a new channel beyond it is RESOURCE_EXHAUSTED.");
ABSL_FLAG(int64_t, queue_bytes, 512 * 1024,
          "Per-stream queue bound in bytes; beyond it the channel's policy "
          "applies (see --channel_policies).");
ABSL_FLAG(std::string, channel_policies, "",
          "Slow-consumer policy per channel pattern, first match wins: "
          "'dash.*=latest-only,feed=drop-oldest,*=disconnect'. Policies: "
          "disconnect (default; the client resumes from history), "
          "drop-oldest, latest-only (newest event per event type).");
ABSL_FLAG(absl::Duration, heartbeat, absl::Seconds(15),
          "Idle streams get a comment line this often.");
ABSL_FLAG(absl::Duration, retry, absl::Seconds(3),
          "Reconnection delay sent to browsers ('retry:') on connect.");
ABSL_FLAG(absl::Duration, retry_jitter, absl::Seconds(2),
          "Random extra added to --retry per stream, so reconnects spread.");
ABSL_FLAG(absl::Duration, idempotency_window, absl::Minutes(10),
          "How long an idempotency_key is remembered.");
ABSL_FLAG(int64_t, idempotency_max_keys, 100000,
          "Most idempotency keys remembered at once (oldest go first).");
ABSL_FLAG(std::string, cors_origins, "",
          "Comma-separated origins allowed to subscribe and publish from a "
          "browser, or '*'. Empty: no CORS headers.");
ABSL_FLAG(absl::Duration, shutdown_deadline, absl::Seconds(10),
          "On SIGTERM/SIGINT: how long to let publishes finish and streams "
          "close before exiting.");
ABSL_FLAG(std::string, log_level, "info",
          "Least severe log level written: debug, info, warning, error.");
ABSL_FLAG(int32_t, listen_backlog, 4096, "Listen backlog of the HTTP socket.");
ABSL_FLAG(absl::Duration, http_header_timeout, absl::Seconds(10),
          "A request's head (request line and headers) must arrive within "
          "this of the connection's accept (or of the request's first byte "
          "on a kept-alive connection); slower or silent clients are closed "
          "(408). Waiting clients hold no request thread.");
ABSL_FLAG(absl::Duration, http_idle_timeout, absl::Seconds(5),
          "How long a kept-alive HTTP connection may wait for its next "
          "request before it is closed.");
ABSL_FLAG(int32_t, http_keepalive_requests, 100,
          "Requests one kept-alive HTTP connection may carry; the last one's "
          "response says Connection: close. An HTTP publisher reconnects "
          "after this many publishes. 1 turns keep-alive off.");
ABSL_FLAG(absl::Duration, http_body_timeout, absl::Seconds(10),
          "Once a request's head is in: how long its body may take to arrive "
          "(read before a request thread is spent; slower clients get 408), "
          "and then how long the client may take to take the response.");
ABSL_FLAG(int32_t, max_request_line_bytes, 8192,
          "Longest HTTP request line (method, path, query, version); longer "
          "gets 414. At most 8192 (cpp-httplib's own limit).");
ABSL_FLAG(int32_t, max_header_bytes, 16 * 1024,
          "Most bytes of HTTP request headers (cookies included); more gets "
          "431. A single header line is also limited to 8192 bytes.");
ABSL_FLAG(int32_t, max_header_count, 100, "Most HTTP request header lines; more gets 431.");
ABSL_FLAG(int64_t, max_body_bytes, 0,
          "Largest POST /v1/publish body; larger gets 413. 0: 6 x "
          "--max_event_bytes + 64 KiB (proto3 JSON may escape every byte).");

// ---- observability ----------------------------------------------------
ABSL_FLAG(int32_t, metrics_top_channels, 20,
          "GET /metrics: most channels (of those --metrics_channels opts in) "
          "with their own ssebridge_channel_subscribers series, the busiest; "
          "the rest are summed under channel=\"_other\".");
ABSL_FLAG(bool, status_page, true,
          "Serve the live status page at GET /ui (and its feed, /ui/events) "
          "on the internal listener (--admin_port). With --admin_keys_file it "
          "asks for an admin key; with other keys but no admin key it is "
          "closed (403).");
ABSL_FLAG(int32_t, status_recent_events, 20,
          "Recent events the status page lists (channel, id, type, size; "
          "never payloads).");
ABSL_FLAG(bool, access_log, true,
          "Log one JSON line (level info) when an SSE stream opens and one "
          "when it closes (duration, bytes, events, reason).");

// ---- auth -------------------------------------------------------------
ABSL_FLAG(std::string, jwt_keys_file, "",
          "JWT verification keys, one per line: 'kid ALG path' (ALG: HS256, "
          "HS384, HS512 with a secret file; RS256, ES256 with a PEM public "
          "key). Each key accepts only its own algorithm. With no key at all "
          "the bridge runs open (dev mode).");
ABSL_FLAG(std::string, jwt_secret_file, "",
          "Shorthand for one HS256 key (kid \"default\"; tokens need no kid): a file holding the "
          "shared secret (at least 32 bytes).");
ABSL_FLAG(std::string, jwt_issuer, "", "When set, tokens' 'iss' must equal it.");
ABSL_FLAG(std::string, jwt_audience, "", "When set, tokens' 'aud' must contain it.");
ABSL_FLAG(absl::Duration, jwt_leeway, absl::Seconds(30),
          "Clock skew allowed when checking 'exp' and 'nbf'.");
ABSL_FLAG(bool, jwt_require_exp, false, "Refuse tokens without 'exp'.");
ABSL_FLAG(std::string, auth_cookie, "ssebridge_token",
          "Cookie carrying a subscriber's JWT (set it HttpOnly); empty: no "
          "cookie auth.");
ABSL_FLAG(bool, allow_query_token, false,
          "Accept a JWT in ?access_token= (it may end up in proxy logs; "
          "prefer tickets).");
ABSL_FLAG(std::string, public_channels, "",
          "Channel patterns anyone may read once auth is on: 'news,status.*'.");
ABSL_FLAG(int64_t, max_tickets, 100000,
          "Most unredeemed tickets held at once (Tickets.IssueTicket).");
ABSL_FLAG(int32_t, max_connections_per_user, 100,
          "Most open streams per authenticated user (HTTP 429 beyond); 0: "
          "no limit.");
ABSL_FLAG(int32_t, max_connections_per_ip, 0,
          "Most open streams per client address (HTTP 429 beyond); 0: no "
          "limit. Behind a proxy, see --client_ip_header.");
ABSL_FLAG(std::string, static_dir, "",
          "Serve the files under this directory on GET (a dashboard page on "
          "the same origin as the streams; '/' serves index.html). Empty: "
          "no static files.");
ABSL_FLAG(std::string, client_ip_header, "",
          "Header carrying the client address when behind a proxy (e.g. "
          "X-Forwarded-For; its rightmost entry is used). Empty: the peer.");
ABSL_FLAG(std::string, publisher_keys_file, "",
          "Publisher API keys, one per line: 'name secret [patterns]' or "
          "'name sha256:<hex> [patterns]'; patterns (comma-separated) limit "
          "the channels the key may publish to.");
ABSL_FLAG(std::string, admin_keys_file, "",
          "Keys for the Admin service, same format as --publisher_keys_file.");
ABSL_FLAG(bool, allow_anonymous_publish, false,
          "Accept publishes without a credential even when keys are "
          "configured (only for a gRPC port no one else can reach).");
ABSL_FLAG(double, publish_rate_limit, 0,
          "Events per second each publisher may publish; 0: no limit.");
ABSL_FLAG(double, publish_rate_burst, 0,
          "Burst allowed above --publish_rate_limit; 0: one second's worth.");
ABSL_FLAG(std::string, grpc_tls_cert_file, "",
          "PEM certificate chain for TLS on the gRPC port (with "
          "--grpc_tls_key_file).");
ABSL_FLAG(std::string, grpc_tls_key_file, "", "PEM private key for gRPC TLS.");
ABSL_FLAG(std::string, grpc_tls_client_ca_file, "",
          "PEM CA bundle: when set, gRPC clients must present a certificate "
          "it signed (mTLS).");

// ---- internal listener --------------------------------------------------
ABSL_FLAG(std::string, admin_address, "0.0.0.0",
          "Address of the internal listener (/metrics, the status page, "
          "/healthz, /readyz, and the gRPC Admin service in plaintext on the "
          "same port). All interfaces by default so Prometheus and "
          "probes reach it in a cluster; keep the port off the public "
          "Service and load balancer (127.0.0.1 on a bare host).");
ABSL_FLAG(int32_t, admin_port, 9090,
          "Port of the internal listener (HTTP and gRPC Admin); 0 picks a free "
          "port (logged at startup); -1 turns it off (no /metrics, no status "
          "page, no gRPC Admin).");
ABSL_FLAG(std::string, metrics_channels, "",
          "Channel patterns ('dash.*,orders') whose names may appear as "
          "ssebridge_channel_subscribers{channel=...} labels (the busiest "
          "--metrics_top_channels of them). Empty: no channel names in "
          "/metrics; every channel is summed under channel=\"_other\".");

// ---- per-principal shares and ticket bounds (issue 16) ------------------
ABSL_FLAG(int32_t, max_ticket_channels, 64, "Most channel patterns one IssueTicket may grant.");
ABSL_FLAG(int32_t, max_ticket_pattern_bytes, 129,
          "Longest channel pattern in an IssueTicket, in bytes (a 128-byte "
          "channel name plus '*').");
ABSL_FLAG(int64_t, max_tickets_per_key, 50000,
          "Most unredeemed tickets one publisher key may hold (its share of "
          "--max_tickets); 0: only --max_tickets.");
ABSL_FLAG(int64_t, max_channels_per_key, 50000,
          "Most channels one publisher key may hold at once (its share of "
          "--max_channels; a channel counts until --history_ttl after the "
          "key's last publish to it); 0: only --max_channels.");
ABSL_FLAG(int32_t, max_grpc_subscribe_streams, 0,
          "Most open gRPC Subscribe streams, each holding a gRPC thread; "
          "must be below --grpc_max_threads so publishes keep threads. 0: "
          "half of --grpc_max_threads.");
ABSL_FLAG(int32_t, max_grpc_publish_streams, 1024,
          "Most open gRPC PublishStream and PublishBatchStream calls together "
          "(each stops reading while 256 requests, or 4 MiB of requests and "
          "answers, are owed).");
ABSL_FLAG(int32_t, max_grpc_publish_streams_per_key, 64,
          "Most open gRPC PublishStream and PublishBatchStream calls per "
          "publisher (a key, or a JWT's subject; anonymous publishers share "
          "one count); 0: only --max_grpc_publish_streams.");
ABSL_FLAG(int32_t, max_grpc_subscribe_streams_per_key, 64,
          "Most open gRPC Subscribe streams per publisher key; 0: only "
          "--max_grpc_subscribe_streams.");

namespace ssebridge {

absl::Status ApplyEnvironmentToFlags() {
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    // Only our own flags: absl's built-ins (--flagfile, ...) stay as they are.
    if (!absl::StrContains(flag->Filename(), "bridge/ops/flags.cc")) continue;
    std::string var = absl::StrCat("SSEBRIDGE_", absl::AsciiStrToUpper(std::string(name)));
    const char* value = std::getenv(var.c_str());
    if (value == nullptr) continue;
    std::string error;
    if (!flag->ParseFrom(value, &error)) {
      return absl::InvalidArgumentError(absl::StrCat(var, ": ", error));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateFlags() {
  auto bad = [](absl::string_view flag, absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("--", flag, ": ", why));
  };
  auto port_ok = [](int32_t p) { return p >= 0 && p <= 65535; };
  if (!port_ok(absl::GetFlag(FLAGS_http_port))) return bad("http_port", "0-65535");
  if (!port_ok(absl::GetFlag(FLAGS_grpc_port))) return bad("grpc_port", "0-65535");
  if (absl::GetFlag(FLAGS_http_threads) < 1) return bad("http_threads", "at least 1");
  if (absl::GetFlag(FLAGS_grpc_max_threads) < 4) {
    return bad("grpc_max_threads", "at least 4");
  }
  if (const int32_t n = absl::GetFlag(FLAGS_grpc_handler_threads); n < 1 || n > 256) {
    return bad("grpc_handler_threads", "1-256");
  }
  if (absl::GetFlag(FLAGS_writer_threads) < 0) return bad("writer_threads", "0 or more");
  if (absl::GetFlag(FLAGS_max_connections) < 1) return bad("max_connections", "at least 1");
  if (absl::GetFlag(FLAGS_max_channels_per_connection) < 1) {
    return bad("max_channels_per_connection", "at least 1");
  }
  if (absl::GetFlag(FLAGS_max_event_bytes) < 1) return bad("max_event_bytes", "at least 1");
  if (const int64_t m = absl::GetFlag(FLAGS_grpc_max_message_bytes);
      m != 0 && (m < absl::GetFlag(FLAGS_max_event_bytes) + 64 * 1024 || m > (int64_t{1} << 30))) {
    return bad("grpc_max_message_bytes", "0 (default) or --max_event_bytes + 64 KiB up to 1 GiB");
  }
  if (absl::GetFlag(FLAGS_max_user_ids) < 1) return bad("max_user_ids", "at least 1");
  if (absl::GetFlag(FLAGS_max_publish_batch) < 1 ||
      absl::GetFlag(FLAGS_max_publish_batch) > 100000) {
    return bad("max_publish_batch", "1 to 100000");
  }
  if (absl::GetFlag(FLAGS_history_size) < 0) return bad("history_size", "0 or more");
  if (absl::GetFlag(FLAGS_history_bytes) < 0) return bad("history_bytes", "0 or more");
  if (absl::GetFlag(FLAGS_history_ttl) <= absl::ZeroDuration()) {
    return bad("history_ttl", "must be positive");
  }
  if (absl::GetFlag(FLAGS_max_channels) < 1) return bad("max_channels", "at least 1");
  if (absl::GetFlag(FLAGS_queue_bytes) < absl::GetFlag(FLAGS_max_event_bytes)) {
    return bad("queue_bytes", "must be at least --max_event_bytes");
  }
  if (absl::GetFlag(FLAGS_heartbeat) < absl::Milliseconds(10)) {
    return bad("heartbeat", "at least 10ms");
  }
  if (absl::GetFlag(FLAGS_retry) < absl::ZeroDuration() ||
      absl::GetFlag(FLAGS_retry_jitter) < absl::ZeroDuration()) {
    return bad("retry", "--retry and --retry_jitter must not be negative");
  }
  if (absl::GetFlag(FLAGS_shutdown_deadline) < absl::ZeroDuration()) {
    return bad("shutdown_deadline", "must not be negative");
  }
  if (absl::GetFlag(FLAGS_listen_backlog) < 1) return bad("listen_backlog", "at least 1");
  if (absl::GetFlag(FLAGS_http_header_timeout) <= absl::ZeroDuration()) {
    return bad("http_header_timeout", "must be positive");
  }
  if (absl::GetFlag(FLAGS_http_idle_timeout) <= absl::ZeroDuration()) {
    return bad("http_idle_timeout", "must be positive");
  }
  if (absl::GetFlag(FLAGS_http_keepalive_requests) < 1) {
    return bad("http_keepalive_requests", "at least 1");
  }
  if (absl::GetFlag(FLAGS_http_body_timeout) <= absl::ZeroDuration()) {
    return bad("http_body_timeout", "must be positive");
  }
  if (absl::GetFlag(FLAGS_max_request_line_bytes) < 64 ||
      absl::GetFlag(FLAGS_max_request_line_bytes) > 8192) {
    return bad("max_request_line_bytes", "64-8192");
  }
  if (absl::GetFlag(FLAGS_max_header_bytes) < 256) {
    return bad("max_header_bytes", "at least 256");
  }
  if (absl::GetFlag(FLAGS_max_header_count) < 4) return bad("max_header_count", "at least 4");
  if (absl::GetFlag(FLAGS_max_body_bytes) < 0) return bad("max_body_bytes", "0 or more");
  if (absl::GetFlag(FLAGS_jwt_leeway) < absl::ZeroDuration()) {
    return bad("jwt_leeway", "must not be negative");
  }
  if (absl::GetFlag(FLAGS_max_tickets) < 1) return bad("max_tickets", "at least 1");
  if (absl::GetFlag(FLAGS_max_connections_per_user) < 0) {
    return bad("max_connections_per_user", "0 or more");
  }
  if (absl::GetFlag(FLAGS_max_connections_per_ip) < 0) {
    return bad("max_connections_per_ip", "0 or more");
  }
  if (absl::GetFlag(FLAGS_publish_rate_limit) < 0 || absl::GetFlag(FLAGS_publish_rate_burst) < 0) {
    return bad("publish_rate_limit",
               "--publish_rate_limit and --publish_rate_burst "
               "must not be negative");
  }
  if (absl::GetFlag(FLAGS_grpc_tls_cert_file).empty() !=
      absl::GetFlag(FLAGS_grpc_tls_key_file).empty()) {
    return bad("grpc_tls_cert_file",
               "set both --grpc_tls_cert_file and "
               "--grpc_tls_key_file, or neither");
  }
  if (!absl::GetFlag(FLAGS_grpc_tls_client_ca_file).empty() &&
      absl::GetFlag(FLAGS_grpc_tls_cert_file).empty()) {
    return bad("grpc_tls_client_ca_file",
               "mTLS needs --grpc_tls_cert_file and "
               "--grpc_tls_key_file too");
  }
  if (absl::GetFlag(FLAGS_redis_connect_timeout) <= absl::ZeroDuration() ||
      absl::GetFlag(FLAGS_redis_command_timeout) <= absl::ZeroDuration()) {
    return bad("redis_command_timeout",
               "--redis_connect_timeout and "
               "--redis_command_timeout must be positive");
  }
  if (absl::GetFlag(FLAGS_redis_reconnect_min) <= absl::ZeroDuration() ||
      absl::GetFlag(FLAGS_redis_reconnect_max) < absl::GetFlag(FLAGS_redis_reconnect_min)) {
    return bad("redis_reconnect_min", "must be positive and at most --redis_reconnect_max");
  }
  if (absl::GetFlag(FLAGS_redis_pool_size) < 1) return bad("redis_pool_size", "at least 1");
  if (absl::GetFlag(FLAGS_redis_sentinel_timeout) <= absl::ZeroDuration()) {
    return bad("redis_sentinel_timeout", "must be positive");
  }
  if (!absl::GetFlag(FLAGS_redis_sentinels).empty() &&
      absl::GetFlag(FLAGS_redis_sentinel_master).empty()) {
    return bad("redis_sentinel_master", "needed with --redis_sentinels");
  }
  if (absl::GetFlag(FLAGS_fleet_refresh_interval) < absl::Milliseconds(10)) {
    return bad("fleet_refresh_interval", "at least 10ms");
  }
  if (absl::GetFlag(FLAGS_fleet_lease) < 2 * absl::GetFlag(FLAGS_fleet_refresh_interval)) {
    return bad("fleet_lease", "must be at least twice --fleet_refresh_interval");
  }
  if (absl::GetFlag(FLAGS_fleet_answer_timeout) < absl::Milliseconds(1)) {
    return bad("fleet_answer_timeout", "at least 1ms");
  }
  if (absl::GetFlag(FLAGS_metrics_top_channels) < 0) {
    return bad("metrics_top_channels", "0 or more");
  }
  if (absl::Status s = ChannelPatterns::Parse(absl::GetFlag(FLAGS_metrics_channels)).status();
      !s.ok()) {
    return bad("metrics_channels", s.message());
  }
  const int32_t admin_port = absl::GetFlag(FLAGS_admin_port);
  if (admin_port < -1 || admin_port > 65535) return bad("admin_port", "-1 (off) or 0-65535");
  if (admin_port > 0 && (admin_port == absl::GetFlag(FLAGS_http_port) ||
                         admin_port == absl::GetFlag(FLAGS_grpc_port))) {
    return bad("admin_port", "must differ from --http_port and --grpc_port");
  }
  if (absl::GetFlag(FLAGS_status_recent_events) < 0 ||
      absl::GetFlag(FLAGS_status_recent_events) > 1000) {
    return bad("status_recent_events", "0-1000");
  }
  if (absl::GetFlag(FLAGS_max_retained_per_channel) < 1) {
    return bad("max_retained_per_channel", "at least 1");
  }
  if (absl::GetFlag(FLAGS_max_retained_bytes) < 1) {
    return bad("max_retained_bytes", "at least 1");
  }
  if (absl::GetFlag(FLAGS_retained_ttl) <= absl::ZeroDuration()) {
    return bad("retained_ttl", "must be positive");
  }
  if (absl::GetFlag(FLAGS_max_history_bytes_total) < 0) {
    return bad("max_history_bytes_total", "0 or more");
  }
  if (absl::GetFlag(FLAGS_http_body_buffer_bytes) < 0) {
    return bad("http_body_buffer_bytes", "0 or more");
  }
  if (absl::GetFlag(FLAGS_http_body_buffer_bytes_per_ip) < 0) {
    return bad("http_body_buffer_bytes_per_ip", "0 or more");
  }
  if (absl::GetFlag(FLAGS_http_waiting_connections_per_ip) < 0) {
    return bad("http_waiting_connections_per_ip", "0 or more");
  }
  if (absl::GetFlag(FLAGS_max_ticket_channels) < 1) {
    return bad("max_ticket_channels", "at least 1");
  }
  if (absl::GetFlag(FLAGS_max_ticket_pattern_bytes) < 1 ||
      absl::GetFlag(FLAGS_max_ticket_pattern_bytes) > 129) {
    return bad("max_ticket_pattern_bytes", "1-129");
  }
  if (absl::GetFlag(FLAGS_max_tickets_per_key) < 0) {
    return bad("max_tickets_per_key", "0 or more");
  }
  if (absl::GetFlag(FLAGS_max_channels_per_key) < 0) {
    return bad("max_channels_per_key", "0 or more");
  }
  if (absl::GetFlag(FLAGS_max_grpc_subscribe_streams) < 0 ||
      absl::GetFlag(FLAGS_max_grpc_subscribe_streams) >= absl::GetFlag(FLAGS_grpc_max_threads)) {
    return bad("max_grpc_subscribe_streams",
               "0 (half of --grpc_max_threads) or 1 to --grpc_max_threads - 1");
  }
  if (absl::GetFlag(FLAGS_max_grpc_subscribe_streams_per_key) < 0) {
    return bad("max_grpc_subscribe_streams_per_key", "0 or more");
  }
  if (absl::GetFlag(FLAGS_max_grpc_publish_streams) < 1) {
    return bad("max_grpc_publish_streams", "at least 1");
  }
  if (absl::GetFlag(FLAGS_max_grpc_publish_streams_per_key) < 0) {
    return bad("max_grpc_publish_streams_per_key", "0 or more");
  }
  return absl::OkStatus();
}

}  // namespace ssebridge
