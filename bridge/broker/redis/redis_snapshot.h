// RedisSnapshot: the replies of the snapshot and recover scripts, parsed,
// and the catch-up a subscription gets from a snapshot (same shape as
// MemoryBroker's: replay after the cursor; or a reset notice, the retained
// values and an id-only head cursor).
#ifndef SSEBRIDGE_BROKER_REDIS_REDIS_SNAPSHOT_H_
#define SSEBRIDGE_BROKER_REDIS_REDIS_SNAPSHOT_H_

#include <hiredis/hiredis.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "bridge/core/event.h"
#include "bridge/core/subscription.h"

namespace ssebridge {

struct ScriptItem {
  size_t channel = 0;     // 0-based index into the channels asked for
  std::string stream_id;  // "<seq>-0"; empty for a retained value
  std::string payload;    // retained values: "<seq>\n<payload>"
};

struct ScriptReply {
  std::string epoch;
  uint64_t head = 0;
  std::string reason;        // snapshot script
  std::vector<int> too_old;  // recover script, per channel
  std::vector<ScriptItem> items;
};

// DATA_LOSS when the reply does not have the scripts' shape.
absl::StatusOr<ScriptReply> ParseScriptReply(const redisReply& reply);

// An item as an Event of `channels[item.channel]`; null when malformed.
EventPtr ItemEvent(const ScriptItem& item, absl::string_view epoch,
                   const std::vector<std::string>& channels, const EventEncoder& encoder);

// The catch-up for `sub` from a snapshot. `reason` overrides the reply's
// (a malformed cursor is found before asking Redis); `fresh`: no cursor.
std::vector<EventPtr> BuildCatchUp(const Subscription& sub, const ScriptReply& reply, bool fresh,
                                   absl::string_view reason, absl::string_view cursor,
                                   absl::Time now, const EventEncoder& encoder);

// The id-only block that moves a reader's cursor to `<epoch>-<head>`.
EventPtr HeadCursorEvent(absl::string_view epoch, uint64_t head, const EventEncoder& encoder);

}  // namespace ssebridge

#endif  // SSEBRIDGE_BROKER_REDIS_REDIS_SNAPSHOT_H_
