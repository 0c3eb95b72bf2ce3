#include "bridge/grpc/subscriber_service.h"

#include <condition_variable>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include <mutex>
#include "bridge/core/event_id.h"
#include "bridge/core/names.h"
#include "bridge/grpc/publish_gate.h"
#include "bridge/grpc/publisher_service.h"

namespace ssebridge {
namespace {

// Wakes the RPC thread; the hub calls it on its shard's thread.
class WakeSink : public SubscriptionSink {
 public:
  void OnReady() override {
    std::lock_guard<std::mutex> lock(mu_);
    ready_ = true;
    cv_.notify_one();
  }
  // Waits until woken or `timeout`; clears the flag.
  void Wait(absl::Duration timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, absl::ToChronoMilliseconds(timeout), [this] { return ready_; });
    ready_ = false;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool ready_ = false;
};

grpc::Status Invalid(absl::string_view message) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, std::string(message));
}

}  // namespace

grpc::Status SubscriberService::Subscribe(grpc::ServerContext* context,
                                          const v1::SubscribeRequest* request,
                                          grpc::ServerWriter<v1::Event>* writer) {
  const int count = request->channels_size();
  if (count == 0) return Invalid("channels: at least one channel is required");
  if (static_cast<size_t>(count) > options_.max_channels) {
    return Invalid(absl::StrCat("channels: ", count, " requested; the limit is ",
                                options_.max_channels,
                                " (--max_channels_per_connection)"));
  }
  Subscription::Options sub_options;
  sub_options.queue_bytes = options_.queue_bytes;
  sub_options.resuming = !request->last_event_id().empty();
  absl::flat_hash_set<std::string> seen;
  for (int i = 0; i < count; ++i) {
    const std::string& name = request->channels(i);
    absl::Status s = ValidateChannelName(name, absl::StrCat("channels[", i, "]"));
    if (!s.ok()) return Invalid(s.message());
    if (seen.insert(name).second) sub_options.channels.push_back(name);
  }
  // Server-side readers are backends: once auth is on they present a
  // publisher credential, and read what that credential may publish to.
  absl::StatusOr<PublisherIdentity> who = AuthenticateCall(*auth_, *context);
  if (!who.ok()) return ToGrpcStatus(who.status());
  // Each open stream holds a gRPC thread: capped per key and overall.
  absl::StatusOr<std::unique_ptr<StreamShares::Lease>> share =
      std::unique_ptr<StreamShares::Lease>();
  if (options_.streams != nullptr) share = options_.streams->Acquire(who->name);
  if (!share.ok()) return ToGrpcStatus(share.status());
  for (const std::string& channel : sub_options.channels) {
    absl::Status allowed = PublisherAuth::Authorize(*who, channel);
    if (!allowed.ok()) return ToGrpcStatus(allowed);
  }
  if (!request->last_event_id().empty()) {
    absl::StatusOr<EventId> id =
        ParseEventId(request->last_event_id(), "last_event_id");
    if (!id.ok()) return Invalid(id.status().message());
  }

  if (!broker_->ready()) {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                        "the broker is unavailable (Redis unreachable); retry later");
  }
  active_.fetch_add(1);
  WakeSink sink;
  auto sub =
      std::make_shared<Subscription>(std::move(sub_options), *policies_, &sink);
  broker_->Attach(sub, request->last_event_id());

  grpc::Status result = grpc::Status::OK;
  std::vector<EventPtr> batch;
  v1::Event message;
  while (!context->IsCancelled() && !ending_.load()) {
    sink.Wait(absl::Milliseconds(200));
    bool overflowed;
    bool unavailable;
    {
      std::lock_guard<std::mutex> lock(sub->mu);
      overflowed = sub->overflowed;
      unavailable = sub->broker_unavailable;
      sub->queue.TakeAll(&batch);
    }
    if (unavailable) {
      result = grpc::Status(grpc::StatusCode::UNAVAILABLE,
                            "the broker is unavailable (Redis unreachable); "
                            "retry with last_event_id");
      break;
    }
    if (overflowed) {
      result = grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                            "subscriber fell behind its queue (--queue_bytes); "
                            "resubscribe with last_event_id to resume");
      break;
    }
    bool open = true;
    for (const EventPtr& ev : batch) {
      if (ev->is_control()) {
        if (ev->id.empty()) continue;
        // The SSE stream moves the browser's cursor with an id-only block;
        // here the same cursor is an event of its own.
        message.Clear();
        message.set_id(ev->id);
        message.set_event(std::string(kCursorEventType));
        if (!writer->Write(message)) {
          open = false;
          break;
        }
        continue;
      }
      ToProto(*ev, &message);
      if (!writer->Write(message)) {
        open = false;
        break;
      }
    }
    batch.clear();
    if (!open) break;
  }
  // After this the hub never touches `sink` again.
  hub_->Detach(sub);
  active_.fetch_sub(1);
  return result;
}

}  // namespace ssebridge
