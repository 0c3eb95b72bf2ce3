// TicketService: gRPC Tickets.IssueTicket. A backend that has already
// authenticated its user mints a one-time ticket the page connects with.
// The caller needs a publisher credential once auth is on, and can grant
// only channels its own credential covers: a key for "tasks.*" cannot
// hand out "billing", and the user it mints is confined to "tasks.*" (see
// bridge/auth/ticket_request.h for who may mint what).
#ifndef SSEBRIDGE_GRPC_TICKET_SERVICE_H_
#define SSEBRIDGE_GRPC_TICKET_SERVICE_H_

#include "bridge/auth/publisher_auth.h"
#include "bridge/auth/ticket_request.h"
#include "bridge/auth/ticket_store.h"
#include "ssebridge/v1/bridge.grpc.pb.h"

namespace ssebridge {

class TicketService final : public v1::Tickets::Service {
 public:
  // Both must outlive the service.
  TicketService(const PublisherAuth* auth, TicketStore* tickets) : auth_(auth), tickets_(tickets) {}

  grpc::Status IssueTicket(grpc::ServerContext* context, const v1::IssueTicketRequest* request,
                           v1::IssueTicketResponse* response) override;

 private:
  const PublisherAuth* auth_;
  TicketStore* tickets_;
};

}  // namespace ssebridge

#endif  // SSEBRIDGE_GRPC_TICKET_SERVICE_H_
