// Broker: where published events get their id, their history and their way
// to the local Hub. The one interface a new backend (memory, Redis, ...)
// implements; front doors and stream writers only ever see this.
//
// Guarantees every implementation gives:
//   - ids are "<epoch>-<seq>", seq increasing across all channels;
//   - Attach() hands the hub a catch-up and the subscription at one point in
//     the event order: each event is in the catch-up or delivered live,
//     exactly once;
//   - a cursor that cannot be honoured yields an `ssebridge.reset` event
//     first, never a silent gap.
#ifndef SSEBRIDGE_BROKER_BROKER_H_
#define SSEBRIDGE_BROKER_BROKER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "bridge/core/event.h"
#include "bridge/core/idempotency_window.h"
#include "bridge/core/subscription.h"

namespace ssebridge {

class Broker {
 public:
  virtual ~Broker() = default;

  // `spec` must have passed ValidatePublishSpec. RESOURCE_EXHAUSTED when a
  // broker limit (channels) is reached.
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
  virtual void Attach(std::shared_ptr<Subscription> sub,
                      absl::string_view last_event_id) = 0;

  // Housekeeping: expires old history and idempotency keys.
  virtual void Sweep(absl::Time now) = 0;

  virtual std::string epoch() const = 0;

  // Whether the broker can take publishes now (/readyz). A broker with an
  // external store (Redis) says false while it cannot reach it.
  virtual bool ready() const { return true; }
};

}  // namespace ssebridge

#endif  // SSEBRIDGE_BROKER_BROKER_H_
