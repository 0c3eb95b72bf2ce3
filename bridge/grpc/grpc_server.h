// GrpcServer: the gRPC port, with the Publisher, BatchPublisher,
// Subscriber, Tickets and Admin services, grpc.health.v1 health checking and
// server reflection. Refuses to start on a port that is already in use
// (gRPC's default SO_REUSEPORT is turned off). TLS and mTLS are optional
// (browsers' TLS ends at the ingress; backends may reach the gRPC port
// directly).
//
// With port < 0 it listens nowhere: connections come through
// AddConnection(), plaintext (the internal port hands over the gRPC
// connections it sees, for the Admin service).
#ifndef SSEBRIDGE_GRPC_GRPC_SERVER_H_
#define SSEBRIDGE_GRPC_GRPC_SERVER_H_

#include <cstdint>
#include <memory>
#include <mutex>
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
  // Largest request message received (0: gRPC's 4 MiB); larger ones fail
  // with RESOURCE_EXHAUSTED before any handler runs.
  void SetMaxMessageBytes(int64_t bytes) { max_message_bytes_ = bytes; }
  // Fails when the port is taken or a TLS file cannot be read.
  absl::Status Start();
  int port() const { return bound_port_; }
  // Serves the connected socket `fd` (plaintext HTTP/2; taken over, any
  // thread). Closed at once when the server is not running.
  void AddConnection(int fd);
  // Health goes NOT_SERVING; no new calls; in-flight ones get until
  // `deadline` to finish, then are cancelled.
  void Shutdown(absl::Time deadline);

 private:
  std::string address_;
  int port_;
  int max_threads_;
  std::vector<grpc::Service*> services_;
  Tls tls_;
  int64_t max_message_bytes_ = 0;
  std::unique_ptr<grpc::Server> server_;
  std::mutex connections_mu_;
  bool accepting_ = false;  // guarded by connections_mu_
  int bound_port_ = -1;
};

}  // namespace ssebridge

#endif  // SSEBRIDGE_GRPC_GRPC_SERVER_H_
