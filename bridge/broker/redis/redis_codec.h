// RedisCodec: how an event is stored in Redis and carried on pub/sub.
//
// A stored payload holds what a replica needs to rebuild the Event (type,
// data, audience, retain flag, publish time); the epoch and seq come from
// where it is found (stream entry id, retained value prefix, live message
// header). Every field is length-prefixed, so payloads may hold any byte.
#ifndef SSEBRIDGE_BROKER_REDIS_REDIS_CODEC_H_
#define SSEBRIDGE_BROKER_REDIS_REDIS_CODEC_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "bridge/core/event.h"

namespace ssebridge {

struct StoredEvent {
  std::string type;
  std::string data;
  std::vector<std::string> user_ids;
  bool retain = false;
  absl::Time published_at;
};

std::string EncodeStoredEvent(const PublishSpec& spec, absl::Time published_at);
absl::StatusOr<StoredEvent> DecodeStoredEvent(absl::string_view in);

// "<epoch> <seq>\n<payload>", as PUBLISHed by the publish script.
struct LiveMessage {
  std::string epoch;
  uint64_t seq = 0;
  absl::string_view payload;  // into the parsed text
};
bool ParseLiveMessage(absl::string_view text, LiveMessage* out);

// "<seq>\n<payload>": a retained value.
bool ParseSeqPrefixed(absl::string_view text, uint64_t* seq, absl::string_view* payload);

// "<seq>-0" (a stream entry id) -> seq.
bool ParseStreamId(absl::string_view id, uint64_t* seq);

// The Event a replica hands its hub, encoded once with `encoder`.
EventPtr BuildEvent(absl::string_view epoch, uint64_t seq, absl::string_view channel,
                    StoredEvent stored, const EventEncoder& encoder);

}  // namespace ssebridge

#endif  // SSEBRIDGE_BROKER_REDIS_REDIS_CODEC_H_
