#include "bridge/broker_wiring.h"

#include <mutex>
#include <string>
#include <utility>

#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/str_cat.h"
#include "bridge/auth/secret_file.h"
#include "bridge/broker/memory/memory_broker.h"
#include "bridge/broker/redis/redis_broker.h"
#include "bridge/broker/redis/redis_fleet.h"
#include "bridge/broker/redis/redis_ticket_vault.h"
#include "bridge/broker/redis/redis_tls.h"
#include "bridge/broker/redis/sentinel_primary_locator.h"
#include "bridge/ops/flags.h"
#include "bridge/ops/log.h"

namespace ssebridge {
namespace {

MemoryBroker::Options MemoryOptionsFromFlags() {
  MemoryBroker::Options o;
  o.history.max_events = static_cast<size_t>(absl::GetFlag(FLAGS_history_size));
  o.history.max_bytes = static_cast<size_t>(absl::GetFlag(FLAGS_history_bytes));
  o.history.max_age = absl::GetFlag(FLAGS_history_ttl);
  o.max_channels = static_cast<size_t>(absl::GetFlag(FLAGS_max_channels));
  o.max_history_bytes_total = static_cast<size_t>(absl::GetFlag(FLAGS_max_history_bytes_total));
  o.retained.max_per_channel = static_cast<size_t>(absl::GetFlag(FLAGS_max_retained_per_channel));
  o.retained.max_bytes = static_cast<size_t>(absl::GetFlag(FLAGS_max_retained_bytes));
  o.retained.ttl = absl::GetFlag(FLAGS_retained_ttl);
  o.idempotency_window = absl::GetFlag(FLAGS_idempotency_window);
  o.idempotency_max_keys = static_cast<size_t>(absl::GetFlag(FLAGS_idempotency_max_keys));
  return o;
}

// The one locator of the process: the broker, the ticket vault and the
// fleet share it (one sentinel watch, one view of where the primary is). It
// lives while any of their connection options holds it.
// `tls`: rediss://'s context, which the sentinels are asked with too.
absl::StatusOr<std::shared_ptr<RedisPrimaryLocator>> SharedLocatorFromFlags(
    const RedisUrl& url, std::shared_ptr<const RedisTls> tls) {
  static std::mutex mu;
  static std::weak_ptr<RedisPrimaryLocator> shared;
  std::lock_guard<std::mutex> lock(mu);
  if (std::shared_ptr<RedisPrimaryLocator> existing = shared.lock()) return existing;
  const std::string list = absl::GetFlag(FLAGS_redis_sentinels);
  std::shared_ptr<RedisPrimaryLocator> made;
  if (list.empty()) {
    made = std::make_shared<FixedPrimaryLocator>(url.host, url.port);
  } else {
    const absl::CommandLineFlag* flag = absl::FindCommandLineFlag("redis_url");
    absl::StatusOr<RedisUrl> defaults =
        ParseRedisUrl(flag != nullptr ? flag->DefaultValue() : "redis://");
    if (defaults.ok() && (url.host != defaults->host || url.port != defaults->port)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--redis_sentinels and --redis_url both say where Redis is (--redis_url names ", url.host,
          ":", url.port,
          "): with sentinels keep --redis_url's host:port at the "
          "default and use it only for the database and password"));
    }
    absl::StatusOr<std::vector<SentinelAddress>> sentinels = ParseSentinelList(list);
    if (!sentinels.ok()) return sentinels.status();
    SentinelPrimaryLocator::Options o;
    o.sentinels = std::move(*sentinels);
    o.master = absl::GetFlag(FLAGS_redis_sentinel_master);
    if (absl::GetFlag(FLAGS_redis_sentinel_tls)) o.tls = std::move(tls);
    if (const std::string f = absl::GetFlag(FLAGS_redis_sentinel_password_file); !f.empty()) {
      absl::StatusOr<std::string> password = ReadSecretFile(f);
      if (!password.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("--redis_sentinel_password_file: ", password.status().message()));
      }
      o.password = std::move(*password);
    }
    o.timeout = absl::GetFlag(FLAGS_redis_sentinel_timeout);
    o.backoff_min = absl::GetFlag(FLAGS_redis_reconnect_min);
    o.backoff_max = absl::GetFlag(FLAGS_redis_reconnect_max);
    const std::string master = o.master;
    o.on_state = [master](const std::string& state, const std::string& detail) {
      const bool bad = state == "sentinel_unavailable";
      LogLine(bad ? LogLevel::kWarning : LogLevel::kInfo, state)
          .Str("master", master)
          .Str(bad ? "error" : "address", detail);
    };
    auto sentinel = std::make_shared<SentinelPrimaryLocator>(std::move(o));
    sentinel->StartWatching();
    made = std::move(sentinel);
  }
  shared = made;
  return made;
}

