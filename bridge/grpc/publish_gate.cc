#include "bridge/grpc/publish_gate.h"

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace ssebridge {
namespace {

void SetTimestamp(absl::Time t, google::protobuf::Timestamp* out) {
  const int64_t nanos = absl::ToUnixNanos(t);
  out->set_seconds(nanos / 1000000000);
  out->set_nanos(static_cast<int32_t>(nanos % 1000000000));
}

}  // namespace

absl::StatusOr<v1::PublishResponse> PublishGate::Publish(
    const v1::PublishRequest& request, const PublisherIdentity& who) {
  PublishSpec spec;
  spec.channel = request.channel();
  spec.type = request.event();
  spec.data = request.data();
  spec.user_ids.assign(request.user_ids().begin(), request.user_ids().end());
  spec.retain = request.retain();
  spec.idempotency_key = request.idempotency_key();
  absl::Status valid = ValidatePublishSpec(&spec, limits_);
  if (!valid.ok()) {
    rejected_.fetch_add(1, std::memory_order_relaxed);
    return valid;
  }
  absl::Status allowed = PublisherAuth::Authorize(who, spec.channel);
  if (allowed.ok()) allowed = auth_->Admit(who, absl::Now());
  if (!allowed.ok()) {
    rejected_.fetch_add(1, std::memory_order_relaxed);
    return allowed;
  }
  absl::StatusOr<PublishOutcome> outcome = broker_->Publish(spec);
  if (!outcome.ok()) {
    rejected_.fetch_add(1, std::memory_order_relaxed);
    return outcome.status();
  }
  if (!outcome->replayed) published_.fetch_add(1, std::memory_order_relaxed);
  v1::PublishResponse response;
  response.set_id(outcome->id);
  response.set_subscribers(outcome->subscribers);
  SetTimestamp(outcome->published_at, response.mutable_published_at());
  response.set_replayed(outcome->replayed);
  return response;
}

void ToProto(const Event& event, v1::Event* out) {
  out->set_id(event.id);
  out->set_channel(event.channel);
  out->set_event(event.type);
  out->set_data(event.data);
  SetTimestamp(event.published_at, out->mutable_published_at());
}

}  // namespace ssebridge
