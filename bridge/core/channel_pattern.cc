#include "bridge/core/channel_pattern.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "bridge/core/names.h"

namespace ssebridge {
namespace {

// Patterns come from tokens and config files; bound what an error echoes.
std::string Quoted(absl::string_view pattern) {
  constexpr size_t kMaxEcho = 64;
  std::string out = absl::StrCat("\"", absl::CHexEscape(pattern.substr(0, kMaxEcho)));
  if (pattern.size() > kMaxEcho) absl::StrAppend(&out, "...");
  absl::StrAppend(&out, "\"");
  return out;
}

}  // namespace

absl::Status ChannelPatterns::Validate(absl::string_view pattern) {
  if (pattern.empty()) {
    return absl::InvalidArgumentError("channel pattern: must not be empty");
  }
  absl::string_view body = pattern;
  const bool is_prefix = absl::ConsumeSuffix(&body, "*");
  if (is_prefix && body.empty()) return absl::OkStatus();  // "*"
  if (body.find('*') != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("channel pattern ", Quoted(pattern),
                     ": '*' is only allowed once, at the end"));
  }
  if (body.size() > kMaxChannelNameLength) {
    return absl::InvalidArgumentError(
        absl::StrCat("channel pattern ", Quoted(pattern), ": longer than ",
                     kMaxChannelNameLength, " characters"));
  }
  if (!std::all_of(body.begin(), body.end(), IsChannelNameChar)) {
    return absl::InvalidArgumentError(
        absl::StrCat("channel pattern ", Quoted(pattern),
                     ": has a character outside [A-Za-z0-9_.:-]"));
  }
  return absl::OkStatus();
}

absl::StatusOr<ChannelPatterns> ChannelPatterns::FromList(
    const std::vector<std::string>& patterns) {
  ChannelPatterns set;
  for (const std::string& p : patterns) {
    absl::Status valid = Validate(p);
    if (!valid.ok()) return valid;
    if (std::find(set.patterns_.begin(), set.patterns_.end(), p) !=
        set.patterns_.end()) {
      continue;
    }
    if (p == "*") set.matches_all_ = true;
    set.patterns_.push_back(p);
  }
  return set;
}

absl::StatusOr<ChannelPatterns> ChannelPatterns::Parse(
    absl::string_view comma_separated) {
  if (absl::StripAsciiWhitespace(comma_separated).empty()) {
    return ChannelPatterns();
  }
  std::vector<std::string> items;
  for (absl::string_view item : absl::StrSplit(comma_separated, ',')) {
    item = absl::StripAsciiWhitespace(item);
    if (item.empty()) {
      return absl::InvalidArgumentError(
          "channel patterns: empty item in the comma-separated list");
    }
    items.emplace_back(item);
  }
  return FromList(items);
}

bool ChannelPatterns::Matches(absl::string_view channel) const {
  if (matches_all_) return !channel.empty();
  for (const std::string& p : patterns_) {
    if (p.back() == '*') {
      if (absl::StartsWith(channel,
                           absl::string_view(p.data(), p.size() - 1))) {
        return true;
      }
    } else if (channel == p) {
      return true;
    }
  }
  return false;
}

}  // namespace ssebridge
