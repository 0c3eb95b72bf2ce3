// JsonBatchBody: the body of a batch POST /v1/publish, split into the text of
// its events without copying them. Two spellings: a JSON array of objects,
// or NDJSON (Content-Type: application/x-ndjson; one object per line, blank
// lines ignored).
//
// The whole body's JSON syntax and shape are checked here, before anything
// is published, so a body that is not JSON (or a line that is not one
// object) publishes nothing. What each object says is left to protobuf's
// proto3 JSON parser, event by event, so one bad object fails alone. The
// count is checked while scanning: the scan stops at the first event past
// the limit, so a body of many tiny items costs no more than the limit.
//
// The views point into `body`, which must outlive them.
#ifndef SSEBRIDGE_PUBLISH_JSON_BATCH_BODY_H_
#define SSEBRIDGE_PUBLISH_JSON_BATCH_BODY_H_

#include <cstddef>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace ssebridge {

enum class BatchFormat { kJsonArray, kNdjson };

// Objects nested deeper than this (inside an event) make the body invalid;
// a PublishRequest has no nested messages, so real events never come close.
inline constexpr int kMaxBatchJsonDepth = 32;

// Fills `events` with each event's object text, in order.
// INVALID_ARGUMENT ("body: ..." or "line N: ..."): not JSON, not an array
// of objects, a line that is not exactly one object, or no event at all.
// OUT_OF_RANGE: more than `max_events` events (`events` is then partial).
absl::Status SplitBatchBody(absl::string_view body, BatchFormat format, size_t max_events,
                            std::vector<absl::string_view>* events);

// True when `body`, after JSON whitespace, opens a JSON array: the batch
// spelling of an application/json body (a single object is not a batch).
bool LooksLikeJsonArray(absl::string_view body);

// True for "application/x-ndjson", any case, with or without parameters.
bool IsNdjsonContentType(absl::string_view content_type);

// A body of one event and at most kShortPublishBytes: parsed, published
// (by a broker that never waits) and answered in tens of microseconds, so
// cheap enough for an event-loop thread. A batch (up to
// --max_publish_batch events, and an answer as long) is not.
inline constexpr size_t kShortPublishBytes = 16 * 1024;
bool IsShortSinglePublish(absl::string_view body, absl::string_view content_type);

}  // namespace ssebridge

#endif  // SSEBRIDGE_PUBLISH_JSON_BATCH_BODY_H_
