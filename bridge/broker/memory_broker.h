// MemoryBroker: the embedded default broker. History, retained values and
// idempotency keys live in this process; one mutex orders publishes and
// attaches, which is what lets Attach() place a subscription exactly between
// two events. History is lost with the process, so each start takes a new
// epoch and old cursors get a reset.
#ifndef SSEBRIDGE_BROKER_MEMORY_BROKER_H_
#define SSEBRIDGE_BROKER_MEMORY_BROKER_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include <mutex>
#include "bridge/broker/broker.h"
#include "bridge/core/history_ring.h"
#include "bridge/core/hub.h"
#include "bridge/core/idempotency_window.h"

namespace ssebridge {

class MemoryBroker : public Broker {
 public:
  struct Options {
    HistoryLimits history;
    size_t max_channels = 100000;  // channels holding history or values
    absl::Duration idempotency_window = absl::Minutes(10);
    size_t idempotency_max_keys = 100000;
    std::string epoch;  // empty: NewEpoch()
    std::function<absl::Time()> clock = [] { return absl::Now(); };
  };

  // `hub` and `encoder` must outlive the broker.
  MemoryBroker(Options options, Hub* hub, const EventEncoder* encoder);

  absl::StatusOr<PublishOutcome> Publish(const PublishSpec& spec) override;
  // One lock and one hub dispatch (one wake per shard) for the whole batch.
  std::vector<absl::StatusOr<PublishOutcome>> PublishBatch(
      std::vector<PublishSpec>* specs) override;
  void Attach(std::shared_ptr<Subscription> sub,
              absl::string_view last_event_id) override;
  void Sweep(absl::Time now) override;
  std::string epoch() const override { return epoch_; }

  size_t channels() const;
  uint64_t head_seq() const;

 private:
  struct Channel {
    explicit Channel(const HistoryLimits& limits) : history(limits) {}
    HistoryRing history;
    // Latest retained event per (event type, audience).
    absl::flat_hash_map<std::string, EventPtr> retained;
  };

  // Publish's body: stores the event and appends it to `dispatch` (the
  // caller hands that to the hub, still under the lock). Moves from `spec`.
  absl::StatusOr<PublishOutcome> PublishLocked(PublishSpec& spec,
                                               absl::Time now,
                                               std::vector<EventPtr>* dispatch)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void AppendRetained(const Subscription& sub, absl::Time now,
                      std::vector<EventPtr>* out) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  EventPtr HeadCursor() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The catch-up for `last_event_id`; empty when nothing is owed.
  std::vector<EventPtr> CatchUp(const Subscription& sub,
                                absl::string_view last_event_id,
                                absl::Time now) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Options options_;
  const std::string epoch_;
  Hub* const hub_;
  const EventEncoder* const encoder_;

  mutable std::mutex mu_;
  uint64_t seq_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<std::string, std::unique_ptr<Channel>> channels_
      ABSL_GUARDED_BY(mu_);
  IdempotencyWindow idempotency_ ABSL_GUARDED_BY(mu_);
  // Highest seq of any channel removed by Sweep() (see CatchUp()).
  uint64_t swept_through_ ABSL_GUARDED_BY(mu_) = 0;
};

// Whether `sub` may see `event` (targeted events only reach listed users).
bool Audience(const Event& event, const Subscription& sub);

}  // namespace ssebridge

#endif  // SSEBRIDGE_BROKER_MEMORY_BROKER_H_
