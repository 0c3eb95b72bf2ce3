// MemoryBroker: the embedded default broker. History, retained values and
// idempotency keys live in this process; one mutex orders publishes, and
// publishes dispatch through the HubFeed under it, which is what lets
// Attach() place a subscription exactly between two events. History is lost
// with the process, so each start takes a new epoch and old cursors reset.
//
// Memory is bounded four ways besides --max_channels:
//   - history per channel (HistoryLimits) and in total
//     (--max_history_bytes_total): past the total, the oldest event of the
//     channel whose oldest event is oldest is evicted, so cursors before it
//     get a reset (the existing contract for evicted history). Evicting
//     rather than refusing keeps publishing working; history is a resume
//     aid, and its loss is always announced (reset), never silent.
//   - retained values per channel (--max_retained_per_channel) and in total
//     (--max_retained_bytes): a retained publish that would pass a cap is
//     refused whole (RESOURCE_EXHAUSTED naming the flag). Retained values
//     are state that readers get on connect with no way to learn one is
//     missing, so evicting another publisher's value would lose it silently;
//     refusing tells the one publisher who went over. Replacing a value in
//     its slot is always allowed when the bytes fit.
//   - retained values older than --retained_ttl are swept (Sweep()), in
//     O(expired) via an index ordered by seq.
// A new reader costs O(what it receives): retained values are indexed by
// audience, public ones by type and targeted ones by each of their users,
// so connect looks up its channels' public values and its own user's only.
#ifndef SSEBRIDGE_BROKER_MEMORY_MEMORY_BROKER_H_
#define SSEBRIDGE_BROKER_MEMORY_MEMORY_BROKER_H_

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "bridge/broker/broker.h"
#include "bridge/broker/hub_feed.h"
#include "bridge/core/history_ring.h"
#include "bridge/core/hub.h"
#include "bridge/core/idempotency_window.h"

namespace ssebridge {

class MemoryBroker : public Broker {
 public:
  struct Options {
    HistoryLimits history;
    size_t max_history_bytes_total = size_t{1} << 30;  // 0: no global budget
    size_t max_channels = 100000;                      // channels holding history or values
    RetainedLimits retained;
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
  absl::Status Attach(std::shared_ptr<Subscription> sub, absl::string_view last_event_id) override;
  void Sweep(absl::Time now) override;
  std::string epoch() const override { return epoch_; }
  // Only this process's locks: never a wait on anything outside it.
  bool publish_waits() const override { return false; }
  BrokerMetrics metrics() const override;

  size_t channels() const;
  uint64_t head_seq() const;
  // Retained values looked at by attaches so far: the cost of connecting,
  // which must follow what readers receive, not what the broker holds.
  uint64_t retained_examined() const;

 private:
  struct Channel {
    Channel(std::string n, const HistoryLimits& limits) : name(std::move(n)), history(limits) {}
    const std::string name;
    HistoryRing history;
    // Public values by event type; targeted ones by audience key
    // (RetainedKey), and for each user the keys of the values they are in.
    absl::flat_hash_map<std::string, EventPtr> public_retained;
    absl::flat_hash_map<std::string, EventPtr> targeted_retained;
    absl::flat_hash_map<std::string, absl::flat_hash_set<std::string>> by_user;
    size_t retained_count() const { return public_retained.size() + targeted_retained.size(); }
  };
  // Where a retained value lives, for expiry in seq (= time) order.
  struct RetainedSlot {
    Channel* channel;
    std::string key;  // type (public) or RetainedKey (targeted)
    bool targeted;
  };

  // Publish's body: stores the event and appends it to `dispatch` (the
  // caller hands that to the feed, still under the lock). Moves from `spec`.
  absl::StatusOr<PublishOutcome> PublishLocked(PublishSpec& spec, absl::Time now,
                                               std::vector<EventPtr>* dispatch)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // OK, or RESOURCE_EXHAUSTED naming the cap `event` would pass.
  absl::Status CheckRetainedCaps(const Channel* channel, const Event& event,
                                 const std::string& key) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void StoreRetained(Channel& channel, EventPtr event, const std::string& key)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void EraseRetained(const RetainedSlot& where) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Runs `change` on the channel's history, keeping the global byte count
  // and the oldest-first index right; then enforces the global budget.
  template <typename F>
  void ChangeHistory(Channel& channel, F change) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void EnforceHistoryBudget() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  void AppendRetained(const Subscription& sub, absl::Time now, std::vector<EventPtr>* out)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  EventPtr HeadCursor() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The catch-up for `last_event_id`; empty when nothing is owed.
  std::vector<EventPtr> CatchUp(const Subscription& sub, absl::string_view last_event_id,
                                absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Options options_;
  const std::string epoch_;
  Hub* const hub_;
  const EventEncoder* const encoder_;
  HubFeed feed_;

  mutable std::mutex mu_;
  uint64_t seq_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<std::string, std::unique_ptr<Channel>> channels_ ABSL_GUARDED_BY(mu_);
  IdempotencyWindow idempotency_ ABSL_GUARDED_BY(mu_);
  // Highest seq of any channel removed by Sweep() (see CatchUp()).
  uint64_t swept_through_ ABSL_GUARDED_BY(mu_) = 0;
  // Channels with history, by the seq of their oldest event.
  std::set<std::pair<uint64_t, Channel*>> by_oldest_ ABSL_GUARDED_BY(mu_);
  size_t history_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t budget_evictions_ ABSL_GUARDED_BY(mu_) = 0;
  // Every retained value by its seq (publish times grow with seq).
  std::map<uint64_t, RetainedSlot> retained_by_seq_ ABSL_GUARDED_BY(mu_);
  size_t retained_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t retained_expired_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t retained_examined_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace ssebridge

#endif  // SSEBRIDGE_BROKER_MEMORY_MEMORY_BROKER_H_
