#include "bridge/core/names.h"

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace ssebridge {

absl::Status ValidateChannelName(absl::string_view name, absl::string_view field) {
  if (name.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": must not be empty"));
  }
  if (name.size() > kMaxChannelNameLength) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": longer than ", kMaxChannelNameLength, " characters"));
  }
  for (char c : name) {
    if (!IsChannelNameChar(c)) {
      return absl::InvalidArgumentError(absl::StrCat(field, ": \"", absl::CHexEscape(name),
                                                     "\" has a character outside [A-Za-z0-9_.:-]"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateEventType(absl::string_view type, absl::string_view field) {
  if (type.size() > kMaxEventTypeLength) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": longer than ", kMaxEventTypeLength, " characters"));
  }
  for (char c : type) {
    if (c == '\r' || c == '\n' || c == '\0') {
      return absl::InvalidArgumentError(absl::StrCat(field, ": must not contain CR, LF or NUL"));
    }
  }
  if (!IsValidUtf8(type)) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": not valid UTF-8"));
  }
  if (absl::StartsWith(type, kReservedEventPrefix)) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": the prefix \"", kReservedEventPrefix, "\" is reserved"));
  }
  return absl::OkStatus();
}

absl::Status ValidateUserId(absl::string_view user, absl::string_view field) {
  if (user.empty() || user.size() > kMaxUserIdLength) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": must be 1-", kMaxUserIdLength, " bytes"));
  }
  if (!IsValidUtf8(user)) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": not valid UTF-8"));
  }
  return absl::OkStatus();
}

bool IsValidUtf8(absl::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    int len;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (end - p < len) return false;
    for (int i = 1; i < len; ++i) {
      if ((p[i] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i] & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    p += len;
  }
  return true;
}

}  // namespace ssebridge
