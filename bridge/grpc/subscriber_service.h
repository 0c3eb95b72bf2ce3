// SubscriberService: gRPC Subscribe, the same stream a browser gets, for
// server-side consumers. StreamAdmission decides whether it opens (as a
// backend: publisher credential, channels it may publish to); this door
// returns its refusal as the gRPC status. The stream's subscription lives in the hub like an
// SSE stream's; its sink wakes this RPC's thread, which forwards whole
// events. A consumer that falls behind its queue bound is ended with
// RESOURCE_EXHAUSTED and resumes from history with last_event_id.
#ifndef SSEBRIDGE_GRPC_SUBSCRIBER_SERVICE_H_
#define SSEBRIDGE_GRPC_SUBSCRIBER_SERVICE_H_

#include <atomic>

#include "absl/time/time.h"
#include "bridge/admission/stream_admission.h"
#include "bridge/auth/stream_shares.h"
#include "bridge/broker/broker.h"
#include "bridge/core/active_count.h"
#include "bridge/core/delivery_policy.h"
#include "bridge/core/hub.h"
#include "ssebridge/v1/bridge.grpc.pb.h"

namespace ssebridge {

class SubscriberService final : public v1::Subscriber::Service {
 public:
  // All pointers must outlive the service.
  // `streams` caps open Subscribe calls per key and overall (each holds a
  // gRPC thread); null: no cap.
  SubscriberService(StreamAdmission* admission, Broker* broker, Hub* hub,
                    const PolicyTable* policies, StreamShares* streams = nullptr)
      : admission_(admission), broker_(broker), hub_(hub), policies_(policies), streams_(streams) {}

  grpc::Status Subscribe(grpc::ServerContext* context, const v1::SubscribeRequest* request,
                         grpc::ServerWriter<v1::Event>* writer) override;

  // Ends every open Subscribe stream (on shutdown).
  void EndAll() { ending_.store(true); }
  size_t active() const { return active_.value(); }
  // After EndAll(): waits until every Subscribe call has returned, or
  // `deadline`; whether they all did.
  bool WaitEnded(absl::Time deadline) { return active_.WaitForZero(deadline); }

 private:
  StreamAdmission* admission_;
  Broker* broker_;
  Hub* hub_;
  const PolicyTable* policies_;
  StreamShares* streams_;
  std::atomic<bool> ending_{false};
  ActiveCount active_;
};

}  // namespace ssebridge

#endif  // SSEBRIDGE_GRPC_SUBSCRIBER_SERVICE_H_
