// RedisScripts: the Lua the Redis broker runs. Each script is atomic in
// Redis, which is what gives every event one place in one global order:
// the publish script takes the next seq, appends to the channel's stream
// and PUBLISHes, all at once, so pub/sub delivers events to every replica
// in seq order.
//
// Cluster: the publish script touches {<prefix>}:seq and the channel's
// {<prefix>:ch:<c>} keys, two slots, so it needs a single Redis primary
// (standalone or Sentinel), not Cluster. See redis_broker.h.
#ifndef SSEBRIDGE_BROKER_REDIS_REDIS_SCRIPTS_H_
#define SSEBRIDGE_BROKER_REDIS_REDIS_SCRIPTS_H_

#include <string>

#include "absl/strings/string_view.h"
#include "bridge/broker/redis/redis_connection.h"

namespace ssebridge {

// Every script that reads or takes a seq (publish, snapshot, recover) ends
// its KEYS with the epoch's owner key and its ARGV with the identity of the
// server (RedisConnection::server_identity(), '' for none): a different
// redis-server process under the same data replaces the epoch (see
// SSEBRIDGE_EPOCH_LUA in redis_scripts.cc).
//
// KEYS: epoch, seq, history, meta, retained, idempotency, retained bytes,
//       retained index, retained public set, then (targeted retained
//       publishes) one retained user set per user, then the epoch owner
// ARGV: epoch candidate, payload, maxlen, ttl ms (0: none), retained field
//       ('' : not retained), topic, idempotency ttl ms, now us,
//       '1' when KEYS[6] is a real idempotency key,
//       max retained per channel, max retained bytes, channel,
//       the epoch this replica knows ('-': none yet), the highest seq it saw
//       in it (when Redis' seq is below it, Redis went back in time: the
//       epoch is replaced first), the server's identity
// -> {epoch, "<id> <published us>", replayed 0|1}, or, when a retained cap
//    refuses it (nothing stored, no seq taken), {epoch, flag name, 2}
extern const RedisScript kPublishScript;

// Many publishes in one call, each with exactly the outcome kPublishScript
// would give it run alone in the same order (retained caps, idempotency
// replays, duplicates within the call, history markers, expiry), at a
// fraction of the cost per event: the epoch, owner and rewind checks run
// once per call. One call holds Redis for its whole run, so the caller
// bounds the events per call (RedisBroker::Options::batch_call_events).
// KEYS: epoch, seq, retained bytes, retained index, then per event its
//       history and meta, then its idempotency key when it has one, then
//       when retained its retained hash and either the public set (no
//       users) or one retained user set per user; then the epoch owner
// ARGV: epoch candidate, maxlen, ttl ms (0: none), idempotency ttl ms,
//       now us, max retained per channel, max retained bytes, the epoch
//       this replica knows ('-': none), the highest seq it saw in it (as in
//       the publish script), then per event: payload, topic, channel,
//       retained field ('': not retained), its user count, '1' when it
//       has an idempotency key; then the server's identity
// -> {epoch, then per event: "<id> <published us>" and 0 (taken) or 1
//    (replayed), or a retained flag name and 2 (refused, as the publish
//    script's)}
extern const RedisScript kPublishBatchScript;

// KEYS: epoch, seq, then per channel: history, meta, retained, retained
//       public set, the reader's retained user set; then the epoch owner
// ARGV: epoch candidate, 'fresh'|'resume', cursor epoch, cursor seq, the
//       epoch this replica knows ('-': none) and the highest seq it saw in
//       it (as in the publish script), the server's identity
// -> {epoch, head, reason ('' or a reset reason), items}
//    items: flat {channel index (1-based), stream id or '', payload}; stream
//    entries after the cursor when reason is '' and mode is resume,
//    otherwise retained values ("<seq>\n<payload>", with id '').
extern const RedisScript kSnapshotScript;

// KEYS: epoch, seq, then per channel: history, meta; then the epoch owner
// ARGV: epoch candidate, expected epoch ('-': none), the highest seq seen
//       in it (a Redis behind it gets a new epoch, as in the publish
//       script), then per channel its cursor seq ('-': no replay wanted),
//       then the server's identity
// -> {epoch, head, too_old flags (per channel 0|1), items}; when the epoch
//    is not the expected one, flags and items are empty.
extern const RedisScript kRecoverScript;

// Expires retained values published before a cutoff (--retained_ttl).
// KEYS: retained index, retained bytes
// ARGV: cutoff us, key prefix, most values to expire in this call
// -> number expired
extern const RedisScript kRetainedSweepScript;

// Takes (or looks at) a one-time ticket (RedisTicketVault): atomic, so of
// replicas racing on one ticket exactly one gets it.
// KEYS: the ticket's key
// ARGV: now us, '1' take | '0' look
// -> {'live', record} (taken unless looking), {'used'}, {'expired'} (marked
//    so when taking) or {'unknown'}
extern const RedisScript kTicketTakeScript;

// The warning when a server will not tell its identity, so the epoch has
// no owner check: `why` and what it costs.
std::string OwnerUnknown(absl::string_view why);

}  // namespace ssebridge

#endif  // SSEBRIDGE_BROKER_REDIS_REDIS_SCRIPTS_H_
