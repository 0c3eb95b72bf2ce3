#include "bridge/grpc/admin_service.h"

#include <algorithm>

#include "bridge/auth/subscriber_auth.h"
#include "bridge/core/names.h"
#include "bridge/grpc/publisher_service.h"

namespace ssebridge {

grpc::Status AdminService::Check(const grpc::ServerContext& context) const {
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
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                        "authorization: unknown admin key");
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
  response->set_disconnected(wiring_.disconnect_user(request->user_id()));
  return grpc::Status::OK;
}

grpc::Status AdminService::GetStats(grpc::ServerContext* context,
                                    const v1::GetStatsRequest* request,
                                    v1::Stats* response) {
  grpc::Status allowed = Check(*context);
  if (!allowed.ok()) return allowed;
  const size_t limit = request->max_channels() == 0 ? 100 : request->max_channels();
  std::vector<std::pair<std::string, uint32_t>> channels = wiring_.hub->ChannelCounts();
  // Only channels a client can name: the bridge's own ('$ssebridge.status',
  // the status page's feed) are an implementation detail.
  channels.erase(std::remove_if(channels.begin(), channels.end(),
                                [](const auto& c) {
                                  return !ValidateChannelName(c.first, "channel").ok();
                                }),
                 channels.end());
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
  return grpc::Status::OK;
}

}  // namespace ssebridge
