// The drain on SIGTERM: what it stops, in which order, within
// --shutdown_deadline. Wiring only (like main.cc); main.cc stops the rest
// (status feed, writer, listeners) after it returns.
#ifndef SSEBRIDGE_DRAIN_WIRING_H_
#define SSEBRIDGE_DRAIN_WIRING_H_

#include <cstddef>

#include "bridge/admission/stream_admission.h"
#include "bridge/broker/broker.h"
#include "bridge/core/fleet.h"
#include "bridge/grpc/grpc_server.h"
#include "bridge/grpc/publisher_service.h"
#include "bridge/grpc/subscriber_service.h"
#include "bridge/http/http_server.h"
#include "bridge/sse/stream_writer.h"

namespace ssebridge {

// Borrowed, all non-null but `fleet`.
struct Serving {
  StreamAdmission* admission;
  HttpServer* http;
  HttpServer* internal_http;
  StreamWriter* writer;
  SubscriberService* subscriber;
  PublisherService* publisher;
  Broker* broker;
  GrpcServer* grpc;  // the Admin service's internal-port calls too
  Fleet* fleet;      // null without one
};

// Refuses new streams, tells open ones when to come back, lets publishes
// finish, then leaves the fleet and stops the broker. Returns how many
// streams were still open at the deadline (cut).
size_t Drain(int signal, const Serving& p);

}  // namespace ssebridge

#endif  // SSEBRIDGE_DRAIN_WIRING_H_