absl::StatusOr<RedisConnectOptions> RedisConnectFromFlags() {
  absl::StatusOr<RedisUrl> url = ParseRedisUrl(absl::GetFlag(FLAGS_redis_url));
  if (!url.ok()) return url.status();
  RedisConnectOptions o;
  RedisTlsOptions tls;
  tls.ca_file = absl::GetFlag(FLAGS_redis_tls_ca_file);
  tls.cert_file = absl::GetFlag(FLAGS_redis_tls_cert_file);
  tls.key_file = absl::GetFlag(FLAGS_redis_tls_key_file);
  tls.server_name = absl::GetFlag(FLAGS_redis_tls_server_name);
  const bool tls_flags = !tls.ca_file.empty() || !tls.cert_file.empty() || !tls.key_file.empty() ||
                         !tls.server_name.empty();
  if (tls_flags && !url->tls) {
    return absl::InvalidArgumentError(
        "--redis_tls_*: set, but --redis_url is not rediss:// (TLS); use rediss://host:port/db");
  }
  if (url->tls) {
    absl::StatusOr<std::shared_ptr<const RedisTls>> context = RedisTls::Create(tls);
    if (!context.ok()) return context.status();
    o.tls = std::move(*context);
  }
  absl::StatusOr<std::shared_ptr<RedisPrimaryLocator>> locator =
      SharedLocatorFromFlags(*url, o.tls);
  if (!locator.ok()) return locator.status();
  if (const std::string f = absl::GetFlag(FLAGS_redis_password_file); !f.empty()) {
    absl::StatusOr<std::string> password = ReadSecretFile(f);
    if (!password.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--redis_password_file: ", password.status().message()));
    }
    url->password = std::move(*password);
  }
  o.url = *url;
  o.locator = std::move(*locator);
  o.connect_timeout = absl::GetFlag(FLAGS_redis_connect_timeout);
  o.command_timeout = absl::GetFlag(FLAGS_redis_command_timeout);
  return o;
}

// For the log: the URL, or the sentinel master name in its place.
std::string DescribeRedis(const RedisConnectOptions& connect) {
  if (absl::GetFlag(FLAGS_redis_sentinels).empty()) return connect.url.Describe();
  return absl::StrCat("sentinel:", absl::GetFlag(FLAGS_redis_sentinel_master), "/", connect.url.db);
}

RedisBackoff RedisBackoffFromFlags() {
  RedisBackoff b;
  b.min = absl::GetFlag(FLAGS_redis_reconnect_min);
  b.max = absl::GetFlag(FLAGS_redis_reconnect_max);
  return b;
}

