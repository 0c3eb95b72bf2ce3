// Subscription: one reader's interest (channels, user) and its bounded queue.
//
// Shared between the hub shard that fills it and the consumer that drains it
// (an SSE connection on the same thread, or a gRPC stream on its own), so the
// queue is guarded by `mu`. The sink is owned by the consumer and must stay
// valid until the subscription is detached from its shard.
#ifndef SSEBRIDGE_CORE_SUBSCRIPTION_H_
#define SSEBRIDGE_CORE_SUBSCRIPTION_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "bridge/core/delivery_policy.h"
#include "bridge/core/subscriber_queue.h"

namespace ssebridge {

class SubscriptionSink {
 public:
  virtual ~SubscriptionSink() = default;
  // On the shard's owner thread, after new entries were queued or after the
  // queue overflowed under the disconnect policy (see overflowed()).
  virtual void OnReady() = 0;
};

class Subscription : public std::enable_shared_from_this<Subscription> {
 public:
  struct Options {
    std::vector<std::string> channels;  // validated, distinct
    std::string user_id;                // empty: anonymous
    size_t queue_bytes = 512 * 1024;
    // The reader sent a resume cursor (Last-Event-ID): its attach counts as
    // replayed or reset rather than fresh (Hub::resumes).
    bool resuming = false;
  };
  Subscription(Options options, const PolicyTable& policies, SubscriptionSink* sink);

  const std::vector<std::string>& channels() const { return channels_; }
  const std::string& user_id() const { return user_id_; }
  bool resuming() const { return resuming_; }
  SubscriptionSink* sink() const { return sink_; }
  // Index into channels(), or -1.
  int ChannelIndex(const std::string& channel) const;
  DeliveryPolicy policy(int channel_index) const {
    return policies_[static_cast<size_t>(channel_index)];
  }

  std::mutex mu;
  SubscriberQueue queue ABSL_GUARDED_BY(mu);
  // Set when the queue overflowed under the disconnect policy: the consumer
  // must close; nothing more is queued.
  bool overflowed ABSL_GUARDED_BY(mu) = false;
  // Set with `overflowed` when the broker could not attach the reader (its
  // backend is away): the consumer closes all the same, but reports the
  // outage rather than a slow reader.
  bool broker_unavailable ABSL_GUARDED_BY(mu) = false;

 private:
  friend class HubShard;
  std::vector<std::string> channels_;
  std::vector<DeliveryPolicy> policies_;
  std::string user_id_;
  bool resuming_;
  SubscriptionSink* sink_;

  // Owned by the shard's thread.
  int shard_ = -1;
  std::vector<uint32_t> slots_;  // position in the shard's channel lists
  uint32_t user_slot_ = 0;
  bool ready_mark_ = false;
};

}  // namespace ssebridge

#endif  // SSEBRIDGE_CORE_SUBSCRIPTION_H_
