// EventId: the "<epoch>-<seq>" identity of a published event.
//
// The epoch names one lifetime of a broker's history: it changes whenever
// history is lost (a memory broker restarting), so a cursor from another
// lifetime is detected and never trusted. Sequence numbers are assigned in
// publish order across every channel of the bridge, so one cursor resumes a
// connection on several channels at once.
#ifndef SSEBRIDGE_CORE_EVENT_ID_H_
#define SSEBRIDGE_CORE_EVENT_ID_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ssebridge {

struct EventId {
  std::string epoch;  // [0-9a-z]{1,32}
  uint64_t seq = 0;

  std::string ToString() const;
  bool operator==(const EventId& o) const { return seq == o.seq && epoch == o.epoch; }
};

// Parses "<epoch>-<seq>". INVALID_ARGUMENT names `field` on any malformation.
absl::StatusOr<EventId> ParseEventId(absl::string_view text, absl::string_view field);

// A fresh epoch: base-36 of the wall clock in microseconds mixed with
// randomness, so two restarts never share one.
std::string NewEpoch();

}  // namespace ssebridge

#endif  // SSEBRIDGE_CORE_EVENT_ID_H_
