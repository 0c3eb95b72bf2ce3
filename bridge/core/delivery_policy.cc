#include "bridge/core/delivery_policy.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "bridge/core/channel_pattern.h"
#include "bridge/core/names.h"

namespace ssebridge {

absl::StatusOr<DeliveryPolicy> ParseDeliveryPolicy(absl::string_view text) {
  if (text == "disconnect") return DeliveryPolicy::kDisconnect;
  if (text == "drop-oldest") return DeliveryPolicy::kDropOldest;
  if (text == "latest-only") return DeliveryPolicy::kLatestOnly;
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown policy \"", text, "\"; expected disconnect, drop-oldest or latest-only"));
}

absl::string_view DeliveryPolicyName(DeliveryPolicy policy) {
  switch (policy) {
    case DeliveryPolicy::kDisconnect:
      return "disconnect";
    case DeliveryPolicy::kDropOldest:
      return "drop-oldest";
    case DeliveryPolicy::kLatestOnly:
      return "latest-only";
  }
  return "disconnect";
}

absl::StatusOr<PolicyTable> PolicyTable::Parse(absl::string_view text, absl::string_view field) {
  PolicyTable table;
  for (absl::string_view rule : absl::StrSplit(text, ',', absl::SkipWhitespace())) {
    rule = absl::StripAsciiWhitespace(rule);
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(rule, absl::MaxSplits('=', 1));
    absl::string_view pattern = absl::StripAsciiWhitespace(kv.first);
    absl::string_view name = absl::StripAsciiWhitespace(kv.second);
    if (pattern.empty() || name.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": rule \"", rule, "\" is not pattern=policy"));
    }
    absl::string_view stem = pattern;
    if (stem != "*" && absl::EndsWith(stem, "*")) {
      stem.remove_suffix(1);
      if (!stem.empty() && !ValidateChannelName(stem, field).ok()) {
        return absl::InvalidArgumentError(absl::StrCat(field, ": bad pattern \"", pattern, "\""));
      }
    } else if (stem != "*") {
      absl::Status s = ValidateChannelName(stem, field);
      if (!s.ok()) return s;
    }
    absl::StatusOr<DeliveryPolicy> policy = ParseDeliveryPolicy(name);
    if (!policy.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(field, ": ", policy.status().message()));
    }
    table.rules_.emplace_back(std::string(pattern), *policy);
  }
  return table;
}

DeliveryPolicy PolicyTable::For(absl::string_view channel) const {
  for (const auto& [pattern, policy] : rules_) {
    if (MatchesPattern(pattern, channel)) return policy;
  }
  return DeliveryPolicy::kDisconnect;
}

}  // namespace ssebridge
