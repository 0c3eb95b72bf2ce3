// PublishGate: the one publish path behind both front doors. It turns a
// PublishRequest into a validated PublishSpec, hands it to the broker and
// turns the outcome into a PublishResponse. gRPC handlers and the HTTP JSON
// handler only translate transport details around it.
#ifndef SSEBRIDGE_PUBLISH_PUBLISH_GATE_H_
#define SSEBRIDGE_PUBLISH_PUBLISH_GATE_H_

#include <array>
#include <atomic>
#include <string>

#include "absl/status/statusor.h"
#include "bridge/auth/publisher_auth.h"
#include "bridge/broker/broker.h"
#include "bridge/core/publish_validation.h"
#include "bridge/ops/latency_histogram.h"
#include "ssebridge/v1/bridge.pb.h"

namespace ssebridge {

// Which front door a publish came through (the publish latency's label).
enum class PublishDoor { kGrpc, kGrpcStream, kHttp, kCount };
absl::string_view PublishDoorName(PublishDoor door);

class PublishGate {
 public:
  // `broker` and `auth` must outlive the gate.
  PublishGate(Broker* broker, const PublishLimits& limits, const PublisherAuth* auth)
      : broker_(broker), limits_(limits), auth_(auth) {}

  const PublisherAuth& auth() const { return *auth_; }

  // INVALID_ARGUMENT, then PERMISSION_DENIED (channel not granted to `who`),
  // then RESOURCE_EXHAUSTED (rate) or UNAUTHENTICATED (`who`'s JWT expired
  // mid-stream), then whatever the broker says.
  absl::StatusOr<v1::PublishResponse> Publish(const v1::PublishRequest& request,
                                              const PublisherIdentity& who);
  // Every request of `batch` in order, one response each: a failed request
  // gets `error` set in its response and the rest are still published. One
  // broker call for the valid ones (see Broker::PublishBatch).
  // INVALID_ARGUMENT, publishing nothing, above max_batch() requests.
  // Each request is checked against `who` as Publish() does.
  absl::StatusOr<v1::PublishBatchResponse> PublishBatch(const v1::PublishBatchRequest& batch,
                                                        const PublisherIdentity& who);
  // PublishBatch without the count limit, for requests the bridge gathered
  // itself (PublishStream's queued requests, at most OrderedStream::kMaxWaiting), which
  // a small --max_publish_batch must not refuse.
  v1::PublishBatchResponse PublishGathered(const v1::PublishBatchRequest& batch,
                                           const PublisherIdentity& who);

  // Most requests in one client batch (--max_publish_batch).
  size_t max_batch() const { return limits_.max_batch; }

  uint64_t published() const { return published_.load(std::memory_order_relaxed); }
  uint64_t rejected() const { return rejected_.load(std::memory_order_relaxed); }

  // Time from a request's arrival at its door to its answer, per door; the
  // doors time themselves (ScopedLatency).
  LatencyHistogram* latency(PublishDoor door) { return &latency_[static_cast<size_t>(door)]; }
  const LatencyHistogram& latency(PublishDoor door) const {
    return latency_[static_cast<size_t>(door)];
  }

 private:
  Broker* broker_;
  // Validation, the channel grant, the rate and the publisher's share of
  // channels, in that order; then scopes the idempotency key to `who` and
  // the channel.
  absl::Status Admit(PublishSpec* spec, const PublisherIdentity& who, absl::Time now) const;

  PublishLimits limits_;
  const PublisherAuth* auth_;
  std::atomic<uint64_t> published_{0};
  std::atomic<uint64_t> rejected_{0};
  std::array<LatencyHistogram, static_cast<size_t>(PublishDoor::kCount)> latency_;
};

// A PublishStream/PublishBatch response for a failed request.
v1::PublishResponse ErrorResponse(const absl::Status& status);

// Copies an event into its proto form (for Subscribe streams).
void ToProto(const Event& event, v1::Event* out);

}  // namespace ssebridge

#endif  // SSEBRIDGE_PUBLISH_PUBLISH_GATE_H_
