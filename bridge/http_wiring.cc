#include "bridge/http_wiring.h"

#include "absl/flags/flag.h"
#include "bridge/ops/flags.h"

namespace ssebridge {

HttpServer::Options HttpOptionsFromFlags(size_t max_event_bytes, size_t max_channels) {
  HttpServer::Options o;
  o.address = absl::GetFlag(FLAGS_http_address);
  o.port = absl::GetFlag(FLAGS_http_port);
  o.threads = absl::GetFlag(FLAGS_http_threads);
  o.backlog = absl::GetFlag(FLAGS_listen_backlog);
  o.max_channels_per_connection = max_channels;
  // proto3 JSON may escape every payload byte as \uXXXX.
  o.max_body_bytes = absl::GetFlag(FLAGS_max_body_bytes) > 0
                         ? static_cast<size_t>(absl::GetFlag(FLAGS_max_body_bytes))
                         : max_event_bytes * 6 + 64 * 1024;
  o.max_request_line_bytes = static_cast<size_t>(absl::GetFlag(FLAGS_max_request_line_bytes));
  o.max_header_bytes = static_cast<size_t>(absl::GetFlag(FLAGS_max_header_bytes));
  o.max_header_count = static_cast<size_t>(absl::GetFlag(FLAGS_max_header_count));
  o.header_timeout = absl::GetFlag(FLAGS_http_header_timeout);
  o.idle_timeout = absl::GetFlag(FLAGS_http_idle_timeout);
  o.body_timeout = absl::GetFlag(FLAGS_http_body_timeout);
  o.body_buffer_bytes = static_cast<size_t>(absl::GetFlag(FLAGS_http_body_buffer_bytes));
  o.waiting_connections_per_ip =
      static_cast<size_t>(absl::GetFlag(FLAGS_http_waiting_connections_per_ip));
  o.body_buffer_bytes_per_ip =
      static_cast<size_t>(absl::GetFlag(FLAGS_http_body_buffer_bytes_per_ip));
  o.keepalive_requests = static_cast<size_t>(absl::GetFlag(FLAGS_http_keepalive_requests));
  o.retry = absl::GetFlag(FLAGS_retry);
  o.retry_jitter = absl::GetFlag(FLAGS_retry_jitter);
  o.client_ip_header = absl::GetFlag(FLAGS_client_ip_header);
  o.access_log = absl::GetFlag(FLAGS_access_log);
  return o;
}

}  // namespace ssebridge
