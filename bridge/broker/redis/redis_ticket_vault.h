// RedisTicketVault: the TicketVault (bridge/core/ticket_vault.h) kept in
// the bridge's Redis, so every replica of a --broker=redis fleet redeems
// every replica's tickets, once.
//
// A ticket is one key, {<prefix>}:ticket:<hex SHA-256> (redis_keys.h),
// written with SET NX PX (never replaced; Redis forgets it after `keep`)
// and taken by kTicketTakeScript, one atomic step that hands the record out
// and leaves 'U' in its place (or 'X' for one found expired), so of two
// replicas racing on one ticket exactly one gets it and the loser hears
// "already used". The key outlives the ticket's expiry by what Put is told
// to keep, so a late redeem still hears "expired" rather than "unknown".
//
// Same client as the broker (RedisConnection, RedisPool: the URL,
// password, database, timeouts, backoff and --redis_prefix), in a pool of
// its own so that a burst of redeems never waits behind publishes. Every
// call ends within the command timeout (--redis_command_timeout); while
// Redis is down the pool answers UNAVAILABLE at once (see redis_pool.h).
// Its backoff is its own (the broker's fan-out does not revive it), so when
// Redis returns, tickets may stay UNAVAILABLE up to --redis_reconnect_max
// longer than publishes.
// Every failure's message names Redis and its address.
// Thread-safe (the pool is).
#ifndef SSEBRIDGE_BROKER_REDIS_REDIS_TICKET_VAULT_H_
#define SSEBRIDGE_BROKER_REDIS_REDIS_TICKET_VAULT_H_

#include <string>

#include "bridge/broker/redis/redis_keys.h"
#include "bridge/broker/redis/redis_pool.h"
#include "bridge/core/ticket_vault.h"

namespace ssebridge {

class RedisTicketVault final : public TicketVault {
 public:
  struct Options {
    RedisConnectOptions connect;
    std::string prefix = "ssebridge";
    size_t pool_size = 4;
    RedisBackoff backoff;
  };
  explicit RedisTicketVault(const Options& options);

  absl::Status Put(absl::string_view name, absl::string_view record, absl::Time expires_at,
                   absl::Duration keep) override;
  absl::StatusOr<Found> Take(absl::string_view name, absl::Time now) override;
  absl::StatusOr<Found> Look(absl::string_view name, absl::Time now) override;

 private:
  absl::StatusOr<Found> Fetch(absl::string_view name, absl::Time now, bool take);
  // `s` with a message that names Redis.
  absl::Status Named(const absl::Status& s) const;

  const RedisKeys keys_;
  const std::string where_;
  RedisPool pool_;
};

}  // namespace ssebridge

#endif  // SSEBRIDGE_BROKER_REDIS_REDIS_TICKET_VAULT_H_
