// Names: what a channel name, an event type and a user id may be.
//
// Channel names are 1-128 characters of [A-Za-z0-9_.:-]: safe in URLs, Redis
// keys and log lines without escaping. Event types may not contain line
// breaks (they would break SSE framing) and the "ssebridge." prefix is
// reserved for the bridge's own events.
#ifndef SSEBRIDGE_CORE_NAMES_H_
#define SSEBRIDGE_CORE_NAMES_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace ssebridge {

inline constexpr size_t kMaxChannelNameLength = 128;
inline constexpr size_t kMaxEventTypeLength = 64;
inline constexpr size_t kMaxUserIdLength = 256;
inline constexpr absl::string_view kReservedEventPrefix = "ssebridge.";
inline constexpr absl::string_view kResetEventType = "ssebridge.reset";
// gRPC Subscribe only: no data; the id to resume from next time.
inline constexpr absl::string_view kCursorEventType = "ssebridge.cursor";
// Last event of a stream whose credential expired: fetch a new one, resume.
inline constexpr absl::string_view kAuthExpiredEventType = "ssebridge.auth_expired";
// Last event of a stream ended by Admin.DisconnectUser.
inline constexpr absl::string_view kDisconnectedEventType = "ssebridge.disconnected";
inline constexpr absl::string_view kDefaultEventType = "message";

// A character channel names may hold: [A-Za-z0-9_.:-]. Channel patterns
// (channel_pattern.h) use the same set, so the two cannot drift apart.
inline constexpr bool IsChannelNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == ':' || c == '-';
}

// Each returns INVALID_ARGUMENT with a message naming `field`.
absl::Status ValidateChannelName(absl::string_view name, absl::string_view field);
absl::Status ValidateEventType(absl::string_view type, absl::string_view field);
absl::Status ValidateUserId(absl::string_view user, absl::string_view field);

bool IsValidUtf8(absl::string_view s);

}  // namespace ssebridge

#endif  // SSEBRIDGE_CORE_NAMES_H_
