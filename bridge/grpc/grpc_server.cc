#include "bridge/grpc/grpc_server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace ssebridge {

absl::Status GrpcServer::Start() {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  grpc::ResourceQuota quota("ssebridge");
  quota.SetMaxThreads(max_threads_);
  builder.SetResourceQuota(quota);
  // Publishers hold long-lived streams; keep idle ones alive through NATs.
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 60 * 1000);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
                             10 * 1000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  std::string host = address_;
  if (absl::StrContains(host, ':') && !absl::StartsWith(host, "[")) {
    host = absl::StrCat("[", host, "]");  // IPv6 literal
  }
  builder.AddListeningPort(absl::StrCat(host, ":", port_),
                           grpc::InsecureServerCredentials(), &bound_port_);
  for (grpc::Service* s : services_) builder.RegisterService(s);
  server_ = builder.BuildAndStart();
  if (!server_ || bound_port_ <= 0) {
    server_.reset();
    return absl::UnavailableError(absl::StrCat(
        "cannot listen for gRPC on ", address_, ":", port_,
        " (address in use, or not an address of this host)"));
  }
  return absl::OkStatus();
}

void GrpcServer::Shutdown(absl::Time deadline) {
  if (!server_) return;
  if (auto* health = server_->GetHealthCheckService()) health->Shutdown();
  server_->Shutdown(absl::ToChronoTime(deadline));
  server_->Wait();
  server_.reset();
}

}  // namespace ssebridge
