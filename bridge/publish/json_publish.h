// JsonPublish: POST /v1/publish. The body is the proto3 JSON mapping of
// PublishRequest (protobuf's own JSON util, so both doors share one schema);
// the answer is the JSON of PublishResponse, or an HTTP error with
// {"error", "message"}.
//
// The batch form (the HTTP twin of gRPC PublishBatch): a JSON array of
// PublishRequest objects, or NDJSON (one per line). It goes through
// PublishGate::PublishBatch, so each event gets the validation, channel
// grant, rate charge and id a single publish gets. The answer is 200
// {"results":[...]}: one entry per event in order, a published one shaped
// like the single answer, a failed one {"index", "error", "message"}; the
// others are still published. A body that is not such JSON, an empty batch
// (400) or one over --max_publish_batch (413) publishes nothing.
#ifndef SSEBRIDGE_PUBLISH_JSON_PUBLISH_H_
#define SSEBRIDGE_PUBLISH_JSON_PUBLISH_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "bridge/publish/publish_gate.h"

namespace ssebridge {

struct JsonReply {
  int status = 200;
  std::string json;
};

// `authorization` is the request's Authorization header ("" when absent);
// a bad one is a 401 before the body is looked at. `content_type` picks
// NDJSON (application/x-ndjson); otherwise a body opening with '[' is a
// batch and anything else a single PublishRequest.
JsonReply JsonPublish(PublishGate& gate, absl::string_view body, absl::string_view authorization,
                      absl::string_view content_type = "");

// Appends published events' answers as the JSON single publish answers:
// the same fields, names and spelling as protobuf's MessageToJsonString with
// primitive fields always printed, without its per-message reflection cost.
// One per answer being written: it formats each whole second of
// publishedAt once (a batch's events mostly share one).
class PublishResponseJson {
 public:
  void Append(const v1::PublishResponse& response, std::string* out);

 private:
  int64_t seconds_ = -1;      // the second `seconds_text_` spells; -1: none yet
  std::string seconds_text_;  // protobuf's text of it, without the final 'Z'
};

}  // namespace ssebridge

#endif  // SSEBRIDGE_PUBLISH_JSON_PUBLISH_H_
