#include "bridge/publish/publish_gate.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bridge/core/hub.h"

namespace ssebridge {

absl::string_view PublishDoorName(PublishDoor door) {
  switch (door) {
    case PublishDoor::kGrpc:
      return "grpc";
    case PublishDoor::kGrpcStream:
      return "grpc_stream";
    case PublishDoor::kHttp:
      return "http";
    case PublishDoor::kCount:
      break;
  }
  return "unknown";
}
namespace {

void SetTimestamp(absl::Time t, google::protobuf::Timestamp* out) {
  const int64_t nanos = absl::ToUnixNanos(t);
  out->set_seconds(nanos / 1000000000);
  out->set_nanos(static_cast<int32_t>(nanos % 1000000000));
}

PublishSpec ToSpec(const v1::PublishRequest& request) {
  PublishSpec spec;
  spec.channel = request.channel();
  spec.type = request.event();
  spec.data = request.data();
  spec.user_ids.assign(request.user_ids().begin(), request.user_ids().end());
  spec.retain = request.retain();
  spec.idempotency_key = request.idempotency_key();
  return spec;
}

void ToResponse(const PublishOutcome& outcome, v1::PublishResponse* response) {
  response->set_id(outcome.id);
  response->set_subscribers(outcome.subscribers);
  SetTimestamp(outcome.published_at, response->mutable_published_at());
  response->set_replayed(outcome.replayed);
}

}  // namespace

v1::PublishResponse ErrorResponse(const absl::Status& status) {
  v1::PublishResponse response;
  response.mutable_error()->set_code(static_cast<int>(status.code()));
  response.mutable_error()->set_message(std::string(status.message()));
  return response;
}

absl::Status PublishGate::Admit(PublishSpec* spec, const PublisherIdentity& who,
                                absl::Time now) const {
  absl::Status s = ValidatePublishSpec(spec, limits_);
  if (s.ok()) s = PublisherAuth::Authorize(who, spec->channel);
  if (s.ok()) s = auth_->Admit(who, now);
  if (s.ok()) s = auth_->ChargeChannel(who, spec->channel, now);
  // Keys are per publisher and channel (validated above as sent).
  if (s.ok() && !spec->idempotency_key.empty()) {
    spec->idempotency_key = ScopedIdempotencyKey(who.name, spec->channel, spec->idempotency_key);
  }
  return s;
}

absl::StatusOr<v1::PublishResponse> PublishGate::Publish(const v1::PublishRequest& request,
                                                         const PublisherIdentity& who) {
  // Ends after the broker's locks are released: a subscriber or two is
  // written from here rather than through a writer thread's wake-up.
  InlineDrainScope inline_drain;
  PublishSpec spec = ToSpec(request);
  absl::Status valid = Admit(&spec, who, absl::Now());
  if (!valid.ok()) {
    rejected_.fetch_add(1, std::memory_order_relaxed);
    return valid;
  }
  absl::StatusOr<PublishOutcome> outcome = broker_->Publish(spec);
  if (!outcome.ok()) {
    rejected_.fetch_add(1, std::memory_order_relaxed);
    return outcome.status();
  }
  if (!outcome->replayed) published_.fetch_add(1, std::memory_order_relaxed);
  v1::PublishResponse response;
  ToResponse(*outcome, &response);
  return response;
}

absl::StatusOr<v1::PublishBatchResponse> PublishGate::PublishBatch(
    const v1::PublishBatchRequest& batch, const PublisherIdentity& who) {
  const int n = batch.requests_size();
  if (static_cast<size_t>(n) > limits_.max_batch) {
    rejected_.fetch_add(static_cast<uint64_t>(n), std::memory_order_relaxed);
    return absl::InvalidArgumentError(absl::StrCat("requests: ", n, " in one batch; at most ",
                                                   limits_.max_batch, " (--max_publish_batch)"));
  }
  return PublishGathered(batch, who);
}

v1::PublishBatchResponse PublishGate::PublishGathered(const v1::PublishBatchRequest& batch,
                                                      const PublisherIdentity& who) {
  InlineDrainScope inline_drain;  // as in Publish()
  const int n = batch.requests_size();
  v1::PublishBatchResponse out;
  std::vector<PublishSpec> specs;
  std::vector<v1::PublishResponse*> slots;  // where each spec's answer goes
  specs.reserve(static_cast<size_t>(n));
  slots.reserve(static_cast<size_t>(n));
  const absl::Time now = absl::Now();
  for (const v1::PublishRequest& request : batch.requests()) {
    v1::PublishResponse* slot = out.add_responses();
    PublishSpec spec = ToSpec(request);
    absl::Status valid = Admit(&spec, who, now);
    if (!valid.ok()) {
      rejected_.fetch_add(1, std::memory_order_relaxed);
      *slot = ErrorResponse(valid);
      continue;
    }
    specs.push_back(std::move(spec));
    slots.push_back(slot);
  }
  if (specs.empty()) return out;
  std::vector<absl::StatusOr<PublishOutcome>> outcomes = broker_->PublishBatch(&specs);
  for (size_t i = 0; i < outcomes.size(); ++i) {
    if (!outcomes[i].ok()) {
      rejected_.fetch_add(1, std::memory_order_relaxed);
      *slots[i] = ErrorResponse(outcomes[i].status());
      continue;
    }
    if (!outcomes[i]->replayed) published_.fetch_add(1, std::memory_order_relaxed);
    ToResponse(*outcomes[i], slots[i]);
  }
  return out;
}

void ToProto(const Event& event, v1::Event* out) {
  out->set_id(event.id);
  out->set_channel(event.channel);
  out->set_event(event.type);
  out->set_data(event.data);
  SetTimestamp(event.published_at, out->mutable_published_at());
}

}  // namespace ssebridge
