// The broker's flags: memory or Redis, how to reach Redis (URL, TLS,
// Sentinel, timeouts, backoff) and the fleet of replicas sharing it. Kept
// apart from flags.cc by concept; declared in flags.h with the others and
// checked by ValidateFlags().
#include <cstdint>
#include <string>

#include "absl/flags/flag.h"
#include "absl/time/time.h"
#include "bridge/ops/flags.h"

// ---- broker -----------------------------------------------------------
ABSL_FLAG(std::string, broker, "memory",
          "Where history lives: memory (one process, the default) or redis "
          "(several replicas behind a load balancer share --redis_url).");
ABSL_FLAG(std::string, redis_url, "redis://127.0.0.1:6379/0",
          "With --broker=redis: redis://[[user]:password@]host:port/db, or "
          "rediss:// for TLS (see --redis_tls_ca_file).");
ABSL_FLAG(std::string, redis_tls_ca_file, "",
          "With rediss://: PEM CA bundle that signs Redis' certificate "
          "(default: the system's CAs).");
ABSL_FLAG(std::string, redis_tls_cert_file, "",
          "With rediss://: PEM client certificate, for a Redis that "
          "requires one (tls-auth-clients); needs --redis_tls_key_file.");
ABSL_FLAG(std::string, redis_tls_key_file, "",
          "With rediss://: PEM private key of --redis_tls_cert_file.");
ABSL_FLAG(std::string, redis_tls_server_name, "",
          "With rediss://: the name Redis' certificate must carry (and the "
          "SNI sent), when it is not the host of --redis_url.");
ABSL_FLAG(std::string, redis_password_file, "",
          "File holding the Redis password (wins over one in --redis_url).");
ABSL_FLAG(std::string, redis_sentinels, "",
          "With --broker=redis: Redis Sentinel addresses (host:port,...) that "
          "tell where the primary is; the bridge follows failovers "
          "(+switch-master) without a restart. The database and password "
          "still come from --redis_url (keep its host:port at the default) "
          "and --redis_password_file; with rediss:// the sentinels are asked "
          "over TLS too (Sentinel's tls-port), with the --redis_tls_* files, "
          "unless --redis_sentinel_tls=false.");
ABSL_FLAG(std::string, redis_sentinel_master, "mymaster",
          "With --redis_sentinels: the master name the sentinels monitor.");
ABSL_FLAG(std::string, redis_sentinel_password_file, "",
          "File holding the password of the sentinels themselves (not of "
          "Redis); empty: no AUTH to the sentinels.");
ABSL_FLAG(bool, redis_sentinel_tls, true,
          "With rediss:// and --redis_sentinels: ask the sentinels over TLS "
          "too. false: plain TCP to the sentinels (a TLS Redis behind "
          "sentinels without tls-port); Redis itself stays TLS.");
ABSL_FLAG(absl::Duration, redis_sentinel_timeout, absl::Milliseconds(500),
          "Connect and command timeout of one sentinel; an idle sentinel "
          "watch is PINGed every two of these.");
ABSL_FLAG(std::string, redis_prefix, "ssebridge",
          "Namespace of every Redis key and pub/sub topic of this bridge.");
ABSL_FLAG(absl::Duration, redis_connect_timeout, absl::Seconds(2),
          "Timeout of one connection attempt to Redis.");
ABSL_FLAG(absl::Duration, redis_command_timeout, absl::Seconds(2),
          "Timeout of one Redis command; beyond it the publish answers "
          "UNAVAILABLE and the connection is replaced.");
ABSL_FLAG(absl::Duration, redis_reconnect_min, absl::Milliseconds(100),
          "First delay before reconnecting to Redis; doubles up to "
          "--redis_reconnect_max. Publishes fail fast meanwhile.");
ABSL_FLAG(absl::Duration, redis_reconnect_max, absl::Seconds(5),
          "Longest delay between attempts to reconnect to Redis.");
ABSL_FLAG(int32_t, redis_pool_size, 4,
          "Command connections to Redis shared by publishes and attaches.");
ABSL_FLAG(bool, redis_reset_on_primary_change, true,
          "Start a new epoch when another redis-server process or "
          "replication history serves the data (a restart, a failover): "
          "every open stream and every reconnect then gets one reset, and "
          "no id is handed out twice (needs INFO allowed and the flag on "
          "every replica). Off: only a Redis whose seq went below what this "
          "replica saw gets a new epoch, so after a failover to a replica "
          "that lagged, an id another replica acknowledged may be reused.");
ABSL_FLAG(absl::Duration, fleet_lease, absl::Seconds(15),
          "With --broker=redis: how long a replica's streams keep counting "
          "against --max_connections_per_user on the other replicas (and its "
          "numbers stay in GetStats) after its last refresh; a replica that "
          "dies unannounced stops counting within it.");
ABSL_FLAG(absl::Duration, fleet_refresh_interval, absl::Seconds(5),
          "With --broker=redis: how often a replica renews its lease and "
          "reports its numbers to Redis; at most half of --fleet_lease.");
ABSL_FLAG(absl::Duration, fleet_answer_timeout, absl::Seconds(2),
          "With --broker=redis: how long Admin.DisconnectUser waits for the "
          "other replicas to report how many streams they ended.");
ABSL_FLAG(int64_t, max_retained_per_channel, 1000,
          "Most retained values one channel holds (one per event type and "
          "audience); a retained publish for a new slot beyond it is "
          "RESOURCE_EXHAUSTED.");
ABSL_FLAG(int64_t, max_retained_bytes, int64_t{64} << 20,
          "Bytes of retained values held in all, all channels together; a "
          "retained publish beyond it is RESOURCE_EXHAUSTED.");
ABSL_FLAG(absl::Duration, retained_ttl, absl::Hours(24),
          "How long a retained value is kept after its publish; 'inf' keeps "
          "it until replaced.");
ABSL_FLAG(int64_t, max_history_bytes_total, int64_t{1} << 30,
          "Bytes of history held in all channels together (memory broker); "
          "beyond it the oldest events are evicted (their cursors reset). "
          "0: no global budget.");
ABSL_FLAG(int64_t, http_body_buffer_bytes, 64 << 20,
          "Most bytes of HTTP requests held at once, over all connections, "
          "while they arrive (bodies are read before a request thread runs "
          "them); a request that would pass it gets 503. One request is "
          "always admitted. 0: no limit.");
ABSL_FLAG(int64_t, http_body_buffer_bytes_per_ip, 16 << 20,
          "One client address's share of --http_body_buffer_bytes: bytes of "
          "its requests being received at once; beyond it 503. One request "
          "alone is always admitted. 0: no share. Behind a proxy every "
          "client has the proxy's address.");
ABSL_FLAG(int32_t, http_waiting_connections_per_ip, 4096,
          "Most connections one client address may hold waiting for a "
          "request or its body (or kept alive between requests; open SSE "
          "streams do not count); beyond it a new one is answered 503 and "
          "closed. Behind a proxy every client has the proxy's address: size "
          "it above the proxy's idle upstream connections, or 0 (no limit).");
