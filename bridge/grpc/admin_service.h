// AdminService: gRPC Admin — end a user's streams, read the replica's
// numbers (channels clients can name; never the bridge's internal ones).
// Once any key is configured, callers present a key from --admin_keys_file
// (publisher keys do not open it); in dev mode it is open. It answers only
// on the internal port (--admin_port, plaintext HTTP/2 next to /metrics):
// it is registered on the one gRPC server, but a call that reached the
// public gRPC port gets UNIMPLEMENTED before any key is looked at, so a
// public Service cannot expose it.
//
// Fleet (--broker=redis, bridge/core/fleet.h): DisconnectUser ends the
// user's streams here first, then has the fleet tell every other replica;
// if the fleet cannot be reached the call still succeeds for this replica
// and says so in fleet_error (it never waits longer than the fleet's
// timeouts). GetStats{fleet: true} adds every live replica's last report
// and their sums. The service only knows the Fleet interface, not Redis.
#ifndef SSEBRIDGE_GRPC_ADMIN_SERVICE_H_
#define SSEBRIDGE_GRPC_ADMIN_SERVICE_H_

#include <cstdint>
#include <functional>
#include <string>

#include "bridge/auth/publisher_keys.h"
#include "bridge/core/fleet.h"
#include "bridge/core/hub.h"
#include "ssebridge/v1/bridge.grpc.pb.h"

namespace ssebridge {

class AdminService final : public v1::Admin::Service {
 public:
  // What the service reads and does; everything must outlive it.
  struct Wiring {
    const PublisherKeys* admin_keys = nullptr;
    bool open = false;  // dev mode: no key of any kind configured
    const Hub* hub = nullptr;
    // Ends the user's SSE streams; returns how many.
    std::function<uint32_t(const std::string& user)> disconnect_user;
    std::function<uint64_t()> connections;
    std::function<uint64_t()> grpc_subscribers;
    std::function<uint64_t()> users;
    std::function<uint64_t()> published;
    // Null: this replica alone (--broker=memory).
    Fleet* fleet = nullptr;
  };
  explicit AdminService(Wiring wiring) : wiring_(std::move(wiring)) {}

  grpc::Status DisconnectUser(grpc::ServerContext* context,
                              const v1::DisconnectUserRequest* request,
                              v1::DisconnectUserResponse* response) override;
  grpc::Status GetStats(grpc::ServerContext* context, const v1::GetStatsRequest* request,
                        v1::Stats* response) override;

  // This replica's numbers now (what it reports to the fleet, too).
  ReplicaStats LocalStats() const;

 private:
  grpc::Status Check(const grpc::ServerContext& context) const;
  void AddFleetStats(v1::FleetStats* fleet) const;

  Wiring wiring_;
};

}  // namespace ssebridge

#endif  // SSEBRIDGE_GRPC_ADMIN_SERVICE_H_
