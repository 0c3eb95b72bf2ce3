// AdminService: gRPC Admin — end a user's streams, read the replica's
// numbers (channels clients can name; never the bridge's internal ones).
// Once any key is configured, callers present a key from --admin_keys_file
// (publisher keys do not open it); in dev mode it is open. It is served on
// the internal port (--admin_port, plaintext HTTP/2 next to /metrics), never
// on the public gRPC port, so a public Service cannot expose it.
#ifndef SSEBRIDGE_GRPC_ADMIN_SERVICE_H_
#define SSEBRIDGE_GRPC_ADMIN_SERVICE_H_

#include <cstdint>
#include <functional>
#include <string>

#include "bridge/auth/publisher_keys.h"
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
  };
  explicit AdminService(Wiring wiring) : wiring_(std::move(wiring)) {}

  grpc::Status DisconnectUser(grpc::ServerContext* context,
                              const v1::DisconnectUserRequest* request,
                              v1::DisconnectUserResponse* response) override;
  grpc::Status GetStats(grpc::ServerContext* context,
                        const v1::GetStatsRequest* request,
                        v1::Stats* response) override;

 private:
  grpc::Status Check(const grpc::ServerContext& context) const;

  Wiring wiring_;
};

}  // namespace ssebridge

#endif  // SSEBRIDGE_GRPC_ADMIN_SERVICE_H_
