// Fleet: what the replicas of one deployment share about their users'
// streams, so that what an operator or a user does works on any replica
// (issue 21, item 8): a user's streams counted against
// --max_connections_per_user on every replica at once, DisconnectUser
// reaching every replica, and GetStats answering for all of them.
//
// The interface lives in core because both sides need it and neither may
// include the other: auth (ConnectionLimits) and the gRPC Admin service use
// it; the broker room implements it over Redis (RedisFleet). With
// --broker=memory there is no Fleet (a null pointer): every caller then
// does exactly what a single replica did before.
//
// Promises of every implementation:
//   - a replica that stops refreshing (SIGKILL, partition) stops counting:
//     its streams and its stats are forgotten within the lease it was
//     configured with, however it died;
//   - no call waits on the store longer than the store's command timeout
//     (TakeStream, Stats) or the answer timeout (DisconnectElsewhere), and
//     ReleaseStream never waits at all (it runs on a stream's close path);
//   - a failure to reach the store is a status, never a guessed answer.
// Implementations are thread-safe. Start() once before use (after the
// hooks' owners exist), Stop() once before they go away: it leaves the
// fleet (the replica stops counting at once) if the store answers before
// `deadline`, and returns by then even if the store is frozen.
#ifndef SSEBRIDGE_CORE_FLEET_H_
#define SSEBRIDGE_CORE_FLEET_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace ssebridge {

// One replica's numbers, as GetStats reports them.
struct ReplicaStats {
  std::string replica;
  uint64_t connections = 0;       // open SSE streams
  uint64_t grpc_subscribers = 0;  // open gRPC Subscribe streams
  uint64_t channels = 0;          // channels with a subscriber there
  uint64_t users = 0;             // distinct users with a stream there
  uint64_t published = 0;         // events accepted there since its start
  absl::Time reported_at = absl::InfinitePast();
};

// What the other replicas did with a DisconnectUser.
struct FleetDisconnect {
  uint32_t told = 0;          // other replicas the request reached
  uint32_t answered = 0;      // ... that reported their count in time
  uint32_t disconnected = 0;  // streams those ended
};

class Fleet {
 public:
  // What a replica does for the others; both run on the fleet's own thread.
  struct Hooks {
    // Ends this replica's streams of `user`; how many.
    std::function<uint32_t(const std::string& user)> disconnect_local;
    // This replica's numbers now (replica and reported_at are filled in).
    std::function<ReplicaStats()> local_stats;
  };

  virtual ~Fleet() = default;

  // This replica's name in the fleet (unique per process).
  virtual const std::string& replica() const = 0;
  virtual absl::Status Start(Hooks hooks) = 0;
  virtual void Stop(absl::Time deadline) = 0;

  // Counts one more stream of `key` (FleetStreamKey) on this replica,
  // unless the fleet holds `limit` of them already (0: no limit). True:
  // counted (give it back with ReleaseStream); false: the fleet is full
  // (`*held`: how many it holds). Not OK: not counted (store unreachable).
  virtual absl::StatusOr<bool> TakeStream(absl::string_view key, size_t limit, size_t* held) = 0;
  // Gives back one stream TakeStream or CountUnchecked counted. Never blocks.
  virtual void ReleaseStream(absl::string_view key) = 0;
  // Counts one stream of `key` that was let in without the fleet's check
  // (TakeStream was not OK: the store was away), so that once the store is
  // back the fleet counts it like any other: no limit is checked, and the
  // store may learn of it later. Give it back with ReleaseStream. Never
  // blocks.
  virtual void CountUnchecked(absl::string_view key) = 0;

  // Tells every other replica to end `user`'s streams and collects their
  // counts, waiting at most the answer timeout. Not OK: nobody was told.
  virtual absl::StatusOr<FleetDisconnect> DisconnectElsewhere(const std::string& user) = 0;

  // The last numbers every live replica reported (this one included, as of
  // its last report), in no particular order.
  virtual absl::StatusOr<std::vector<ReplicaStats>> Stats() = 0;
};

// The name a stream is counted under across the fleet: the user, or the
// (minter, user) pair for a stream on a confined publisher's ticket (see
// connection_limits.h). Never the same for two different pairs.
std::string FleetStreamKey(absl::string_view minter, absl::string_view user);

// ReplicaStats as one line of text kept in the store, and back. Decode
// fails (false) on anything Encode did not make.
std::string EncodeReplicaStats(const ReplicaStats& stats);
bool DecodeReplicaStats(absl::string_view replica, absl::string_view text, ReplicaStats* stats);

// Sums of the replicas' numbers (replica and reported_at stay empty). A
// user or channel present on two replicas counts twice in users/channels.
ReplicaStats SumReplicaStats(const std::vector<ReplicaStats>& replicas);

}  // namespace ssebridge

#endif  // SSEBRIDGE_CORE_FLEET_H_
