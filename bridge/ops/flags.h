// Flags: every knob of the bridge, declared in one place so `--help` lists
// them all. Each flag can also be set through the environment as
// SSEBRIDGE_<FLAG_NAME_IN_UPPER_CASE>; a flag given on the command line wins.
#ifndef SSEBRIDGE_OPS_FLAGS_H_
#define SSEBRIDGE_OPS_FLAGS_H_

#include <cstdint>
#include <string>

#include "absl/flags/declare.h"
#include "absl/status/status.h"
#include "absl/time/time.h"

ABSL_DECLARE_FLAG(std::string, http_address);
ABSL_DECLARE_FLAG(int32_t, http_port);
ABSL_DECLARE_FLAG(std::string, grpc_address);
ABSL_DECLARE_FLAG(int32_t, grpc_port);
ABSL_DECLARE_FLAG(int32_t, http_threads);
ABSL_DECLARE_FLAG(int32_t, grpc_max_threads);
ABSL_DECLARE_FLAG(int32_t, grpc_handler_threads);
ABSL_DECLARE_FLAG(int64_t, grpc_max_message_bytes);
ABSL_DECLARE_FLAG(int32_t, writer_threads);
ABSL_DECLARE_FLAG(int32_t, max_connections);
ABSL_DECLARE_FLAG(int32_t, max_channels_per_connection);
ABSL_DECLARE_FLAG(int64_t, max_event_bytes);
ABSL_DECLARE_FLAG(int32_t, max_user_ids);
ABSL_DECLARE_FLAG(int32_t, max_publish_batch);
ABSL_DECLARE_FLAG(int64_t, history_size);
ABSL_DECLARE_FLAG(int64_t, history_bytes);
ABSL_DECLARE_FLAG(absl::Duration, history_ttl);
ABSL_DECLARE_FLAG(int64_t, max_channels);
ABSL_DECLARE_FLAG(int64_t, queue_bytes);
ABSL_DECLARE_FLAG(std::string, channel_policies);
ABSL_DECLARE_FLAG(absl::Duration, heartbeat);
ABSL_DECLARE_FLAG(absl::Duration, retry);
ABSL_DECLARE_FLAG(absl::Duration, retry_jitter);
ABSL_DECLARE_FLAG(absl::Duration, idempotency_window);
ABSL_DECLARE_FLAG(int64_t, idempotency_max_keys);
ABSL_DECLARE_FLAG(std::string, cors_origins);
ABSL_DECLARE_FLAG(absl::Duration, shutdown_deadline);
ABSL_DECLARE_FLAG(std::string, log_level);
ABSL_DECLARE_FLAG(int32_t, listen_backlog);
ABSL_DECLARE_FLAG(absl::Duration, http_header_timeout);
ABSL_DECLARE_FLAG(absl::Duration, http_idle_timeout);
ABSL_DECLARE_FLAG(int32_t, http_keepalive_requests);
ABSL_DECLARE_FLAG(absl::Duration, http_body_timeout);
ABSL_DECLARE_FLAG(int32_t, max_request_line_bytes);
ABSL_DECLARE_FLAG(int32_t, max_header_bytes);
ABSL_DECLARE_FLAG(int32_t, max_header_count);
ABSL_DECLARE_FLAG(int64_t, max_body_bytes);
ABSL_DECLARE_FLAG(std::string, jwt_keys_file);
ABSL_DECLARE_FLAG(std::string, jwt_secret_file);
ABSL_DECLARE_FLAG(std::string, jwt_issuer);
ABSL_DECLARE_FLAG(std::string, jwt_audience);
ABSL_DECLARE_FLAG(absl::Duration, jwt_leeway);
ABSL_DECLARE_FLAG(bool, jwt_require_exp);
ABSL_DECLARE_FLAG(std::string, auth_cookie);
ABSL_DECLARE_FLAG(bool, allow_query_token);
ABSL_DECLARE_FLAG(std::string, public_channels);
ABSL_DECLARE_FLAG(int64_t, max_tickets);
ABSL_DECLARE_FLAG(int32_t, max_connections_per_user);
ABSL_DECLARE_FLAG(int32_t, max_connections_per_ip);
ABSL_DECLARE_FLAG(std::string, client_ip_header);
ABSL_DECLARE_FLAG(std::string, static_dir);
ABSL_DECLARE_FLAG(std::string, publisher_keys_file);
ABSL_DECLARE_FLAG(std::string, admin_keys_file);
ABSL_DECLARE_FLAG(bool, allow_anonymous_publish);
ABSL_DECLARE_FLAG(double, publish_rate_limit);
ABSL_DECLARE_FLAG(double, publish_rate_burst);
ABSL_DECLARE_FLAG(std::string, grpc_tls_cert_file);
ABSL_DECLARE_FLAG(std::string, grpc_tls_key_file);
ABSL_DECLARE_FLAG(std::string, grpc_tls_client_ca_file);
ABSL_DECLARE_FLAG(std::string, broker);
ABSL_DECLARE_FLAG(std::string, redis_url);
ABSL_DECLARE_FLAG(std::string, redis_password_file);
ABSL_DECLARE_FLAG(std::string, redis_tls_ca_file);
ABSL_DECLARE_FLAG(std::string, redis_tls_cert_file);
ABSL_DECLARE_FLAG(std::string, redis_tls_key_file);
ABSL_DECLARE_FLAG(std::string, redis_tls_server_name);
ABSL_DECLARE_FLAG(std::string, redis_sentinels);
ABSL_DECLARE_FLAG(std::string, redis_sentinel_master);
ABSL_DECLARE_FLAG(std::string, redis_sentinel_password_file);
ABSL_DECLARE_FLAG(absl::Duration, redis_sentinel_timeout);
ABSL_DECLARE_FLAG(bool, redis_sentinel_tls);
ABSL_DECLARE_FLAG(std::string, redis_prefix);
ABSL_DECLARE_FLAG(absl::Duration, redis_connect_timeout);
ABSL_DECLARE_FLAG(absl::Duration, redis_command_timeout);
ABSL_DECLARE_FLAG(absl::Duration, redis_reconnect_min);
ABSL_DECLARE_FLAG(absl::Duration, redis_reconnect_max);
ABSL_DECLARE_FLAG(int32_t, redis_pool_size);
ABSL_DECLARE_FLAG(bool, redis_reset_on_primary_change);
ABSL_DECLARE_FLAG(absl::Duration, fleet_lease);
ABSL_DECLARE_FLAG(absl::Duration, fleet_refresh_interval);
ABSL_DECLARE_FLAG(absl::Duration, fleet_answer_timeout);
ABSL_DECLARE_FLAG(int32_t, max_ticket_channels);
ABSL_DECLARE_FLAG(int32_t, max_ticket_pattern_bytes);
ABSL_DECLARE_FLAG(int64_t, max_tickets_per_key);
ABSL_DECLARE_FLAG(int64_t, max_channels_per_key);
ABSL_DECLARE_FLAG(int32_t, max_grpc_publish_streams);
ABSL_DECLARE_FLAG(int32_t, max_grpc_publish_streams_per_key);
ABSL_DECLARE_FLAG(int32_t, max_grpc_subscribe_streams);
ABSL_DECLARE_FLAG(int32_t, max_grpc_subscribe_streams_per_key);
ABSL_DECLARE_FLAG(int32_t, metrics_top_channels);
ABSL_DECLARE_FLAG(bool, status_page);
ABSL_DECLARE_FLAG(int32_t, status_recent_events);
ABSL_DECLARE_FLAG(bool, access_log);
ABSL_DECLARE_FLAG(int64_t, max_retained_per_channel);
ABSL_DECLARE_FLAG(int64_t, max_retained_bytes);
ABSL_DECLARE_FLAG(absl::Duration, retained_ttl);
ABSL_DECLARE_FLAG(int64_t, max_history_bytes_total);
ABSL_DECLARE_FLAG(int64_t, http_body_buffer_bytes);
ABSL_DECLARE_FLAG(int64_t, http_body_buffer_bytes_per_ip);
ABSL_DECLARE_FLAG(int32_t, http_waiting_connections_per_ip);
ABSL_DECLARE_FLAG(std::string, admin_address);
ABSL_DECLARE_FLAG(int32_t, admin_port);
ABSL_DECLARE_FLAG(std::string, metrics_channels);

namespace ssebridge {

// Sets every ssebridge flag that has an SSEBRIDGE_* variable in the
// environment. Call before absl::ParseCommandLine so the command line wins.
// INVALID_ARGUMENT names the variable when a value does not parse.
absl::Status ApplyEnvironmentToFlags();

// Cross-flag checks (ranges, ports); INVALID_ARGUMENT names the flag.
absl::Status ValidateFlags();

}  // namespace ssebridge

#endif  // SSEBRIDGE_OPS_FLAGS_H_
