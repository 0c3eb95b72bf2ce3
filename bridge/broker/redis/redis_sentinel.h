// Redis Sentinel wire details, without sockets: the --redis_sentinels list,
// and the replies SentinelPrimaryLocator reads (SENTINEL
// get-master-addr-by-name, ROLE, +switch-master messages). Pure functions,
// unit-tested on hand-built replies.
#ifndef SSEBRIDGE_BROKER_REDIS_REDIS_SENTINEL_H_
#define SSEBRIDGE_BROKER_REDIS_REDIS_SENTINEL_H_

#include <hiredis/hiredis.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "bridge/broker/redis/redis_primary_locator.h"

namespace ssebridge {

struct SentinelAddress {
  std::string host;
  int port = 26379;
  std::string Describe() const;  // "host:port"
};

// "host:port,host:port" (spaces around entries ignored; IPv6 as
// "[::1]:26379"; a missing port is Sentinel's 26379). INVALID_ARGUMENT
// naming --redis_sentinels for an empty list, a bad port or a duplicate.
absl::StatusOr<std::vector<SentinelAddress>> ParseSentinelList(absl::string_view list);

// The reply to SENTINEL get-master-addr-by-name: a two-element array
// [ip, port]. NOT_FOUND when the sentinel does not know `master` (nil),
// UNAVAILABLE for an error reply, INTERNAL for anything malformed.
absl::StatusOr<RedisPrimaryAddress> ParseMasterAddrReply(const redisReply& reply,
                                                         absl::string_view master);

// The payload of a +switch-master message:
// "<master> <old ip> <old port> <new ip> <new port>". False when it is
// malformed or about another master; otherwise *to is the new primary.
bool ParseSwitchMaster(absl::string_view payload, absl::string_view master,
                       RedisPrimaryAddress* to);

// A pub/sub push ["message", "+switch-master", payload]: its payload.
bool SwitchMasterPayload(const redisReply& reply, std::string* payload);

// The reply to ROLE names a master (its first element is "master").
bool RoleIsMaster(const redisReply& reply);

}  // namespace ssebridge

#endif  // SSEBRIDGE_BROKER_REDIS_REDIS_SENTINEL_H_
