#include "bridge/publish/json_publish.h"

#include <google/protobuf/util/json_util.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "bridge/core/json_text.h"

namespace ssebridge {
namespace {

JsonReply Error(int status, absl::string_view code, absl::string_view message) {
  return {status,
          absl::StrCat("{\"error\":", JsonQuote(code), ",\"message\":", JsonQuote(message), "}\n")};
}

int HttpStatusFor(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kInvalidArgument:
      return 400;
    case absl::StatusCode::kUnauthenticated:
      return 401;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kResourceExhausted:
      return 429;
    case absl::StatusCode::kUnavailable:
      return 503;  // not stored
    case absl::StatusCode::kDeadlineExceeded:
      return 504;  // outcome unknown
    default:
      return 500;
  }
}

std::string SnakeCase(absl::StatusCode code) {
  std::string name = absl::StatusCodeToString(code);  // "INVALID_ARGUMENT"
  for (char& c : name) c = static_cast<char>(std::tolower(c));
  return name;
}

}  // namespace

JsonReply JsonPublish(PublishGate& gate, const std::string& body, absl::string_view authorization) {
  ScopedLatency timed(gate.latency(PublishDoor::kHttp));
  absl::StatusOr<PublisherIdentity> who = gate.auth().Authenticate(authorization, absl::Now());
  if (!who.ok()) {
    return Error(HttpStatusFor(who.status().code()), SnakeCase(who.status().code()),
                 who.status().message());
  }
  v1::PublishRequest request;
  google::protobuf::util::JsonParseOptions parse;
  parse.ignore_unknown_fields = false;
  auto parsed = google::protobuf::util::JsonStringToMessage(body, &request, parse);
  if (!parsed.ok()) {
    return Error(
        400, "invalid_json",
        absl::StrCat("body: not a PublishRequest in proto3 JSON: ", std::string(parsed.message())));
  }
  absl::StatusOr<v1::PublishResponse> result = gate.Publish(request, *who);
  if (!result.ok()) {
    return Error(HttpStatusFor(result.status().code()), SnakeCase(result.status().code()),
                 result.status().message());
  }
  std::string json;
  google::protobuf::util::JsonPrintOptions print;
  print.always_print_primitive_fields = true;
  (void)google::protobuf::util::MessageToJsonString(*result, &json, print);
  json += "\n";
  return {200, std::move(json)};
}

}  // namespace ssebridge
