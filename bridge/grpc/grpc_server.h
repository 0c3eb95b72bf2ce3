// GrpcServer: the gRPC port, with the Publisher, BatchPublisher and
// Subscriber services, grpc.health.v1 health checking and server
// reflection. Refuses to start on a port that is already in use (gRPC's
// default SO_REUSEPORT is turned off).
#ifndef SSEBRIDGE_GRPC_GRPC_SERVER_H_
#define SSEBRIDGE_GRPC_GRPC_SERVER_H_

#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace ssebridge {

class GrpcServer {
 public:
  // `services` must outlive the server.
  GrpcServer(std::string address, int port, int max_threads,
             std::vector<grpc::Service*> services)
      : address_(std::move(address)),
        port_(port),
        max_threads_(max_threads),
        services_(std::move(services)) {}

  absl::Status Start();
  int port() const { return bound_port_; }
  // Health goes NOT_SERVING; no new calls; in-flight ones get until
  // `deadline` to finish, then are cancelled.
  void Shutdown(absl::Time deadline);

 private:
  std::string address_;
  int port_;
  int max_threads_;
  std::vector<grpc::Service*> services_;
  std::unique_ptr<grpc::Server> server_;
  int bound_port_ = -1;
};

}  // namespace ssebridge

#endif  // SSEBRIDGE_GRPC_GRPC_SERVER_H_
