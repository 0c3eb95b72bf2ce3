// GrpcServer: the gRPC port, with the Publisher, BatchPublisher,
// Subscriber, Tickets and Admin services, grpc.health.v1 health checking and
// server reflection. Refuses to start on a port that is already in use
// (gRPC's default SO_REUSEPORT is turned off). TLS and mTLS are optional
// (browsers' TLS ends at the ingress; backends may reach the gRPC port
// directly).
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
  // PEM files; all empty: plaintext. With client_ca, clients must present a
  // certificate it signed (mTLS).
  struct Tls {
    std::string cert_file;
    std::string key_file;
    std::string client_ca_file;
  };

  // `services` must outlive the server.
  GrpcServer(std::string address, int port, int max_threads,
             std::vector<grpc::Service*> services)
      : address_(std::move(address)),
        port_(port),
        max_threads_(max_threads),
        services_(std::move(services)) {}

  void SetTls(Tls tls) { tls_ = std::move(tls); }
  // Fails when the port is taken or a TLS file cannot be read.
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
  Tls tls_;
  std::unique_ptr<grpc::Server> server_;
  int bound_port_ = -1;
};

}  // namespace ssebridge

#endif  // SSEBRIDGE_GRPC_GRPC_SERVER_H_
