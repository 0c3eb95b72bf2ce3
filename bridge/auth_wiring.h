// AuthParts: the bridge's keys, JWT verifier, ticket store, subscriber and
// publisher checks, rate limiter, connection limits and the per-publisher
// shares (channels, gRPC Subscribe streams), built from the flags
// (wiring only, like main.cc). AuthParts owns every part; the pointers
// between them stay valid for its lifetime, which main.cc makes the whole
// run. Logs the loud "auth is off" warning when nothing is configured.
#ifndef SSEBRIDGE_AUTH_WIRING_H_
#define SSEBRIDGE_AUTH_WIRING_H_

#include <memory>

#include "absl/status/status.h"
#include "bridge/auth/channel_shares.h"
#include "bridge/auth/connection_limits.h"
#include "bridge/auth/jwt_keys.h"
#include "bridge/auth/jwt_verifier.h"
#include "bridge/auth/publisher_auth.h"
#include "bridge/auth/publisher_keys.h"
#include "bridge/auth/rate_limiter.h"
#include "bridge/auth/stream_shares.h"
#include "bridge/auth/subscriber_auth.h"
#include "bridge/auth/ticket_store.h"
#include "bridge/core/fleet.h"
#include "bridge/core/ticket_vault.h"

namespace ssebridge {

struct AuthParts {
  std::shared_ptr<JwtKeySet> jwt_keys = std::make_shared<JwtKeySet>();
  std::unique_ptr<JwtVerifier> verifier;
  // Set before LoadAuthFromFlags when replicas share tickets (see
  // MakeTicketVaultFromFlags); declared first, so it outlives the store.
  std::unique_ptr<TicketVault> ticket_vault;
  std::unique_ptr<TicketStore> tickets;
  // Set before LoadAuthFromFlags when replicas share per-user stream
  // counts (see MakeFleetFromFlags); not owned, outlives AuthParts.
  Fleet* fleet = nullptr;
  std::unique_ptr<SubscriberAuth> subscribers;
  PublisherKeys publisher_keys;
  PublisherKeys admin_keys;
  std::unique_ptr<RateLimiter> limiter;
  std::unique_ptr<ChannelShares> channel_shares;
  std::unique_ptr<PublisherAuth> publishers;
  std::unique_ptr<ConnectionLimits> connections;
  std::unique_ptr<StreamShares> grpc_subscribe_streams;
  std::unique_ptr<StreamShares> grpc_publish_streams;
};

// InvalidArgument naming the flag when a key file or pattern is bad. The
// ticket store is a SharedTicketStore over a.ticket_vault when that is set,
// a MemoryTicketStore otherwise.
absl::Status LoadAuthFromFlags(AuthParts& a);

}  // namespace ssebridge

#endif  // SSEBRIDGE_AUTH_WIRING_H_
