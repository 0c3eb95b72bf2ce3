// RedisFleetScripts: the Lua RedisFleet runs (redis_fleet.h names the
// keys). Each is atomic in Redis, which is what keeps a user's count right
// when replicas take and give back streams at once, and what lets any
// replica forget a dead one without racing its own refresh.
//
// Like the broker's scripts they build some key names from a prefix
// argument, so they need one Redis primary (standalone or Sentinel), not
// Cluster.
#ifndef SSEBRIDGE_BROKER_REDIS_REDIS_FLEET_SCRIPTS_H_
#define SSEBRIDGE_BROKER_REDIS_REDIS_FLEET_SCRIPTS_H_

#include "bridge/broker/redis/redis_connection.h"

namespace ssebridge {

// The replica's refresh: its lease (with its stats as the value) renewed.
// KEYS: alive:<me>, replicas
// ARGV: me, stats line, lease ms
// -> 1 when the lease was still there, 0 when it had run out (or this is
//    the first refresh): the replica's counts may have been reaped and must
//    be written again (kFleetResyncScript).
extern const RedisScript kFleetBeatScript;

// Forgets replicas whose lease ran out: their streams stop counting.
// KEYS: replicas
// ARGV: alive prefix, held prefix, streams prefix
// -> number of replicas forgotten
extern const RedisScript kFleetReapScript;

// Counts one stream of a key on this replica unless the live replicas
// hold `limit` already (fields of replicas without a lease are dropped on
// the way, not counted).
// KEYS: streams:<key>, held:<me>
// ARGV: me, limit (0: none), alive prefix, key
// -> {1|0 taken, streams held fleet-wide before this one}
extern const RedisScript kFleetTakeScript;

// Gives back n streams of a key on this replica.
// KEYS: streams:<key>, held:<me>
// ARGV: me, n, key
extern const RedisScript kFleetReleaseScript;

// Replaces every count of this replica with the ones given.
// KEYS: held:<me>
// ARGV: me, streams prefix, then pairs: key, count
extern const RedisScript kFleetResyncScript;

// The stats line of every replica with a lease.
// KEYS: replicas
// ARGV: alive prefix
// -> flat {replica, stats line, ...}
extern const RedisScript kFleetStatsScript;

// An answer to a fleet request: pushed, and the list expires.
// KEYS: reply:<request>
// ARGV: answer, ttl ms
extern const RedisScript kFleetReplyScript;

}  // namespace ssebridge

#endif  // SSEBRIDGE_BROKER_REDIS_REDIS_FLEET_SCRIPTS_H_
