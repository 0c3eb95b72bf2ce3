// SubscriberService: gRPC Subscribe, the same stream a browser gets, for
// server-side consumers. The stream's subscription lives in the hub like an
// SSE stream's; its sink wakes this RPC's thread, which forwards whole
// events. A consumer that falls behind its queue bound is ended with
// RESOURCE_EXHAUSTED and resumes from history with last_event_id.
#ifndef SSEBRIDGE_GRPC_SUBSCRIBER_SERVICE_H_
#define SSEBRIDGE_GRPC_SUBSCRIBER_SERVICE_H_

#include <atomic>

#include "bridge/auth/publisher_auth.h"
#include "bridge/auth/stream_shares.h"
#include "bridge/broker/broker.h"
#include "bridge/core/delivery_policy.h"
#include "bridge/core/hub.h"
#include "ssebridge/v1/bridge.grpc.pb.h"

namespace ssebridge {

class SubscriberService final : public v1::Subscriber::Service {
 public:
  struct Options {
    size_t max_channels = 64;
    size_t queue_bytes = 512 * 1024;
    StreamShares* streams = nullptr;  // open streams per key; null: no cap
  };
  // All pointers must outlive the service.
  SubscriberService(Options options, Broker* broker, Hub* hub,
                    const PolicyTable* policies, const PublisherAuth* auth)
      : options_(options),
        broker_(broker),
        hub_(hub),
        policies_(policies),
        auth_(auth) {}

  grpc::Status Subscribe(grpc::ServerContext* context,
                         const v1::SubscribeRequest* request,
                         grpc::ServerWriter<v1::Event>* writer) override;

  // Ends every open Subscribe stream (on shutdown).
  void EndAll() { ending_.store(true); }
  size_t active() const { return active_.load(); }

 private:
  Options options_;
  Broker* broker_;
  Hub* hub_;
  const PolicyTable* policies_;
  const PublisherAuth* auth_;
  std::atomic<bool> ending_{false};
  std::atomic<size_t> active_{0};
};

}  // namespace ssebridge

#endif  // SSEBRIDGE_GRPC_SUBSCRIBER_SERVICE_H_
