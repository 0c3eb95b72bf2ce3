// RedisKeys: the names of everything the Redis broker keeps, under one
// prefix (--redis_prefix). Per-channel keys share the hash tag
// {<prefix>:ch:<channel>} so a channel's history, retained values and
// position live in one Cluster slot; the epoch, the global sequence and
// idempotency keys share the tag {<prefix>}.
//
//   {p}:epoch            the current epoch (SET NX when missing)
//   {p}:epoch:owner      "<run_id>:<master_replid>" of the server that
//                        handed out the epoch's seqs (redis_scripts.cc)
//   {p}:seq              the global sequence (INCR)
//   {p}:idem:<key>       "<id> <published ms>" for an idempotency key
//   {p:ch:<c>}:h         stream of events, entry id "<seq>-0", field "e"
//   {p:ch:<c>}:m         hash: l = last seq, t = newest seq trimmed or expired
//   {p:ch:<c>}:r         hash: retained field -> "<seq>\n<payload>"
//   {p:ch:<c>}:rp        set: the fields of public retained values
//   {p:ch:<c>}:ru:<u>    set: the fields of retained values targeted at u
//   {p}:retained:bytes   bytes of every retained field + value (a counter)
//   {p}:retained:index   sorted set "<channel>\0<field>" by publish time (us),
//                        which the sweep expires (--retained_ttl)
//   {p}:ticket:<sha256>  a one-time ticket: "<expires us> <grant>", then 'U'
//                        (taken) or 'X' (expired); the hex SHA-256 of the
//                        ticket, never the ticket (RedisTicketVault)
//   <p>:live:<c>         pub/sub topic: "<epoch> <seq>\n<payload>"
//   {p}:fleet:...        what the replicas share about their streams and
//                        numbers (RedisFleet, redis_fleet.h lists them)
//   <p>:fleet            pub/sub topic: requests to every replica
#ifndef SSEBRIDGE_BROKER_REDIS_REDIS_KEYS_H_
#define SSEBRIDGE_BROKER_REDIS_REDIS_KEYS_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace ssebridge {

class RedisKeys {
 public:
  explicit RedisKeys(std::string prefix) : prefix_(std::move(prefix)) {}

  std::string epoch() const;
  std::string epoch_owner() const;
  std::string seq() const;
  std::string idempotency(absl::string_view key) const;
  std::string history(absl::string_view channel) const;
  std::string meta(absl::string_view channel) const;
  std::string retained(absl::string_view channel) const;
  std::string retained_public(absl::string_view channel) const;
  // `user` empty: a key never written (anonymous readers have no values).
  std::string retained_user(absl::string_view channel, absl::string_view user) const;
  std::string retained_bytes() const;
  std::string retained_index() const;
  // `name`: the hex SHA-256 of a ticket.
  std::string ticket(absl::string_view name) const;
  // {p}:fleet:<what>, and the fleet's pub/sub topic (redis_fleet.h).
  std::string fleet(absl::string_view what) const;
  std::string fleet_topic() const;
  const std::string& prefix() const { return prefix_; }
  std::string topic(absl::string_view channel) const;
  // The channel of a topic of this prefix; false for any other topic.
  bool ChannelOfTopic(absl::string_view topic, std::string* channel) const;

 private:
  std::string ChannelTag(absl::string_view channel) const;
  const std::string prefix_;
};

// The retained-value slot of an event: one per (event type, audience). Types
// cannot contain NUL and user ids are length-prefixed, so no two audiences
// share a field (same rule as MemoryBroker).
std::string RetainedField(absl::string_view type, const std::vector<std::string>& user_ids);

}  // namespace ssebridge

#endif  // SSEBRIDGE_BROKER_REDIS_REDIS_KEYS_H_
