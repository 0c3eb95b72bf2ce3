// Hub: routes events to the subscriptions of this process.
//
// The hub is split into shards, one per writer thread. A shard's channel and
// user indexes are touched only by its owner thread; other threads talk to it
// through its inbox, whose commands are applied in the order they were
// posted. That order is what makes resume exact: the broker posts an
// subscription's Attach (carrying its catch-up) and the events published
// around it under one lock, so each event lands either in the catch-up or in
// the live stream, never both and never neither.
//
// A shard coalesces: it applies everything in its inbox, then calls each
// touched subscription's sink once, so a burst becomes one write per reader.
#ifndef SSEBRIDGE_CORE_HUB_H_
#define SSEBRIDGE_CORE_HUB_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "bridge/core/event.h"
#include "bridge/core/subscription.h"

namespace ssebridge {

struct HubCounters {
  std::atomic<uint64_t> deliveries{0};  // events queued to a subscription
  std::atomic<uint64_t> dropped{0};     // dropped or replaced by a policy
  std::atomic<uint64_t> overflow_disconnects{0};
  // Attaches by outcome: no cursor; a cursor honoured; a cursor answered
  // with an ssebridge.reset notice.
  std::atomic<uint64_t> resumes_fresh{0};
  std::atomic<uint64_t> resumes_replayed{0};
  std::atomic<uint64_t> resumes_reset{0};
};

enum class ResumeOutcome { kFresh, kReplayed, kReset };

class HubShard;

// While one is alive on a thread, a shard that this thread's dispatches
// turn busy with a few deliveries only is not woken at once: when the
// scope ends (the publish is done and its locks are released) the thread
// drains that shard itself if its loop is idle, and wakes the loop
// otherwise. At a few events per second that is what a publish costs most:
// one thread hand-off per event. Nested scopes join the outermost.
class InlineDrainScope {
 public:
  InlineDrainScope();
  ~InlineDrainScope();
  InlineDrainScope(const InlineDrainScope&) = delete;
  InlineDrainScope& operator=(const InlineDrainScope&) = delete;

  // Most deliveries a shard may be given to be drained by the publisher:
  // each is one writev on the publisher's thread, which a fan-out to
  // thousands of streams must not take from the writer threads.
  static constexpr size_t kMaxDeliveries = 16;
  // Only for a shard last drained at least this long ago: faster traffic
  // goes to the writer thread, whose wake-up is then shared by the events
  // that arrive meanwhile (one writev for several), which an inline drain
  // per publish would give up.
  static constexpr int64_t kMinGapNs = 500'000;

 private:
  friend class HubShard;
  // The active outermost scope of this thread, or nullptr.
  static thread_local InlineDrainScope* active_;
  bool outermost_;
  std::vector<HubShard*> shards_;
};

class HubShard {
 public:
  explicit HubShard(int index) : index_(index) {}
  HubShard(const HubShard&) = delete;
  HubShard& operator=(const HubShard&) = delete;

  // Called (on the posting thread) when the inbox turns non-empty. Set once,
  // before any post.
  void SetWake(std::function<void()> wake) { wake_ = std::move(wake); }
  // Drains on the calling thread, as the owner would, if the owner is idle;
  // false otherwise (see InlineDrainScope), and only when the shard was
  // last drained `min_gap_ns` ago or more. Optional; set once, before any
  // post.
  void SetInlineDrain(std::function<bool()> drain,
                      int64_t min_gap_ns = InlineDrainScope::kMinGapNs) {
    inline_drain_ = std::move(drain);
    inline_min_gap_ns_ = min_gap_ns;
  }

  // Any thread. `deliveries`: how many subscriptions here the events reach
  // (at most InlineDrainScope::kMaxDeliveries lets a scope defer the wake).
  void PostEvent(EventPtr event, size_t deliveries = SIZE_MAX);
  // Several events, in order, with one lock and at most one wake-up.
  void PostEvents(const std::vector<EventPtr>& events, size_t deliveries = SIZE_MAX);
  void PostAttach(std::shared_ptr<Subscription> sub, std::vector<EventPtr> catch_up);
  // Detaches and waits until the shard can no longer touch `sub`.
  void DetachAndWait(const std::shared_ptr<Subscription>& sub);

  // Owner thread: applies the inbox, then notifies touched subscriptions.
  void Drain();
  // Owner thread: removes `sub` at once.
  void DetachNow(Subscription* sub);
  // Owner thread: every attached subscription.
  template <typename F>
  void ForEach(F f) {
    for (auto& [ptr, sub] : attached_) f(sub);
  }

  size_t attached() const { return attached_count_.load(std::memory_order_relaxed); }
  const HubCounters& counters() const { return counters_; }
  int index() const { return index_; }

 private:
  friend class Hub;
  friend class InlineDrainScope;
  // Signalled by the owner thread once a detach is applied.
  struct DetachDone {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
  };
  struct Command {
    enum Kind { kEvent, kAttach, kDetach } kind;
    EventPtr event;
    std::shared_ptr<Subscription> sub;
    std::vector<EventPtr> catch_up;
    DetachDone* done = nullptr;
  };
  using Slot = std::pair<Subscription*, uint32_t>;  // sub, its channel index

