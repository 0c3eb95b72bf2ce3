#include "tests/harness/json_util.h"

#include <google/protobuf/util/json_util.h>

#include <string>

namespace ssebridge_it {

bool ParseJsonObject(const std::string& json, google::protobuf::Struct* out) {
  google::protobuf::util::JsonParseOptions options;
  return google::protobuf::util::JsonStringToMessage(json, out, options).ok();
}

namespace {

// Reads the fields back through protobuf's own printer rather than its
// inline Map code: under TSan, protobuf's headers lay maps out differently
// from the uninstrumented library, and touching obj.fields() crashes.
// Looks for `"key":"..."` at the top level of the printed object.
bool FindString(const google::protobuf::Struct& obj, const std::string& key, std::string* value) {
  std::string text;
  if (!google::protobuf::util::MessageToJsonString(obj, &text).ok()) return false;
  int depth = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '{' || c == '[') {
      ++depth;
      continue;
    }
    if (c == '}' || c == ']') {
      --depth;
      continue;
    }
    if (c != '"') continue;
    // A string literal: decode it.
    std::string lit;
    size_t j = i + 1;
    for (; j < text.size() && text[j] != '"'; ++j) {
      if (text[j] != '\\' || j + 1 >= text.size()) {
        lit += text[j];
        continue;
      }
      char e = text[++j];
      switch (e) {
        case 'n':
          lit += '\n';
          break;
        case 'r':
          lit += '\r';
          break;
        case 't':
          lit += '\t';
          break;
        case 'b':
          lit += '\b';
          break;
        case 'f':
          lit += '\f';
          break;
        case 'u': {
          unsigned cp = static_cast<unsigned>(std::stoul(text.substr(j + 1, 4), nullptr, 16));
          j += 4;
          if (cp < 0x80) {
            lit += static_cast<char>(cp);
          } else if (cp < 0x800) {
            lit += static_cast<char>(0xC0 | (cp >> 6));
            lit += static_cast<char>(0x80 | (cp & 0x3F));
          } else {
            lit += static_cast<char>(0xE0 | (cp >> 12));
            lit += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            lit += static_cast<char>(0x80 | (cp & 0x3F));
          }
          break;
        }
        default:
          lit += e;
      }
    }
    const bool is_key = j + 1 < text.size() && text[j + 1] == ':';
    if (!is_key && i > 1 && text[i - 1] == ':' && depth == 1) {
      // The value after a key: was that key ours?
      size_t kend = i - 2;  // closing quote of the key
      size_t kstart = text.rfind('"', kend - 1);
      if (kstart != std::string::npos && text.compare(kstart + 1, kend - kstart - 1, key) == 0) {
        *value = lit;
        return true;
      }
    }
    i = j;
  }
  return false;
}

}  // namespace

std::string JsonString(const google::protobuf::Struct& obj, const std::string& key) {
  std::string value;
  return FindString(obj, key, &value) ? value : "";
}

bool HasJsonString(const google::protobuf::Struct& obj, const std::string& key) {
  std::string value;
  return FindString(obj, key, &value);
}

bool ParsePublishResponseJson(const std::string& json, ::ssebridge::v1::PublishResponse* out,
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

namespace {

// The texts of the top-level elements of the JSON array starting at
// `json[start]` ('['); false when it does not close.
bool SplitArray(const std::string& json, size_t start, std::vector<std::string>* items) {
  int depth = 0;
  size_t item = start + 1;
  for (size_t i = start; i < json.size(); ++i) {
    const char c = json[i];
    if (c == '"') {
      for (++i; i < json.size() && json[i] != '"'; ++i) {
        if (json[i] == '\\') ++i;
      }
      continue;
    }
    if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      if (--depth == 0) {
        const std::string last = json.substr(item, i - item);
        if (last.find_first_not_of(" \n") != std::string::npos) items->push_back(last);
        return true;
      }
    } else if (c == ',' && depth == 1) {
      items->push_back(json.substr(item, i - item));
      item = i + 1;
    }
  }
  return false;
}

}  // namespace

bool ParsePublishResultsJson(const std::string& json, std::vector<PublishResult>* out,
                             std::string* error) {
  out->clear();
  const std::string prefix = "{\"results\":[";
  std::vector<std::string> items;
  if (json.compare(0, prefix.size(), prefix) != 0 || !SplitArray(json, prefix.size() - 1, &items)) {
    *error = "not {\"results\":[...]}";
    return false;
  }
  for (const std::string& item : items) {
    PublishResult result;
    google::protobuf::Struct obj;
    if (!ParseJsonObject(item, &obj)) {
      *error = "an entry is not a JSON object: " + item;
      return false;
    }
    if (HasJsonString(obj, "error")) {
      result.error = JsonString(obj, "error");
      result.message = JsonString(obj, "message");
    } else if (!ParsePublishResponseJson(item, &result.published, error)) {
      return false;
    }
    out->push_back(std::move(result));
  }
  return true;
}

}  // namespace ssebridge_it
