#include "bridge/auth_wiring.h"

#include <algorithm>
#include <string>
#include <utility>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "bridge/auth/memory_ticket_store.h"
#include "bridge/auth/secret_file.h"
#include "bridge/auth/shared_ticket_store.h"
#include "bridge/ops/flags.h"
#include "bridge/ops/log.h"

namespace ssebridge {
namespace {

absl::Status FlagError(absl::string_view flag, const absl::Status& s) {
  return absl::InvalidArgumentError(absl::StrCat(flag, ": ", s.message()));
}

absl::Status LoadJwtKeys(JwtKeySet& keys) {
  if (const std::string f = absl::GetFlag(FLAGS_jwt_keys_file); !f.empty()) {
    absl::Status s = keys.LoadKeyFile(f);
    if (!s.ok()) return FlagError("--jwt_keys_file", s);
  }
  if (const std::string f = absl::GetFlag(FLAGS_jwt_secret_file); !f.empty()) {
    absl::StatusOr<std::string> secret = ReadSecretFile(f);
    if (!secret.ok()) return FlagError("--jwt_secret_file", secret.status());
    absl::Status s = keys.AddHmacSecret("default", JwtAlgorithm::kHS256, std::move(*secret));
    if (!s.ok()) return FlagError("--jwt_secret_file", s);
  }
  return absl::OkStatus();
}

void WarnWhenOpen(const AuthParts& a) {
  if (a.publishers->open() && a.admin_keys.empty()) {
    LogLine(LogLevel::kWarning,
            "AUTH IS OFF (dev mode): no JWT, publisher or admin key is configured, "
            "so anyone who reaches this bridge may read every channel, publish "
            "to any channel and use the Admin service. Set --jwt_keys_file and "
            "--publisher_keys_file before exposing it.");
  } else if (a.subscribers->open()) {
    LogLine(LogLevel::kWarning,
            "no JWT key is configured: every channel is readable by anyone "
            "(tickets still identify users)");
  }
}

}  // namespace

absl::Status LoadAuthFromFlags(AuthParts& a) {
  absl::Status s = LoadJwtKeys(*a.jwt_keys);
  if (!s.ok()) return s;
  JwtVerifier::Options jwt;
  jwt.issuer = absl::GetFlag(FLAGS_jwt_issuer);
  jwt.audience = absl::GetFlag(FLAGS_jwt_audience);
  jwt.leeway = absl::GetFlag(FLAGS_jwt_leeway);
  jwt.require_exp = absl::GetFlag(FLAGS_jwt_require_exp);
  a.verifier = std::make_unique<JwtVerifier>(jwt, a.jwt_keys);
  TicketStore::Options tickets;
  tickets.max_tickets = static_cast<size_t>(absl::GetFlag(FLAGS_max_tickets));
  tickets.max_tickets_per_key = static_cast<size_t>(absl::GetFlag(FLAGS_max_tickets_per_key));
  tickets.max_channels_per_ticket = static_cast<size_t>(absl::GetFlag(FLAGS_max_ticket_channels));
  tickets.max_pattern_bytes = static_cast<size_t>(absl::GetFlag(FLAGS_max_ticket_pattern_bytes));
  if (a.ticket_vault != nullptr) {
    a.tickets = std::make_unique<SharedTicketStore>(tickets, a.ticket_vault.get());
  } else {
    a.tickets = std::make_unique<MemoryTicketStore>(tickets);
  }
  absl::StatusOr<ChannelPatterns> public_channels =
      ChannelPatterns::Parse(absl::GetFlag(FLAGS_public_channels));
  if (!public_channels.ok()) return FlagError("--public_channels", public_channels.status());
  SubscriberAuth::Options sub;
  sub.public_channels = std::move(*public_channels);
  sub.cookie_name = absl::GetFlag(FLAGS_auth_cookie);
  sub.allow_query_token = absl::GetFlag(FLAGS_allow_query_token);
  a.subscribers =
      std::make_unique<SubscriberAuth>(std::move(sub), a.verifier.get(), a.tickets.get());
  if (const std::string f = absl::GetFlag(FLAGS_publisher_keys_file); !f.empty()) {
    s = a.publisher_keys.LoadFile(f);
    if (!s.ok()) return FlagError("--publisher_keys_file", s);
  }
  if (const std::string f = absl::GetFlag(FLAGS_admin_keys_file); !f.empty()) {
    s = a.admin_keys.LoadFile(f);
    if (!s.ok()) return FlagError("--admin_keys_file", s);
  }
  const double rate = absl::GetFlag(FLAGS_publish_rate_limit);
  const double burst = absl::GetFlag(FLAGS_publish_rate_burst);
  a.limiter = std::make_unique<RateLimiter>(rate, burst > 0 ? burst : rate);
  PublisherAuth::Options pub;
  pub.allow_anonymous = absl::GetFlag(FLAGS_allow_anonymous_publish);
  a.channel_shares = std::make_unique<ChannelShares>(
      static_cast<size_t>(absl::GetFlag(FLAGS_max_channels_per_key)),
      absl::GetFlag(FLAGS_history_ttl));
  a.publishers = std::make_unique<PublisherAuth>(pub, &a.publisher_keys, a.verifier.get(),
                                                 a.limiter.get(), a.channel_shares.get());
  a.connections = std::make_unique<ConnectionLimits>(
      static_cast<size_t>(absl::GetFlag(FLAGS_max_connections_per_user)),
      static_cast<size_t>(absl::GetFlag(FLAGS_max_connections_per_ip)), a.fleet);
  const int32_t subscribe_streams = absl::GetFlag(FLAGS_max_grpc_subscribe_streams);
  a.grpc_subscribe_streams = std::make_unique<StreamShares>(
      static_cast<size_t>(subscribe_streams > 0
                              ? subscribe_streams
                              : std::max(1, absl::GetFlag(FLAGS_grpc_max_threads) / 2)),
      static_cast<size_t>(absl::GetFlag(FLAGS_max_grpc_subscribe_streams_per_key)));
  a.grpc_publish_streams = std::make_unique<StreamShares>(
      static_cast<size_t>(absl::GetFlag(FLAGS_max_grpc_publish_streams)),
      static_cast<size_t>(absl::GetFlag(FLAGS_max_grpc_publish_streams_per_key)),
      StreamShares::Names{"gRPC publish streams", "max_grpc_publish_streams",
                          "max_grpc_publish_streams_per_key"});
  WarnWhenOpen(a);
  return absl::OkStatus();
}

}  // namespace ssebridge
