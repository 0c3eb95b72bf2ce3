// CloseReason: why an SSE stream ended. The set is fixed, so the metric
// ssebridge_streams_closed_total{reason} has a bounded label set and every
// value is present from the first scrape (at 0):
//
//   client_closed          the reader hung up (EOF, RST, EPOLLHUP)
//   slow_consumer          its queue overflowed under the disconnect policy
//   write_error            writev failed (other than EAGAIN)
//   shutdown               the bridge is draining (SIGTERM) or stopping
//   disconnected_by_admin  Admin.DisconnectUser ended it
//   auth_expired           its credential ran out (ssebridge.auth_expired)
//   broker_unavailable     the broker could not attach it (Redis away)
//   replaced               a new stream of its user with its stream key
//                          (?stream=) took its place
//
// A new way for a stream to end adds a value here, before kCount.
#ifndef SSEBRIDGE_SSE_CLOSE_REASON_H_
#define SSEBRIDGE_SSE_CLOSE_REASON_H_

#include <cstddef>

#include "absl/strings/string_view.h"

namespace ssebridge {

enum class CloseReason {
  kClientClosed,
  kSlowConsumer,
  kWriteError,
  kShutdown,
  kDisconnectedByAdmin,
  kAuthExpired,
  kBrokerUnavailable,
  kReplaced,
  kCount,
};

inline constexpr size_t kCloseReasonCount = static_cast<size_t>(CloseReason::kCount);

absl::string_view CloseReasonName(CloseReason reason);

}  // namespace ssebridge

#endif  // SSEBRIDGE_SSE_CLOSE_REASON_H_
