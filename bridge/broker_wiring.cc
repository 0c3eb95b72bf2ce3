#include "bridge/broker_wiring.h"

#include <string>
#include <utility>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "bridge/ops/flags.h"
#include "bridge/ops/log.h"
#include "bridge/auth/secret_file.h"

namespace ssebridge {
namespace {

MemoryBroker::Options MemoryOptionsFromFlags() {
  MemoryBroker::Options o;
  o.history.max_events = static_cast<size_t>(absl::GetFlag(FLAGS_history_size));
  o.history.max_bytes = static_cast<size_t>(absl::GetFlag(FLAGS_history_bytes));
  o.history.max_age = absl::GetFlag(FLAGS_history_ttl);
  o.max_channels = static_cast<size_t>(absl::GetFlag(FLAGS_max_channels));
  o.idempotency_window = absl::GetFlag(FLAGS_idempotency_window);
  o.idempotency_max_keys = static_cast<size_t>(absl::GetFlag(FLAGS_idempotency_max_keys));
  return o;
}

absl::StatusOr<RedisBroker::Options> RedisOptionsFromFlags(const MemoryBroker::Options& memory,
                                                           RedisConnectionEvents* events) {
  absl::StatusOr<RedisUrl> url = ParseRedisUrl(absl::GetFlag(FLAGS_redis_url));
  if (!url.ok()) return url.status();
  if (const std::string f = absl::GetFlag(FLAGS_redis_password_file); !f.empty()) {
    absl::StatusOr<std::string> password = ReadSecretFile(f);
    if (!password.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--redis_password_file: ", password.status().message()));
    }
    url->password = std::move(*password);
  }
  RedisBroker::Options o;
  o.connect.url = *url;
  o.connect.connect_timeout = absl::GetFlag(FLAGS_redis_connect_timeout);
  o.connect.command_timeout = absl::GetFlag(FLAGS_redis_command_timeout);
  o.prefix = absl::GetFlag(FLAGS_redis_prefix);
  o.history_size = memory.history.max_events;
  o.history_ttl = memory.history.max_age;
  o.idempotency_window = memory.idempotency_window;
  o.backoff.min = absl::GetFlag(FLAGS_redis_reconnect_min);
  o.backoff.max = absl::GetFlag(FLAGS_redis_reconnect_max);
  o.pool_size = static_cast<size_t>(absl::GetFlag(FLAGS_redis_pool_size));
  const std::string where = url->Describe();
  o.on_state = [where, events](const std::string& state, const std::string& detail) {
    const bool up = state == "redis_connected";
    if (up) events->connects.fetch_add(1, std::memory_order_relaxed);
    if (state == "redis_connection_lost") events->losses.fetch_add(1, std::memory_order_relaxed);
    LogLine(up ? LogLevel::kInfo : LogLevel::kWarning, state)
        .Str("redis", where)
        .Str(up ? "epoch" : "error", detail);
  };
  return o;
}

}  // namespace

absl::Status MakeBrokerFromFlags(Hub* hub, const EventEncoder* encoder, BrokerParts& parts) {
  const MemoryBroker::Options memory = MemoryOptionsFromFlags();
  if (absl::GetFlag(FLAGS_broker) != "redis") {
    parts.memory = std::make_unique<MemoryBroker>(memory, hub, encoder);
    return absl::OkStatus();
  }
  absl::StatusOr<RedisBroker::Options> redis = RedisOptionsFromFlags(memory, &parts.redis_events);
  if (!redis.ok()) return redis.status();
  parts.redis = std::make_unique<RedisBroker>(std::move(*redis), hub, encoder);
  parts.redis->Start();
  return absl::OkStatus();
}

}  // namespace ssebridge
