#include "bridge/grpc/grpc_server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/server_posix.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace ssebridge {
namespace {

absl::StatusOr<std::string> ReadPem(const std::string& path, absl::string_view flag) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  if (!in.good() && !in.eof()) {
    return absl::InvalidArgumentError(absl::StrCat("--", flag, ": cannot read ", path));
  }
  std::string pem = buffer.str();
  if (pem.find("-----BEGIN") == std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, ": ", path, " is missing or not PEM"));
  }
  return pem;
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> Credentials(const GrpcServer::Tls& tls) {
  if (tls.cert_file.empty()) return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions options;
  absl::StatusOr<std::string> cert = ReadPem(tls.cert_file, "grpc_tls_cert_file");
  if (!cert.ok()) return cert.status();
  absl::StatusOr<std::string> key = ReadPem(tls.key_file, "grpc_tls_key_file");
  if (!key.ok()) return key.status();
  options.pem_key_cert_pairs.push_back({*key, *cert});
  if (!tls.client_ca_file.empty()) {
    absl::StatusOr<std::string> ca = ReadPem(tls.client_ca_file, "grpc_tls_client_ca_file");
    if (!ca.ok()) return ca.status();
    options.pem_root_certs = *ca;
    options.client_certificate_request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  return grpc::SslServerCredentials(options);
}

}  // namespace

absl::Status GrpcServer::Start() {
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials = Credentials(tls_);
  if (!credentials.ok()) return credentials.status();
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  grpc::ResourceQuota quota("ssebridge");
  quota.SetMaxThreads(max_threads_);
  builder.SetResourceQuota(quota);
  if (max_message_bytes_ > 0) {
    builder.SetMaxReceiveMessageSize(static_cast<int>(max_message_bytes_));
  }
  // Publishers hold long-lived streams; keep idle ones alive through NATs.
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 60 * 1000);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 10 * 1000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  std::string host = address_;
  if (absl::StrContains(host, ':') && !absl::StartsWith(host, "[")) {
    host = absl::StrCat("[", host, "]");  // IPv6 literal
  }
  if (port_ >= 0) {
    builder.AddListeningPort(absl::StrCat(host, ":", port_), *credentials, &bound_port_);
  }
  for (grpc::Service* s : services_) builder.RegisterService(s);
  std::vector<AsyncMethods*> async = async_services_;
  async.push_back(&health_);
  for (AsyncMethods* s : async) builder.RegisterService(s->service());
  loop_ = std::make_unique<CompletionLoop>(builder.AddCompletionQueue(), handler_threads_);
  server_ = builder.BuildAndStart();
  if (server_) {
    for (AsyncMethods* s : async) s->Arm(loop_.get());
    loop_->Start();
  }
  if (!server_ || (port_ >= 0 && bound_port_ <= 0)) {
    if (server_) server_->Shutdown();
    loop_.reset();  // before the server: its failed requests refer to it
    server_.reset();
    return absl::UnavailableError(
        absl::StrCat("cannot listen for gRPC on ", address_, ":", port_,
                     " (address in use, or not an address of this host)"));
  }
  std::lock_guard<std::mutex> lock(connections_mu_);
  accepting_ = true;
  return absl::OkStatus();
}

void GrpcServer::AddConnection(int fd) {
  std::lock_guard<std::mutex> lock(connections_mu_);
  if (!accepting_) {
    ::close(fd);
    return;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  grpc::AddInsecureChannelFromFd(server_.get(), fd);
}

bool GrpcServer::IsHandedOver(const grpc::ServerContextBase& context) {
  return absl::StartsWith(context.peer(), "fd:");
}

absl::Status GrpcServer::PublicPortOnly(const grpc::ServerContextBase& context) {
  if (!IsHandedOver(context)) return absl::OkStatus();
  return absl::UnimplementedError(
      "the internal port (--admin_port) serves only ssebridge.v1.Admin, "
      "grpc.health.v1 and reflection; publish, subscribe and mint tickets on "
      "the gRPC port (--grpc_port)");
}

void GrpcServer::Shutdown(absl::Time deadline) {
  {
    std::lock_guard<std::mutex> lock(connections_mu_);
    accepting_ = false;
  }
  if (!server_) return;
  health_.Shutdown();
  server_->Shutdown(absl::ToChronoTime(deadline));
  server_->Wait();
  // Only now: the loop must keep taking completions while the server shuts
  // its calls down; what is left comes back (not ok) as the queue shuts.
  if (loop_) loop_->Shutdown();
  server_.reset();
  loop_.reset();
}

GrpcServer::~GrpcServer() { Shutdown(absl::Now()); }

}  // namespace ssebridge
