#include "bridge/core/fleet.h"

#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace ssebridge {

std::string FleetStreamKey(absl::string_view minter, absl::string_view user) {
  // A minter name may contain any byte a user id does; its length makes
  // the split unambiguous.
  if (minter.empty()) return absl::StrCat("u:", user);
  return absl::StrCat("m:", minter.size(), ":", minter, ":", user);
}

// "v1 <connections> <grpc_subscribers> <channels> <users> <published> <us>"
std::string EncodeReplicaStats(const ReplicaStats& stats) {
  return absl::StrCat("v1 ", stats.connections, " ", stats.grpc_subscribers, " ", stats.channels,
                      " ", stats.users, " ", stats.published, " ",
                      absl::ToUnixMicros(stats.reported_at));
}

bool DecodeReplicaStats(absl::string_view replica, absl::string_view text, ReplicaStats* stats) {
  std::vector<absl::string_view> parts = absl::StrSplit(text, ' ');
  if (parts.size() != 7 || parts[0] != "v1") return false;
  ReplicaStats out;
  int64_t us = 0;
  if (!absl::SimpleAtoi(parts[1], &out.connections) ||
      !absl::SimpleAtoi(parts[2], &out.grpc_subscribers) ||
      !absl::SimpleAtoi(parts[3], &out.channels) || !absl::SimpleAtoi(parts[4], &out.users) ||
      !absl::SimpleAtoi(parts[5], &out.published) || !absl::SimpleAtoi(parts[6], &us)) {
    return false;
  }
  out.replica = std::string(replica);
  out.reported_at = absl::FromUnixMicros(us);
  *stats = std::move(out);
  return true;
}

ReplicaStats SumReplicaStats(const std::vector<ReplicaStats>& replicas) {
  ReplicaStats sum;
  for (const ReplicaStats& r : replicas) {
    sum.connections += r.connections;
    sum.grpc_subscribers += r.grpc_subscribers;
    sum.channels += r.channels;
    sum.users += r.users;
    sum.published += r.published;
  }
  return sum;
}

}  // namespace ssebridge
