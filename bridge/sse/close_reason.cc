#include "bridge/sse/close_reason.h"

namespace ssebridge {

absl::string_view CloseReasonName(CloseReason reason) {
  switch (reason) {
    case CloseReason::kClientClosed:
      return "client_closed";
    case CloseReason::kSlowConsumer:
      return "slow_consumer";
    case CloseReason::kWriteError:
      return "write_error";
    case CloseReason::kShutdown:
      return "shutdown";
    case CloseReason::kDisconnectedByAdmin:
      return "disconnected_by_admin";
    case CloseReason::kAuthExpired:
      return "auth_expired";
    case CloseReason::kBrokerUnavailable:
      return "broker_unavailable";
    case CloseReason::kReplaced:
      return "replaced";
    case CloseReason::kCount:
      break;
  }
  return "unknown";
}

}  // namespace ssebridge