  void Post(Command command);
  // The inbox turned non-empty: wake the owner, or leave it to the
  // thread's InlineDrainScope.
  void WakeOrDefer(size_t deliveries);  // inline_drain.cc
  static int64_t SteadyNowNs();
  void Apply(Command& command);
  void Deliver(Subscription* sub, int channel_index, const EventPtr& event);
  void MarkReady(Subscription* sub);
  void CountResume(const Subscription& sub, const std::vector<EventPtr>& catch_up);

  const int index_;
  std::function<void()> wake_;
  std::function<bool()> inline_drain_;
  int64_t inline_min_gap_ns_ = 0;
  // When Drain() last started (steady clock, ns), by whichever thread.
  std::atomic<int64_t> last_drain_ns_{0};
  class Hub* hub_ = nullptr;

  std::mutex inbox_mu_;
  std::vector<Command> inbox_ ABSL_GUARDED_BY(inbox_mu_);

  // Owner thread only.
  std::vector<Command> draining_;
  absl::flat_hash_map<std::string, std::vector<Slot>> by_channel_;
  absl::flat_hash_map<std::string, std::vector<Subscription*>> by_user_;
  absl::flat_hash_map<Subscription*, std::shared_ptr<Subscription>> attached_;
  std::vector<std::shared_ptr<Subscription>> ready_;
  std::atomic<size_t> attached_count_{0};
  HubCounters counters_;
};

class Hub {
 public:
  // Dispatch keeps the shards of one channel in a fixed array on its stack,
  // so more shards than this are folded into this many.
  static constexpr size_t kMaxShards = 64;

  explicit Hub(int shards);  // clamped to 1 .. kMaxShards

  int shard_count() const { return static_cast<int>(shards_.size()); }
  HubShard& shard(int i) { return *shards_[static_cast<size_t>(i)]; }

  // Sees every dispatched event, on the dispatching thread (in the broker's
  // order). Set once, before the first dispatch; it must be cheap.
  void SetObserver(std::function<void(const EventPtr&)> observer) {
    observer_ = std::move(observer);
  }

  // Posts `event` to every shard. Callers serialise calls (the broker's
  // ordering lock) so every shard sees the same order.
  void Dispatch(const EventPtr& event);
  // Dispatch() of each event in order; each shard is posted the batch's
  // events for it at once, so it is woken at most once per batch.
  void DispatchBatch(const std::vector<EventPtr>& events);
  // Attaches `sub` to the next shard in turn, after `catch_up`. Same
  // serialisation as Dispatch.
  void Attach(std::shared_ptr<Subscription> sub, std::vector<EventPtr> catch_up);
  // For a reader the broker could not attach (Broker::Attach failed): hands
  // `sub` to a shard already closed, so a consumer that only the hub can
  // reach (an SSE stream) ends it as broker_unavailable. No event reaches it.
  void AttachRefused(std::shared_ptr<Subscription> sub);
  // From any thread but the shard's own (see HubShard::DetachNow for that).
  void Detach(const std::shared_ptr<Subscription>& sub);

  // How many attached subscriptions `event` will be queued for.
  uint32_t CountRecipients(const Event& event) const;
  size_t subscriptions() const;
  // Every channel with a subscriber here, and how many it has.
  std::vector<std::pair<std::string, uint32_t>> ChannelCounts() const;
  uint64_t deliveries() const;
  uint64_t dropped() const;
  uint64_t overflow_disconnects() const;
  uint64_t resumes(ResumeOutcome outcome) const;

 private:
  friend class HubShard;
  void CountAttach(const Subscription& sub, int shard_index, int delta);
  // Indexes of the shards holding a subscription `event` reaches: on its
  // channel or, for a targeted event, of one of its users on its channel.
  // `deliveries[i]` gets how many subscriptions on shard targets[i] it
  // reaches.
  size_t TargetShards(const Event& event, size_t* targets, size_t* deliveries) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(counts_mu_);

  std::vector<std::unique_ptr<HubShard>> shards_;
  std::function<void(const EventPtr&)> observer_;
  std::atomic<size_t> next_shard_{0};
  mutable std::mutex counts_mu_;
  absl::flat_hash_map<std::string, uint32_t> per_channel_ ABSL_GUARDED_BY(counts_mu_);
  // Subscriptions per channel on each shard (Dispatch wakes only those).
  absl::flat_hash_map<std::string, std::vector<uint32_t>> per_channel_shard_
      ABSL_GUARDED_BY(counts_mu_);
  // key: channel + '\n' + user; subscriptions on each shard. A targeted
  // event wakes only the shards its users are on (per-user traffic would
  // otherwise wake every shard for one recipient).
  absl::flat_hash_map<std::string, std::vector<uint32_t>> per_channel_user_
      ABSL_GUARDED_BY(counts_mu_);
};

}  // namespace ssebridge

#endif  // SSEBRIDGE_CORE_HUB_H_
