// PublishStream and PublishBatchStream: thin typed faces over
// internal::OrderedStream (ordered_stream.h).
#include <utility>
#include <vector>

#include "ordered_stream.h"
#include "ssebridge/publisher.h"
#include "wire.h"

namespace ssebridge {
namespace {

using internal::ToAck;
using internal::ToBatchRequest;
using internal::ToRequest;
using internal::ToResults;

StreamResult ToStreamResult(std::pair<Event, v1::PublishResponse> answer) {
  StreamResult result{std::move(answer.first), Ack{}};
  const v1::PublishResponse& response = answer.second;
  if (response.has_error() && response.error().code() != 0) {
    result.ack = absl::Status(static_cast<absl::StatusCode>(response.error().code()),
                              response.error().message());
  } else {
    result.ack = ToAck(response);
  }
  return result;
}

BatchStreamResult ToBatchStreamResult(
    std::pair<std::vector<Event>, v1::PublishBatchResponse> answer) {
  BatchStreamResult result;
  result.acks = ToResults(answer.second, answer.first.size());
  result.requests = std::move(answer.first);
  return result;
}

}  // namespace

// ---- PublishStream ---------------------------------------------------------

PublishStream::PublishStream(Publisher* publisher)
    : core_(std::make_unique<Core>("PublishStream",
                                   static_cast<size_t>(publisher->options_.max_in_flight),
                                   [publisher](grpc::ClientContext* context) {
                                     publisher->Authorize(context);
                                     return publisher->stub_->PublishStream(context);
                                   })) {}

PublishStream::~PublishStream() = default;

absl::Status PublishStream::Write(const Event& event) {
  return core_->Write(event, ToRequest(event));
}

absl::StatusOr<StreamResult> PublishStream::Read() {
  auto answer = core_->Read();
  if (!answer.ok()) return answer.status();
  return ToStreamResult(std::move(*answer));
}

absl::StatusOr<Ack> PublishStream::Publish(const Event& event) {
  auto answer = core_->Call(event, ToRequest(event));
  if (!answer.ok()) return answer.status();
  return std::move(ToStreamResult(std::move(*answer)).ack);
}

void PublishStream::WritesDone() { core_->WritesDone(); }

absl::Status PublishStream::Finish(std::vector<StreamResult>* rest) {
  std::vector<Core::Answer> answers;
  absl::Status status = core_->Finish(rest != nullptr ? &answers : nullptr);
  for (auto& a : answers) rest->push_back(ToStreamResult(std::move(a)));
  return status;
}

std::vector<Event> PublishStream::pending() const { return core_->pending(); }

size_t PublishStream::in_flight() const { return core_->in_flight(); }

// ---- PublishBatchStream ----------------------------------------------------

PublishBatchStream::PublishBatchStream(Publisher* publisher)
    : core_(std::make_unique<Core>("PublishBatchStream",
                                   static_cast<size_t>(publisher->options_.max_in_flight),
                                   [publisher](grpc::ClientContext* context) {
                                     publisher->Authorize(context);
                                     return publisher->batch_stub_->PublishBatchStream(context);
                                   })) {}

PublishBatchStream::~PublishBatchStream() = default;

absl::Status PublishBatchStream::Write(const std::vector<Event>& events) {
  return core_->Write(events, ToBatchRequest(events));
}

absl::StatusOr<BatchStreamResult> PublishBatchStream::Read() {
  auto answer = core_->Read();
  if (!answer.ok()) return answer.status();
  return ToBatchStreamResult(std::move(*answer));
}

absl::StatusOr<std::vector<absl::StatusOr<Ack>>> PublishBatchStream::PublishBatch(
    const std::vector<Event>& events) {
  auto answer = core_->Call(events, ToBatchRequest(events));
  if (!answer.ok()) return answer.status();
  return std::move(ToBatchStreamResult(std::move(*answer)).acks);
}

void PublishBatchStream::WritesDone() { core_->WritesDone(); }

absl::Status PublishBatchStream::Finish(std::vector<BatchStreamResult>* rest) {
  std::vector<Core::Answer> answers;
  absl::Status status = core_->Finish(rest != nullptr ? &answers : nullptr);
  for (auto& a : answers) rest->push_back(ToBatchStreamResult(std::move(a)));
  return status;
}

std::vector<std::vector<Event>> PublishBatchStream::pending() const { return core_->pending(); }

size_t PublishBatchStream::in_flight() const { return core_->in_flight(); }

}  // namespace ssebridge
