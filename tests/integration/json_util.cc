#include "tests/integration/json_util.h"

#include <google/protobuf/util/json_util.h>

namespace ssebridge_it {

bool ParseJsonObject(const std::string& json, google::protobuf::Struct* out) {
  google::protobuf::util::JsonParseOptions options;
  return google::protobuf::util::JsonStringToMessage(json, out, options).ok();
}

std::string JsonString(const google::protobuf::Struct& obj,
                       const std::string& key) {
  auto it = obj.fields().find(key);
  if (it == obj.fields().end() || !it->second.has_string_value()) return "";
  return it->second.string_value();
}

bool HasJsonString(const google::protobuf::Struct& obj, const std::string& key) {
  auto it = obj.fields().find(key);
  return it != obj.fields().end() && it->second.has_string_value();
}

bool ParsePublishResponseJson(const std::string& json,
                              ::ssebridge::v1::PublishResponse* out,
                              std::string* error) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  auto status = google::protobuf::util::JsonStringToMessage(json, out, options);
  if (!status.ok()) {
    *error = std::string(status.message());
    return false;
  }
  return true;
}

}  // namespace ssebridge_it
