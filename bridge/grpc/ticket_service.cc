#include "bridge/grpc/ticket_service.h"

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "bridge/core/names.h"
#include "bridge/grpc/publisher_service.h"

namespace ssebridge {
namespace {

grpc::Status Invalid(const std::string& message) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, message);
}

}  // namespace

grpc::Status TicketService::IssueTicket(grpc::ServerContext* context,
                                        const v1::IssueTicketRequest* request,
                                        v1::IssueTicketResponse* response) {
  absl::StatusOr<PublisherIdentity> who = AuthenticateCall(*auth_, *context);
  if (!who.ok()) return ToGrpcStatus(who.status());
  absl::Status s = ValidateUserId(request->user_id(), "user_id");
  if (!s.ok()) return ToGrpcStatus(s);
  if (request->ttl_seconds() > 60) {
    return Invalid(absl::StrCat("ttl_seconds: ", request->ttl_seconds(), " is more than 60"));
  }
  std::vector<std::string> channels(request->channels().begin(), request->channels().end());
  absl::StatusOr<TicketGrant> grant =
      BuildTicketGrant(*who, request->user_id(), channels, tickets_->options());
  if (!grant.ok()) return ToGrpcStatus(grant.status());
  const absl::Duration ttl =
      absl::Seconds(request->ttl_seconds() == 0 ? 30 : request->ttl_seconds());
  const absl::Time now = absl::Now();
  absl::StatusOr<std::string> ticket = tickets_->Issue(std::move(*grant), ttl, now);
  if (!ticket.ok()) return ToGrpcStatus(ticket.status());
  response->set_ticket(std::move(*ticket));
  const int64_t nanos = absl::ToUnixNanos(now + ttl);
  response->mutable_expires_at()->set_seconds(nanos / 1000000000);
  response->mutable_expires_at()->set_nanos(static_cast<int32_t>(nanos % 1000000000));
  return grpc::Status::OK;
}

}  // namespace ssebridge
