// ResetNotice: the `ssebridge.reset` event a broker sends first when it
// cannot resume a subscription from its cursor, so the page knows to refetch
// state. It carries the broker's current head id, so the reader's next
// reconnect resumes from here instead of resetting again.
#ifndef SSEBRIDGE_BROKER_RESET_NOTICE_H_
#define SSEBRIDGE_BROKER_RESET_NOTICE_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "bridge/core/event.h"

namespace ssebridge {

// Why a cursor could not be honoured; also the JSON "reason" value.
inline constexpr absl::string_view kResetMalformed = "malformed_cursor";
inline constexpr absl::string_view kResetUnknownEpoch = "unknown_epoch";
inline constexpr absl::string_view kResetTooOld = "cursor_too_old";
inline constexpr absl::string_view kResetAhead = "cursor_ahead";

// data: {"reason":"...","cursor":"<what the reader sent>","head":"<id>"}
EventPtr MakeResetNotice(absl::string_view epoch, uint64_t head_seq, absl::string_view reason,
                         absl::string_view cursor, absl::Time now, const EventEncoder& encoder);

}  // namespace ssebridge

#endif  // SSEBRIDGE_BROKER_RESET_NOTICE_H_
