#include "wire.h"

namespace ssebridge {
namespace internal {

absl::Status FromGrpc(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
}

v1::PublishRequest ToRequest(const Event& e) {
  v1::PublishRequest r;
  r.set_channel(e.channel);
  r.set_event(e.event);
  r.set_data(e.data);
  for (const auto& u : e.user_ids) r.add_user_ids(u);
  r.set_retain(e.retain);
  r.set_idempotency_key(e.idempotency_key);
  return r;
}

absl::Time ToTime(const google::protobuf::Timestamp& t) {
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

Ack ToAck(const v1::PublishResponse& r) {
  Ack a;
  a.id = r.id();
  a.subscribers = r.subscribers();
  a.replayed = r.replayed();
  if (r.has_published_at()) a.published_at = ToTime(r.published_at());
  return a;
}

namespace {

ReplicaStats ToReplicaStats(const v1::ReplicaStats& r) {
  ReplicaStats out;
  out.replica = r.replica();
  out.connections = r.connections();
  out.grpc_subscribers = r.grpc_subscribers();
  out.channels = r.channels();
  out.users = r.users();
  out.published = r.published();
  if (r.has_reported_at()) out.reported_at = ToTime(r.reported_at());
  return out;
}

}  // namespace

Stats ToStats(const v1::Stats& r) {
  Stats s;
  s.connections = r.connections();
  s.grpc_subscribers = r.grpc_subscribers();
  s.channels = r.channels();
  s.users = r.users();
  s.published = r.published();
  for (const v1::ChannelStats& c : r.channel_stats()) {
    s.channel_stats.push_back({c.channel(), c.subscribers()});
  }
  s.replica = r.replica();
  // Presence, not emptiness: a fleet that was asked for always has at least
  // the answering replica, and one that was not is absent on the wire.
  if (r.has_fleet()) {
    FleetStats& f = s.fleet.emplace();
    for (const v1::ReplicaStats& rep : r.fleet().replicas()) {
      f.replicas.push_back(ToReplicaStats(rep));
    }
    f.total = ToReplicaStats(r.fleet().total());
    f.error = r.fleet().error();
  }
  return s;
}

std::vector<absl::StatusOr<Ack>> ToResults(const v1::PublishBatchResponse& response,
                                           size_t events) {
  std::vector<absl::StatusOr<Ack>> results;
  results.reserve(events);
  for (const v1::PublishResponse& r : response.responses()) {
    if (results.size() == events) break;
    if (r.has_error() && r.error().code() != 0) {
      results.push_back(
          absl::Status(static_cast<absl::StatusCode>(r.error().code()), r.error().message()));
    } else {
      results.push_back(ToAck(r));
    }
  }
  while (results.size() < events) {
    results.push_back(absl::InternalError("the bridge sent no answer for this event"));
  }
  return results;
}

v1::PublishBatchRequest ToBatchRequest(const std::vector<Event>& events) {
  v1::PublishBatchRequest request;
  for (const Event& e : events) *request.add_requests() = ToRequest(e);
  return request;
}

}  // namespace internal
}  // namespace ssebridge
