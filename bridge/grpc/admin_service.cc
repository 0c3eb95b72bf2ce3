#include "bridge/grpc/admin_service.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "bridge/auth/subscriber_auth.h"
#include "bridge/core/names.h"
#include "bridge/grpc/grpc_server.h"
#include "bridge/grpc/publisher_service.h"

namespace ssebridge {

grpc::Status AdminService::Check(const grpc::ServerContext& context) const {
  // Registered on the one gRPC server, which also serves the public port:
  // there Admin is as good as absent.
  if (!GrpcServer::IsHandedOver(context)) {
    return grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                        "ssebridge.v1.Admin answers only on the internal port "
                        "(--admin_port)");
  }
  if (wiring_.open) return grpc::Status::OK;
  if (wiring_.admin_keys->empty()) {
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                        "admin: no --admin_keys_file is configured, so the "
                        "Admin service is closed");
  }
  const auto& metadata = context.client_metadata();
  auto it = metadata.find("authorization");
  std::string key;
  if (it != metadata.end()) {
    key = BearerToken(absl::string_view(it->second.data(), it->second.size()));
  }
  if (key.empty()) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                        "authorization: missing; send 'authorization: Bearer "
                        "<admin key>'");
  }
  absl::StatusOr<PublisherIdentity> who = wiring_.admin_keys->Authenticate(key);
  if (!who.ok()) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "authorization: unknown admin key");
  }
  return grpc::Status::OK;
}

grpc::Status AdminService::DisconnectUser(grpc::ServerContext* context,
                                          const v1::DisconnectUserRequest* request,
                                          v1::DisconnectUserResponse* response) {
  grpc::Status allowed = Check(*context);
  if (!allowed.ok()) return allowed;
  absl::Status s = ValidateUserId(request->user_id(), "user_id");
  if (!s.ok()) return ToGrpcStatus(s);
  const uint32_t here = wiring_.disconnect_user(request->user_id());
  response->set_disconnected_here(here);
  response->set_disconnected(here);
  if (wiring_.fleet == nullptr) return grpc::Status::OK;
  absl::StatusOr<FleetDisconnect> elsewhere =
      wiring_.fleet->DisconnectElsewhere(request->user_id());
  if (!elsewhere.ok()) {
    response->set_fleet_error(
        absl::StrCat("the other replicas were not told (their streams of this user stay open): ",
                     elsewhere.status().message()));
    return grpc::Status::OK;
  }
  response->set_disconnected(here + elsewhere->disconnected);
  response->set_replicas_told(elsewhere->told);
  response->set_replicas_answered(elsewhere->answered);
  if (elsewhere->answered < elsewhere->told) {
    response->set_fleet_error(
        absl::StrCat(elsewhere->told - elsewhere->answered, " of ", elsewhere->told,
                     " other replicas did not report their count in time (--fleet_answer_timeout); "
                     "they were told and end the streams all the same"));
  }
  return grpc::Status::OK;
}

namespace {

// Only channels a client can name: the bridge's own ('$ssebridge.status',
// the status page's feed) are an implementation detail.
std::vector<std::pair<std::string, uint32_t>> PublicChannels(const Hub& hub) {
  std::vector<std::pair<std::string, uint32_t>> channels = hub.ChannelCounts();
  channels.erase(
      std::remove_if(channels.begin(), channels.end(),
                     [](const auto& c) { return !ValidateChannelName(c.first, "channel").ok(); }),
      channels.end());
  return channels;
}

void SetReplicaStats(const ReplicaStats& from, v1::ReplicaStats* to) {
  to->set_replica(from.replica);
  to->set_connections(from.connections);
  to->set_grpc_subscribers(from.grpc_subscribers);
  to->set_channels(from.channels);
  to->set_users(from.users);
  to->set_published(from.published);
  if (from.reported_at != absl::InfinitePast()) {
    const int64_t us = absl::ToUnixMicros(from.reported_at);
    to->mutable_reported_at()->set_seconds(us / 1000000);
    to->mutable_reported_at()->set_nanos(static_cast<int32_t>(us % 1000000) * 1000);
  }
}

}  // namespace

ReplicaStats AdminService::LocalStats() const {
  ReplicaStats stats;
  if (wiring_.fleet != nullptr) stats.replica = wiring_.fleet->replica();
  stats.connections = wiring_.connections();
  stats.grpc_subscribers = wiring_.grpc_subscribers();
  stats.channels = PublicChannels(*wiring_.hub).size();
  stats.users = wiring_.users();
  stats.published = wiring_.published();
  stats.reported_at = absl::Now();
  return stats;
}

grpc::Status AdminService::GetStats(grpc::ServerContext* context,
                                    const v1::GetStatsRequest* request, v1::Stats* response) {
  grpc::Status allowed = Check(*context);
  if (!allowed.ok()) return allowed;
  const size_t limit = request->max_channels() == 0 ? 100 : request->max_channels();
  std::vector<std::pair<std::string, uint32_t>> channels = PublicChannels(*wiring_.hub);
  response->set_connections(wiring_.connections());
  response->set_grpc_subscribers(wiring_.grpc_subscribers());
  response->set_channels(channels.size());
  response->set_users(wiring_.users());
  response->set_published(wiring_.published());
  // Busiest first, then by name, so the answer is stable.
  std::sort(channels.begin(), channels.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  if (channels.size() > limit) channels.resize(limit);
  for (auto& [name, count] : channels) {
    v1::ChannelStats* c = response->add_channel_stats();
    c->set_channel(std::move(name));
    c->set_subscribers(count);
  }
  if (wiring_.fleet != nullptr) response->set_replica(wiring_.fleet->replica());
  if (request->fleet()) AddFleetStats(response->mutable_fleet());
  return grpc::Status::OK;
}

void AdminService::AddFleetStats(v1::FleetStats* fleet) const {
  // This replica's numbers are current; the others' as last reported.
  std::vector<ReplicaStats> replicas = {LocalStats()};
  // --broker=memory: a replica shares nothing, so it is its own fleet.
  if (wiring_.fleet != nullptr) {
    absl::StatusOr<std::vector<ReplicaStats>> others = wiring_.fleet->Stats();
    if (!others.ok()) {
      fleet->set_error(absl::StrCat("the other replicas' numbers could not be read: ",
                                    others.status().message()));
    } else {
      for (ReplicaStats& r : *others) {
        if (r.replica != replicas[0].replica) replicas.push_back(std::move(r));
      }
    }
  }
  for (const ReplicaStats& r : replicas) SetReplicaStats(r, fleet->add_replicas());
  SetReplicaStats(SumReplicaStats(replicas), fleet->mutable_total());
}

}  // namespace ssebridge
