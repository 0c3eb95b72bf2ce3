#include "bridge/core/publish_validation.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "bridge/core/names.h"

namespace ssebridge {

absl::Status ValidatePublishSpec(PublishSpec* spec, const PublishLimits& limits) {
  absl::Status s = ValidateChannelName(spec->channel, "channel");
  if (!s.ok()) return s;
  s = ValidateEventType(spec->type, "event");
  if (!s.ok()) return s;
  if (spec->type.empty()) spec->type = std::string(kDefaultEventType);
  if (spec->data.empty()) {
    return absl::InvalidArgumentError("data: must not be empty");
  }
  if (spec->data.size() > limits.max_event_bytes) {
    return absl::InvalidArgumentError(absl::StrCat("data: ", spec->data.size(),
                                                   " bytes is over the limit of ",
                                                   limits.max_event_bytes, " (--max_event_bytes)"));
  }
  if (!IsValidUtf8(spec->data)) {
    return absl::InvalidArgumentError("data: not valid UTF-8");
  }
  if (spec->user_ids.size() > limits.max_user_ids) {
    return absl::InvalidArgumentError(
        absl::StrCat("user_ids: more than ", limits.max_user_ids, " users"));
  }
  for (size_t i = 0; i < spec->user_ids.size(); ++i) {
    s = ValidateUserId(spec->user_ids[i], absl::StrCat("user_ids[", i, "]"));
    if (!s.ok()) return s;
  }
  std::sort(spec->user_ids.begin(), spec->user_ids.end());
  spec->user_ids.erase(std::unique(spec->user_ids.begin(), spec->user_ids.end()),
                       spec->user_ids.end());
  if (spec->idempotency_key.size() > limits.max_idempotency_key_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("idempotency_key: longer than ", limits.max_idempotency_key_bytes, " bytes"));
  }
  return absl::OkStatus();
}

}  // namespace ssebridge
