// HubFeed: the one way a broker hands events and new readers to the Hub, and
// the one place where an attach is placed exactly in the event order. Both
// brokers use it; a new broker gets exactly-once resume by using it too.
//
// Every Dispatch and Finish of a broker goes through one feed, under its
// lock, so every hub shard sees them in one order. An attach is placed in
// three steps:
//   1. Begin(sub): from now on every event dispatched on sub's channels is
//      also kept for it;
//   2. the broker reads its catch-up, a snapshot that covers the event order
//      up to some seq `head`, and makes sure every event up to `head` that
//      will ever reach this feed has been dispatched (memory: publishes
//      dispatch under the lock the snapshot is read under; Redis: a marker
//      round trip on the pub/sub connection after the snapshot);
//   3. Finish(p, catch_up, head): the hub gets the catch-up, then the kept
//      events after `head` that sub may see (targeting), and live delivery
//      from the next dispatch on.
// An event at or before `head` is the snapshot's business (replayed, or
// covered by the head cursor); one after it was dispatched either before
// Finish (kept) or after (live): no gap, no duplicate.
//
// Thread-safe. Lock order: a broker's own lock, then the feed's.
#ifndef SSEBRIDGE_BROKER_HUB_FEED_H_
#define SSEBRIDGE_BROKER_HUB_FEED_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "bridge/core/event.h"
#include "bridge/core/hub.h"
#include "bridge/core/subscription.h"

namespace ssebridge {

// Whether `sub` may see `event` (targeted events only reach listed users).
bool Audience(const Event& event, const Subscription& sub);

class HubFeed {
 public:
  // One attach between Begin and Finish/Abandon.
  class Pending {
   public:
    const std::shared_ptr<Subscription>& sub() const { return sub_; }

   private:
    friend class HubFeed;
    explicit Pending(std::shared_ptr<Subscription> sub) : sub_(std::move(sub)) {}
    const std::shared_ptr<Subscription> sub_;
    std::vector<EventPtr> kept_;
    bool open_ = true;
  };

  explicit HubFeed(Hub* hub) : hub_(hub) {}  // `hub` outlives the feed
  HubFeed(const HubFeed&) = delete;
  HubFeed& operator=(const HubFeed&) = delete;

  void Dispatch(const EventPtr& event);
  void DispatchBatch(const std::vector<EventPtr>& events);

  std::shared_ptr<Pending> Begin(std::shared_ptr<Subscription> sub);
  // Attaches p's subscription (see above). False when `p` was abandoned.
  bool Finish(const std::shared_ptr<Pending>& p, std::vector<EventPtr> catch_up, uint64_t head);
  // Forgets `p` without attaching (the broker reports the failure).
  void Abandon(const std::shared_ptr<Pending>& p);

  // Attaches pending in progress (tests).
  size_t pending() const;

 private:
  void Keep(const EventPtr& event) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Hub* const hub_;
  mutable std::mutex mu_;
  // Few at once (attaches in flight), so a linear scan per event is cheap.
  std::vector<std::shared_ptr<Pending>> pending_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ssebridge

#endif  // SSEBRIDGE_BROKER_HUB_FEED_H_
