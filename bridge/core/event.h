// Event: one published update, immutable once built and shared by every
// history slot and subscriber queue that holds it (std::shared_ptr<const>).
//
// `frame` holds the event's wire bytes, encoded exactly once by the broker's
// EventEncoder; every recipient writes those same bytes. Control frames (HTTP
// headers, heartbeats, retry hints, reset notices) are Events too, with seq 0
// and no channel, so one queue carries everything a connection writes.
#ifndef SSEBRIDGE_CORE_EVENT_H_
#define SSEBRIDGE_CORE_EVENT_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace ssebridge {

// What a backend asks to publish, before the broker gives it an id.
struct PublishSpec {
  std::string channel;
  std::string type;  // empty means "message"
  std::string data;
  std::vector<std::string> user_ids;
  bool retain = false;
  std::string idempotency_key;
};

struct Event {
  uint64_t seq = 0;  // 0 for frames that are not events
  std::string id;    // "<epoch>-<seq>"; empty for control frames
  std::string channel;
  std::string type;  // never empty for published events
  std::string data;
  std::vector<std::string> user_ids;  // empty: every subscriber of channel
  bool retain = false;
  absl::Time published_at;
  std::string frame;  // encoded wire bytes

  bool is_control() const { return type.empty(); }
  // Approximate heap footprint, for history byte limits.
  size_t footprint() const;

  static std::shared_ptr<const Event> Control(std::string frame);
};

using EventPtr = std::shared_ptr<const Event>;

// Turns an event into its wire bytes. The SSE encoder lives with the HTTP
// edge; core only needs to call it once per event.
class EventEncoder {
 public:
  virtual ~EventEncoder() = default;
  virtual std::string Encode(const Event& event) const = 0;
  // Moves the reader's resume cursor to `id` without delivering an event.
  virtual std::string EncodeCursor(const std::string& id) const = 0;
};

}  // namespace ssebridge

#endif  // SSEBRIDGE_CORE_EVENT_H_
