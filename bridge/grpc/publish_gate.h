// PublishGate: the one publish path behind both front doors. It turns a
// PublishRequest into a validated PublishSpec, hands it to the broker and
// turns the outcome into a PublishResponse. gRPC handlers and the HTTP JSON
// handler only translate transport details around it: they authenticate the
// caller (PublisherAuth) and the gate checks, per event, that the caller may
// publish to the channel and is within its rate.
#ifndef SSEBRIDGE_GRPC_PUBLISH_GATE_H_
#define SSEBRIDGE_GRPC_PUBLISH_GATE_H_

#include <atomic>
#include <string>

#include "absl/status/statusor.h"
#include "bridge/auth/publisher_auth.h"
#include "bridge/broker/broker.h"
#include "bridge/core/publish_validation.h"
#include "ssebridge/v1/bridge.pb.h"

namespace ssebridge {

class PublishGate {
 public:
  // `broker` and `auth` must outlive the gate.
  PublishGate(Broker* broker, PublishLimits limits, const PublisherAuth* auth)
      : broker_(broker), limits_(limits), auth_(auth) {}

  const PublisherAuth& auth() const { return *auth_; }

  // INVALID_ARGUMENT, then PERMISSION_DENIED (channel not granted to `who`),
  // then RESOURCE_EXHAUSTED (rate), then whatever the broker says.
  absl::StatusOr<v1::PublishResponse> Publish(const v1::PublishRequest& request,
                                              const PublisherIdentity& who);

  uint64_t published() const { return published_.load(std::memory_order_relaxed); }
  uint64_t rejected() const { return rejected_.load(std::memory_order_relaxed); }

 private:
  Broker* broker_;
  PublishLimits limits_;
  const PublisherAuth* auth_;
  std::atomic<uint64_t> published_{0};
  std::atomic<uint64_t> rejected_{0};
};

// Copies an event into its proto form (for Subscribe streams).
void ToProto(const Event& event, v1::Event* out);

}  // namespace ssebridge

#endif  // SSEBRIDGE_GRPC_PUBLISH_GATE_H_
