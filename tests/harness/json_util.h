// json_util: parse the bridge's JSON answers with protobuf's JSON support
// (already linked through ssebridge_proto), so tests need no JSON library.
#ifndef SSEBRIDGE_TESTS_HARNESS_JSON_UTIL_H_
#define SSEBRIDGE_TESTS_HARNESS_JSON_UTIL_H_

#include <google/protobuf/struct.pb.h>

#include <string>
#include <vector>

#include "ssebridge/v1/bridge.pb.h"

namespace ssebridge_it {

// Parses a JSON object; false when it is not one.
bool ParseJsonObject(const std::string& json, google::protobuf::Struct* out);
// The string value of `key`, or "" when absent or not a string.
std::string JsonString(const google::protobuf::Struct& obj, const std::string& key);
// True when `key` is present with a string value.
bool HasJsonString(const google::protobuf::Struct& obj, const std::string& key);
// Parses the proto3 JSON mapping of a PublishResponse (unknown fields ok).
bool ParsePublishResponseJson(const std::string& json, ::ssebridge::v1::PublishResponse* out,
                              std::string* error);

// One entry of a batch POST /v1/publish answer's "results": a published
// event (`published`, and `error` empty) or a failed one.
struct PublishResult {
  ::ssebridge::v1::PublishResponse published;
  std::string error;    // "invalid_argument", "permission_denied", ...
  std::string message;  // "event <index>: <field>: <why>"
};
// Parses {"results":[...]}; false (with *error) when it is not that shape.
bool ParsePublishResultsJson(const std::string& json, std::vector<PublishResult>* out,
                             std::string* error);

}  // namespace ssebridge_it

#endif  // SSEBRIDGE_TESTS_HARNESS_JSON_UTIL_H_