absl::StatusOr<RedisBroker::Options> RedisOptionsFromFlags() {
  const MemoryBroker::Options memory = MemoryOptionsFromFlags();
  absl::StatusOr<RedisConnectOptions> connect = RedisConnectFromFlags();
  if (!connect.ok()) return connect.status();
  RedisBroker::Options o;
  o.connect = *connect;
  o.prefix = absl::GetFlag(FLAGS_redis_prefix);
  o.history_size = memory.history.max_events;
  o.history_ttl = memory.history.max_age;
  o.idempotency_window = memory.idempotency_window;
  o.retained = memory.retained;
  o.backoff = RedisBackoffFromFlags();
  o.pool_size = static_cast<size_t>(absl::GetFlag(FLAGS_redis_pool_size));
  o.reset_on_primary_change = absl::GetFlag(FLAGS_redis_reset_on_primary_change);
  const std::string where = DescribeRedis(o.connect);
  o.on_state = [where](const std::string& state, const std::string& detail) {
    const bool up = state == "redis_connected";
    LogLine(up ? LogLevel::kInfo : LogLevel::kWarning, state)
        .Str("redis", where)
        .Str(up ? "epoch" : "error", detail);
  };
  return o;
}

}  // namespace

BrokerRegistry BinaryBrokers() {
  BrokerRegistry brokers;
  brokers.Register(
      "memory",
      [](Hub* hub, const EventEncoder* encoder) -> absl::StatusOr<std::unique_ptr<Broker>> {
        return std::make_unique<MemoryBroker>(MemoryOptionsFromFlags(), hub, encoder);
      });
  brokers.Register(
      "redis",
      [](Hub* hub, const EventEncoder* encoder) -> absl::StatusOr<std::unique_ptr<Broker>> {
        absl::StatusOr<RedisBroker::Options> options = RedisOptionsFromFlags();
        if (!options.ok()) return options.status();
        return std::make_unique<RedisBroker>(std::move(*options), hub, encoder);
      });
  return brokers;
}

absl::Status CheckBrokerFlag() { return BinaryBrokers().Check(absl::GetFlag(FLAGS_broker)); }

absl::Status MakeBrokerFromFlags(Hub* hub, const EventEncoder* encoder, BrokerParts& parts) {
  absl::StatusOr<std::unique_ptr<Broker>> made =
      BinaryBrokers().Make(absl::GetFlag(FLAGS_broker), hub, encoder);
  if (!made.ok()) return made.status();
  parts.owned = std::move(*made);
  return parts.owned->Start();
}

absl::Status MakeTicketVaultFromFlags(std::unique_ptr<TicketVault>& vault) {
  vault.reset();
  if (absl::GetFlag(FLAGS_broker) != "redis") return absl::OkStatus();
  absl::StatusOr<RedisConnectOptions> connect = RedisConnectFromFlags();
  if (!connect.ok()) return connect.status();
  RedisTicketVault::Options o;
  o.connect = std::move(*connect);
  o.prefix = absl::GetFlag(FLAGS_redis_prefix);
  o.pool_size = static_cast<size_t>(absl::GetFlag(FLAGS_redis_pool_size));
  o.backoff = RedisBackoffFromFlags();
  vault = std::make_unique<RedisTicketVault>(o);
  return absl::OkStatus();
}

absl::Status MakeFleetFromFlags(std::unique_ptr<Fleet>& fleet) {
  fleet.reset();
  if (absl::GetFlag(FLAGS_broker) != "redis") return absl::OkStatus();
  absl::StatusOr<RedisConnectOptions> connect = RedisConnectFromFlags();
  if (!connect.ok()) return connect.status();
  RedisFleet::Options o;
  o.connect = std::move(*connect);
  o.prefix = absl::GetFlag(FLAGS_redis_prefix);
  o.backoff = RedisBackoffFromFlags();
  o.lease = absl::GetFlag(FLAGS_fleet_lease);
  o.refresh = absl::GetFlag(FLAGS_fleet_refresh_interval);
  o.answer_timeout = absl::GetFlag(FLAGS_fleet_answer_timeout);
  const std::string where = DescribeRedis(o.connect);
  o.on_state = [where](const std::string& state, const std::string& detail) {
    const bool up = state == "fleet_connected";
    LogLine(up ? LogLevel::kInfo : LogLevel::kWarning, state)
        .Str("redis", where)
        .Str(up ? "replica" : "error", detail);
  };
  fleet = std::make_unique<RedisFleet>(std::move(o));
  return absl::OkStatus();
}

}  // namespace ssebridge
