#include "bridge/grpc/subscriber_service.h"

#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "bridge/core/names.h"
#include "bridge/grpc/grpc_server.h"
#include "bridge/grpc/publisher_service.h"
#include "bridge/publish/publish_gate.h"

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

}  // namespace

grpc::Status SubscriberService::Subscribe(grpc::ServerContext* context,
                                          const v1::SubscribeRequest* request,
                                          grpc::ServerWriter<v1::Event>* writer) {
  if (absl::Status port = GrpcServer::PublicPortOnly(*context); !port.ok()) {
    return ToGrpcStatus(port);
  }
  StreamRequest ask;
  ask.reader = StreamReader::kBackend;
  ask.channels.assign(request->channels().begin(), request->channels().end());
  ask.channels_field = "channels";
  ask.index_channel_items = true;
  ask.cursor = request->last_event_id();
  ask.cursor_field = "last_event_id";
  ask.client_address = context->peer();
  const auto& metadata = context->client_metadata();
  if (auto it = metadata.find("authorization"); it != metadata.end()) {
    ask.authorization.assign(it->second.data(), it->second.size());
  }
  absl::StatusOr<StreamGrant> grant = admission_->Admit(ask, absl::Now());
  if (!grant.ok()) return ToGrpcStatus(grant.status());
  // Each open stream holds a gRPC thread: capped per key and overall, so one
  // key's readers cannot take the threads other keys publish with.
  std::unique_ptr<StreamShares::Lease> share;
  if (streams_ != nullptr) {
    absl::StatusOr<std::unique_ptr<StreamShares::Lease>> taken =
        streams_->Acquire(grant->principal);
    if (!taken.ok()) return ToGrpcStatus(taken.status());
    share = std::move(*taken);
  }

  active_.Add();
  WakeSink sink;
  auto sub = std::make_shared<Subscription>(std::move(grant->subscription), *policies_, &sink);
  absl::Status attached = broker_->Attach(sub, grant->cursor);
  if (!attached.ok()) {
    active_.Remove();  // nothing was attached: nothing to detach
    return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                        absl::StrCat("the broker could not attach this reader (",
                                     attached.message(), "); retry with last_event_id"));
  }

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
  active_.Remove();
  return result;
}

}  // namespace ssebridge
