// Broker: where published events get their id, their history and their way
// to the local Hub. The one interface a new backend (memory, Redis, ...)
// implements; front doors, metrics and main.cc only ever see this.
//
// Guarantees every implementation gives (BrokerContractTest checks them over
// each broker the registry makes; see tests/contract):
//   - ids are "<epoch>-<seq>", seq increasing across all channels;
//   - Attach() hands the hub a catch-up and the subscription at one point in
//     the event order: each event is in the catch-up or delivered live,
//     exactly once (the hand-over itself is HubFeed's, shared by all);
//   - a cursor that cannot be honoured yields an `ssebridge.reset` event
//     first, never a silent gap;
//   - retained values: one per (channel, event type, audience); a new reader
//     gets the public ones of its channels and its own user's, and a publish
//     that would pass a retained cap is refused (RESOURCE_EXHAUSTED naming
//     the flag), never stored-then-dropped;
//   - an idempotency key replays the first outcome within its window.
//
// Lifecycle: the registry makes a broker (broker_registry.h), main.cc calls
// Start() once, Publish/Attach/Sweep from any thread, then Stop() once
// before the hub goes away: after Stop() nothing reaches the hub.
#ifndef SSEBRIDGE_BROKER_BROKER_H_
#define SSEBRIDGE_BROKER_BROKER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "bridge/core/event.h"
#include "bridge/core/idempotency_window.h"
#include "bridge/core/subscription.h"

namespace ssebridge {

// What a broker tells about itself at scrape time (/metrics, /readyz). All
// fields are this replica's view; a field a broker has no notion of stays 0.
struct BrokerMetrics {
  bool ready = true;
  uint64_t channels = 0;                  // channels holding history or retained here
  uint64_t history_bytes = 0;             // bytes of history held in this process
  uint64_t retained_values = 0;           // retained values held (memory broker)
  uint64_t retained_bytes = 0;            // their bytes, as --max_retained_bytes counts
  uint64_t history_budget_evictions = 0;  // events evicted by the global budget
  uint64_t retained_expired = 0;          // retained values swept by --retained_ttl
  uint64_t store_connects = 0;            // connections made to an external store
  uint64_t store_losses = 0;              // ... and lost
};

// Bounds on retained values, the same for every broker.
struct RetainedLimits {
  size_t max_per_channel = 1000;         // --max_retained_per_channel
  size_t max_bytes = size_t{64} << 20;   // --max_retained_bytes, all channels
  absl::Duration ttl = absl::Hours(24);  // --retained_ttl
};

class Broker {
 public:
  virtual ~Broker() = default;

  // Begins the broker's background work (a Redis broker starts connecting
  // and keeps retrying; not being connected is not an error here but a
  // `ready() == false`). Called once, before the first Publish/Attach.
  virtual absl::Status Start() { return absl::OkStatus(); }
  // Ends the background work; afterwards nothing is dispatched to the hub.
  // Idempotent. Publish/Attach after Stop() may fail with UNAVAILABLE.
  virtual void Stop() {}
  // Shutdown past its deadline: publishes still waiting on an external
  // store end now (DEADLINE_EXCEEDED: outcome unknown) instead of at their
  // command timeout, and later ones are refused. A broker that never waits
  // on anything (memory) has nothing to cancel.
  virtual void CancelInFlight() {}

  // `spec` must have passed ValidatePublishSpec. RESOURCE_EXHAUSTED naming
  // the flag when a broker limit (channels, retained caps) is reached;
  // UNAVAILABLE when the broker's store cannot be reached. An error means
  // the event was not taken.
  virtual absl::StatusOr<PublishOutcome> Publish(const PublishSpec& spec) = 0;

  // Publishes every spec in order, as Publish() would, one result each (a
  // failed spec does not stop the others). May move from `specs`. The
  // default calls Publish() per spec; a broker that can amortise its
  // locking and the hub's wake-ups over the batch overrides it.
  virtual std::vector<absl::StatusOr<PublishOutcome>> PublishBatch(
      std::vector<PublishSpec>* specs) {
    std::vector<absl::StatusOr<PublishOutcome>> out;
    out.reserve(specs->size());
    for (const PublishSpec& spec : *specs) out.push_back(Publish(spec));
    return out;
  }

  // Attaches `sub` to the hub after its catch-up: with an empty
  // `last_event_id`, the retained values of its channels; otherwise the
  // events after that id, or a reset notice and the retained values when the
  // id cannot be resumed from (malformed, other epoch, too old).
  // Not OK (UNAVAILABLE: the store is away) means `sub` was NOT attached:
  // the caller ends its reader (Hub::AttachRefused for a stream that only
  // the hub can close, or an error status on a gRPC call).
  virtual absl::Status Attach(std::shared_ptr<Subscription> sub,
                              absl::string_view last_event_id) = 0;

  // Housekeeping, about once a second: expires old history, retained
  // values and idempotency keys.
  virtual void Sweep(absl::Time now) = 0;

  virtual std::string epoch() const = 0;

  // Whether Publish/PublishBatch may wait on anything outside this process
  // (a store's round trip). One that never waits (memory) may be called on
  // an event-loop thread: the HTTP door then answers small publishes on its
  // reader thread, with no hand-off. A new broker says true until it knows.
  virtual bool publish_waits() const { return true; }

  // Whether the broker can take publishes now (/readyz). A broker with an
  // external store (Redis) says false while it cannot reach it.
  virtual bool ready() const { return true; }

  virtual BrokerMetrics metrics() const {
    BrokerMetrics m;
    m.ready = ready();
    return m;
  }
};

}  // namespace ssebridge

#endif  // SSEBRIDGE_BROKER_BROKER_H_
