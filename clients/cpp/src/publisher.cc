#include "ssebridge/publisher.h"

#include <grpcpp/grpcpp.h>

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "wire.h"

namespace ssebridge {
namespace {

using internal::FromGrpc;
using internal::ToAck;
using internal::ToBatchRequest;
using internal::ToRequest;
using internal::ToResults;
using internal::ToStats;
using internal::ToTime;

bool SingleLine(const std::string& s) {
  return !absl::StrContains(s, '\n') && !absl::StrContains(s, '\r');
}

}  // namespace

absl::StatusOr<std::unique_ptr<Publisher>> Publisher::Create(PublisherOptions options) {
  if (options.target.empty()) {
    return absl::InvalidArgumentError("target: must be host:port");
  }
  if (!SingleLine(options.token)) {
    return absl::InvalidArgumentError("token: must be a single line");
  }
  if (options.timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("timeout: must be positive");
  }
  if (options.max_in_flight < 1) {
    return absl::InvalidArgumentError("max_in_flight: must be at least 1");
  }
  if (options.tls_client_key_pem.empty() != options.tls_client_cert_pem.empty()) {
    return absl::InvalidArgumentError(
        "tls_client_key_pem and tls_client_cert_pem: give both for mTLS, or neither");
  }
  const bool tls_material = !options.tls_root_certs_pem.empty() ||
                            !options.tls_client_key_pem.empty() || !options.tls_server_name.empty();
  if (tls_material && !options.tls) {
    return absl::InvalidArgumentError("TLS certificates or server name given without tls");
  }
  std::shared_ptr<grpc::ChannelCredentials> creds;
  grpc::ChannelArguments args;
  if (options.tls) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = options.tls_root_certs_pem;
    ssl.pem_private_key = options.tls_client_key_pem;
    ssl.pem_cert_chain = options.tls_client_cert_pem;
    creds = grpc::SslCredentials(ssl);
    if (!options.tls_server_name.empty()) {
      args.SetSslTargetNameOverride(options.tls_server_name);
    }
  } else {
    creds = grpc::InsecureChannelCredentials();
  }
  auto channel = grpc::CreateCustomChannel(options.target, creds, args);
  return std::unique_ptr<Publisher>(new Publisher(std::move(options), std::move(channel)));
}

Publisher::Publisher(PublisherOptions options, std::shared_ptr<grpc::Channel> channel)
    : options_(std::move(options)),
      channel_(std::move(channel)),
      stub_(v1::Publisher::NewStub(channel_)),
      batch_stub_(v1::BatchPublisher::NewStub(channel_)),
      tickets_stub_(v1::Tickets::NewStub(channel_)),
      admin_stub_(v1::Admin::NewStub(channel_)) {}

Publisher::~Publisher() = default;

void Publisher::Authorize(grpc::ClientContext* context) const {
  if (!options_.token.empty()) {
    context->AddMetadata("authorization", absl::StrCat("Bearer ", options_.token));
  }
}

absl::Status Publisher::Connect(absl::Duration timeout) {
  const auto deadline = absl::ToChronoTime(absl::Now() + timeout);
  // WaitForConnected starts a connection and keeps waiting through
  // TRANSIENT_FAILURE, so one refused or reset attempt is retried.
  if (channel_->WaitForConnected(deadline)) return absl::OkStatus();
  return absl::UnavailableError(absl::StrCat("no connection to the bridge at ", options_.target,
                                             " within ", absl::FormatDuration(timeout)));
}

absl::StatusOr<Ack> Publisher::Publish(const Event& event) {
  return Publish(event, options_.timeout);
}

absl::StatusOr<Ack> Publisher::Publish(const Event& event, absl::Duration timeout) {
  grpc::ClientContext context;
  Authorize(&context);
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  v1::PublishResponse response;
  grpc::Status status = stub_->Publish(&context, ToRequest(event), &response);
  if (!status.ok()) return FromGrpc(status);
  return ToAck(response);
}

void Publisher::Prepare(grpc::ClientContext* context) const {
  Authorize(context);
  context->set_deadline(absl::ToChronoTime(absl::Now() + options_.timeout));
}

absl::StatusOr<std::vector<absl::StatusOr<Ack>>> Publisher::PublishBatch(
    const std::vector<Event>& events) {
  grpc::ClientContext context;
  Prepare(&context);
  v1::PublishBatchResponse response;
  grpc::Status status = batch_stub_->PublishBatch(&context, ToBatchRequest(events), &response);
  if (!status.ok()) return FromGrpc(status);
  if (static_cast<size_t>(response.responses_size()) != events.size()) {
    return absl::InternalError(absl::StrCat("PublishBatch: ", response.responses_size(),
                                            " answers to ", events.size(), " requests"));
  }
  return ToResults(response, events.size());
}

absl::StatusOr<Ticket> Publisher::IssueTicket(const std::string& user_id,
                                              const std::vector<std::string>& channels,
                                              absl::Duration ttl) {
  v1::IssueTicketRequest request;
  request.set_user_id(user_id);
  for (const std::string& c : channels) request.add_channels(c);
  if (ttl < absl::ZeroDuration()) return absl::InvalidArgumentError("ttl: must not be negative");
  request.set_ttl_seconds(static_cast<uint32_t>(absl::ToInt64Seconds(ttl)));
  grpc::ClientContext context;
  Prepare(&context);
  v1::IssueTicketResponse response;
  grpc::Status status = tickets_stub_->IssueTicket(&context, request, &response);
  if (!status.ok()) return FromGrpc(status);
  Ticket t;
  t.ticket = response.ticket();
  if (response.has_expires_at()) t.expires_at = ToTime(response.expires_at());
  return t;
}

absl::StatusOr<uint32_t> Publisher::DisconnectUser(const std::string& user_id) {
  v1::DisconnectUserRequest request;
  request.set_user_id(user_id);
  grpc::ClientContext context;
  Prepare(&context);
  v1::DisconnectUserResponse response;
  grpc::Status status = admin_stub_->DisconnectUser(&context, request, &response);
  if (!status.ok()) return FromGrpc(status);
  return response.disconnected();
}

absl::StatusOr<Stats> Publisher::GetStats(uint32_t max_channels) {
  StatsOptions options;
  options.max_channels = max_channels;
  return GetStats(options);
}

absl::StatusOr<Stats> Publisher::GetStats(const StatsOptions& options) {
  v1::GetStatsRequest request;
  request.set_max_channels(options.max_channels);
  request.set_fleet(options.fleet);
  grpc::ClientContext context;
  Prepare(&context);
  v1::Stats response;
  grpc::Status status = admin_stub_->GetStats(&context, request, &response);
  if (!status.ok()) return FromGrpc(status);
  return ToStats(response);
}

std::unique_ptr<PublishStream> Publisher::OpenStream() {
  return std::unique_ptr<PublishStream>(new PublishStream(this));
}

std::unique_ptr<PublishBatchStream> Publisher::OpenBatchStream() {
  return std::unique_ptr<PublishBatchStream>(new PublishBatchStream(this));
}

}  // namespace ssebridge
