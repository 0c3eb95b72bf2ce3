// GrpcServer: the gRPC port, with the Publisher, BatchPublisher,
// Subscriber, Tickets and Admin services, grpc.health.v1 health checking and
// server reflection. Methods on the sync API run on gRPC's thread pool; the
// ones on the async API (AsyncMethods: the publish streams, health) on one
// CompletionLoop thread of the server's. No method may use the callback
// API: one callback method puts every call on the port through its polling
// threads (see completion_loop.h). Refuses to start on a port that is already in use
// (gRPC's default SO_REUSEPORT is turned off). TLS and mTLS are optional
// (browsers' TLS ends at the ingress; backends may reach the gRPC port
// directly).
//
// Besides its port, it serves connections handed over with AddConnection(),
// plaintext: the internal port's gRPC connections, for the Admin service,
// which tells them apart with IsHandedOver(). With port < 0 it listens
// nowhere and serves only those.
#ifndef SSEBRIDGE_GRPC_GRPC_SERVER_H_
#define SSEBRIDGE_GRPC_GRPC_SERVER_H_

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "bridge/grpc/completion_loop.h"
#include "bridge/grpc/health_service.h"

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

  // `services` and `async_services` must outlive the server.
  GrpcServer(std::string address, int port, int max_threads, std::vector<grpc::Service*> services,
             std::vector<AsyncMethods*> async_services = {})
      : address_(std::move(address)),
        port_(port),
        max_threads_(max_threads),
        services_(std::move(services)),
        async_services_(std::move(async_services)) {}
  ~GrpcServer();

  void SetTls(Tls tls) { tls_ = std::move(tls); }
  // Threads for async handlers that may wait (CompletionLoop); 0, the
  // default: they run on the loop thread. Before Start().
  void SetHandlerThreads(int threads) { handler_threads_ = threads; }
  // Largest request message received (0: gRPC's 4 MiB); larger ones fail
  // with RESOURCE_EXHAUSTED before any handler runs.
  void SetMaxMessageBytes(int64_t bytes) { max_message_bytes_ = bytes; }
  // Fails when the port is taken or a TLS file cannot be read.
  absl::Status Start();
  int port() const { return bound_port_; }
  // Serves the connected socket `fd` (plaintext HTTP/2; taken over, any
  // thread). Closed at once when the server is not running.
  void AddConnection(int fd);
  // Whether the call came over a connection given to AddConnection() (gRPC
  // names such a peer "fd:N"; one that connected to the port has its
  // address), which no client can choose.
  static bool IsHandedOver(const grpc::ServerContextBase& context);
  // UNIMPLEMENTED for a handed-over call: the internal port serves Admin
  // (and health) only, so a call there cannot skip the gRPC port's TLS or
  // mTLS. OK otherwise.
  static absl::Status PublicPortOnly(const grpc::ServerContextBase& context);
  // Health goes NOT_SERVING; no new calls; in-flight ones get until
  // `deadline` to finish, then are cancelled.
  void Shutdown(absl::Time deadline);

 private:
  std::string address_;
  int port_;
  int max_threads_;
  std::vector<grpc::Service*> services_;
  std::vector<AsyncMethods*> async_services_;
  HealthService health_;
  Tls tls_;
  int64_t max_message_bytes_ = 0;
  int handler_threads_ = 0;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<CompletionLoop> loop_;  // after server_'s Shutdown
  std::mutex connections_mu_;
  bool accepting_ = false;  // guarded by connections_mu_
  int bound_port_ = -1;
};

}  // namespace ssebridge

#endif  // SSEBRIDGE_GRPC_GRPC_SERVER_H_
