// JsonPublish: POST /v1/publish. The body is the proto3 JSON mapping of
// PublishRequest (protobuf's own JSON util, so both doors share one schema);
// the answer is the JSON of PublishResponse, or an HTTP error with
// {"error", "message"}.
#ifndef SSEBRIDGE_PUBLISH_JSON_PUBLISH_H_
#define SSEBRIDGE_PUBLISH_JSON_PUBLISH_H_

#include <string>

#include "absl/strings/string_view.h"
#include "bridge/publish/publish_gate.h"

namespace ssebridge {

struct JsonReply {
  int status = 200;
  std::string json;
};

// `authorization` is the request's Authorization header ("" when absent);
// a bad one is a 401 before the body is looked at.
JsonReply JsonPublish(PublishGate& gate, const std::string& body, absl::string_view authorization);

}  // namespace ssebridge

#endif  // SSEBRIDGE_PUBLISH_JSON_PUBLISH_H_
