#include "bridge/core/channel_pattern.h"

#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "absl/hash/hash.h"
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

// Hash and equality that count their calls into `*work`.
struct CountingHash {
  size_t* work;
  size_t operator()(absl::string_view s) const {
    ++*work;
    return absl::Hash<absl::string_view>()(s);
  }
};
struct CountingEq {
  size_t* work;
  bool operator()(absl::string_view a, absl::string_view b) const {
    ++*work;
    return a == b;
  }
};

}  // namespace

absl::Status ChannelPatterns::Validate(absl::string_view pattern) {
  if (pattern.empty()) {
    return absl::InvalidArgumentError("channel pattern: must not be empty");
  }
  absl::string_view body = pattern;
  const bool is_prefix = absl::ConsumeSuffix(&body, "*");
  if (is_prefix && body.empty()) return absl::OkStatus();  // "*"
  if (body.find('*') != absl::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat("channel pattern ", Quoted(pattern),
                                                   ": '*' is only allowed once, at the end"));
  }
  if (body.size() > kMaxChannelNameLength) {
    return absl::InvalidArgumentError(absl::StrCat("channel pattern ", Quoted(pattern),
                                                   ": longer than ", kMaxChannelNameLength,
                                                   " characters"));
  }
  if (!std::all_of(body.begin(), body.end(), IsChannelNameChar)) {
    return absl::InvalidArgumentError(absl::StrCat("channel pattern ", Quoted(pattern),
                                                   ": has a character outside [A-Za-z0-9_.:-]"));
  }
  return absl::OkStatus();
}

absl::StatusOr<ChannelPatterns> ChannelPatterns::FromList(const std::vector<std::string>& patterns,
                                                          size_t* work) {
  size_t ignored = 0;
  if (work == nullptr) work = &ignored;
  ChannelPatterns set;
  set.patterns_.reserve(patterns.size());
  // Views into `patterns`, which outlives the set.
  absl::flat_hash_set<absl::string_view, CountingHash, CountingEq> seen(
      patterns.size(), CountingHash{work}, CountingEq{work});
  for (const std::string& p : patterns) {
    absl::Status valid = Validate(p);
    if (!valid.ok()) return valid;
    if (!seen.insert(p).second) continue;
    if (p == "*") set.matches_all_ = true;
    set.patterns_.push_back(p);
  }
  return set;
}

absl::StatusOr<ChannelPatterns> ChannelPatterns::Parse(absl::string_view comma_separated) {
  if (absl::StripAsciiWhitespace(comma_separated).empty()) {
    return ChannelPatterns();
  }
  std::vector<std::string> items;
  for (absl::string_view item : absl::StrSplit(comma_separated, ',')) {
    item = absl::StripAsciiWhitespace(item);
    if (item.empty()) {
      return absl::InvalidArgumentError("channel patterns: empty item in the comma-separated list");
    }
    items.emplace_back(item);
  }
  return FromList(items);
}

bool MatchesPattern(absl::string_view pattern, absl::string_view channel) {
  if (channel.empty() || pattern.empty()) return false;
  if (pattern.back() == '*') {
    return absl::StartsWith(channel, pattern.substr(0, pattern.size() - 1));
  }
  return channel == pattern;
}

bool ChannelPatterns::Matches(absl::string_view channel) const {
  if (matches_all_) return !channel.empty();
  for (const std::string& p : patterns_) {
    if (MatchesPattern(p, channel)) return true;
  }
  return false;
}

}  // namespace ssebridge
