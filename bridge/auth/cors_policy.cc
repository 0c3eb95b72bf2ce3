#include "bridge/auth/cors_policy.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace ssebridge {

absl::StatusOr<CorsPolicy> CorsPolicy::Parse(absl::string_view origins) {
  CorsPolicy policy;
  for (absl::string_view o : absl::StrSplit(origins, ',', absl::SkipWhitespace())) {
    o = absl::StripAsciiWhitespace(o);
    if (o == "*") {
      policy.any_ = true;
      continue;
    }
    if (!absl::StartsWith(o, "http://") && !absl::StartsWith(o, "https://")) {
      return absl::InvalidArgumentError(
          absl::StrCat("--cors_origins: \"", o, "\" is not '*' or an http(s):// origin"));
    }
    while (absl::ConsumeSuffix(&o, "/")) {
    }
    policy.origins_.emplace_back(o);
  }
  return policy;
}

CorsPolicy::Headers CorsPolicy::ForOrigin(absl::string_view origin) const {
  Headers h;
  if (origin.empty()) return h;
  for (const auto& allowed : origins_) {
    if (allowed == origin) {
      h.emplace_back("Access-Control-Allow-Origin", std::string(origin));
      h.emplace_back("Access-Control-Allow-Credentials", "true");
      h.emplace_back("Vary", "Origin");
      return h;
    }
  }
  if (any_) h.emplace_back("Access-Control-Allow-Origin", "*");
  // The answer depends on Origin: caches must not hand one origin's answer
  // to another.
  if (!origins_.empty()) h.emplace_back("Vary", "Origin");
  return h;
}

CorsPolicy::Headers CorsPolicy::ForPreflight(absl::string_view origin) const {
  Headers h = ForOrigin(origin);
  const bool allowed = std::any_of(
      h.begin(), h.end(), [](const auto& kv) { return kv.first == "Access-Control-Allow-Origin"; });
  if (!allowed) return h;
  h.emplace_back("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
  h.emplace_back("Access-Control-Allow-Headers", "Content-Type, Last-Event-ID, Authorization");
  h.emplace_back("Access-Control-Max-Age", "600");
  return h;
}

}  // namespace ssebridge
