// Publish validation: the one place that decides whether a PublishSpec may
// be published, shared by every front door (gRPC, HTTP), so both give the
// same answer with the same field names.
#ifndef SSEBRIDGE_CORE_PUBLISH_VALIDATION_H_
#define SSEBRIDGE_CORE_PUBLISH_VALIDATION_H_

#include "absl/status/status.h"
#include "bridge/core/event.h"

namespace ssebridge {

struct PublishLimits {
  size_t max_event_bytes = 64 * 1024;
  size_t max_user_ids = 1000;
  size_t max_idempotency_key_bytes = 256;
  // Events in one client batch (gRPC PublishBatch / PublishBatchStream
  // message, a batch POST /v1/publish); more publishes none of them.
  size_t max_batch = 1000;
};

// Checks and normalises `spec` in place: an empty type becomes "message",
// repeated user ids collapse to one. INVALID_ARGUMENT names the field
// ("channel", "event", "data", "user_ids[3]", "idempotency_key").
absl::Status ValidatePublishSpec(PublishSpec* spec, const PublishLimits& limits);

}  // namespace ssebridge

#endif  // SSEBRIDGE_CORE_PUBLISH_VALIDATION_H_
