#include "bridge/auth/jwt_verifier.h"

#include <cmath>
#include <exception>
#include <nlohmann/json.hpp>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "bridge/core/channel_pattern.h"
#include "bridge/core/names.h"

namespace ssebridge {
namespace {

using nlohmann::json;

absl::Status Unauthenticated(absl::string_view why) { return absl::UnauthenticatedError(why); }

absl::Status Malformed(absl::string_view why) {
  return absl::UnauthenticatedError(absl::StrCat("malformed token: ", why));
}

// Header values are attacker-chosen; echo little of them, escaped.
std::string Echo(absl::string_view s) {
  constexpr size_t kMax = 64;
  std::string out = absl::CHexEscape(s.substr(0, kMax));
  if (s.size() > kMax) out += "...";
  return out;
}

// The non-throwing parse: a discarded value on any syntax error (including
// invalid UTF-8 in strings).
bool ParseObject(absl::string_view text, json* out) {
  *out = json::parse(text.begin(), text.end(), nullptr,
                     /*allow_exceptions=*/false);
  return out->is_object();
}

// NumericDate: seconds since the epoch, integer or fractional. Values past
// what absl::Time holds saturate to the infinite future/past.
bool ReadNumericDate(const json& value, absl::Time* out) {
  if (value.is_number_unsigned()) {
    uint64_t v = value.get<uint64_t>();
    *out = v > static_cast<uint64_t>(INT64_MAX) ? absl::InfiniteFuture()
                                                : absl::FromUnixSeconds(static_cast<int64_t>(v));
    return true;
  }
  if (value.is_number_integer()) {
    *out = absl::FromUnixSeconds(value.get<int64_t>());
    return true;
  }
  if (value.is_number_float()) {
    double v = value.get<double>();
    if (!std::isfinite(v)) return false;
    *out = absl::UnixEpoch() + absl::Seconds(v);  // saturates
    return true;
  }
  return false;
}

// "channels" / "publish": an array of strings or one space-separated string;
// every item must be a valid channel pattern.
absl::Status ReadPatterns(const json& value, absl::string_view claim,
                          std::vector<std::string>* out) {
  out->clear();
  if (value.is_string()) {
    for (absl::string_view item :
         absl::StrSplit(value.get_ref<const std::string&>(), ' ', absl::SkipEmpty())) {
      out->emplace_back(item);
    }
  } else if (value.is_array()) {
    for (const json& item : value) {
      if (!item.is_string()) {
        return Malformed(absl::StrCat("claim '", claim, "' must hold only strings"));
      }
      out->push_back(item.get<std::string>());
    }
  } else {
    return Malformed(absl::StrCat("claim '", claim, "' must be an array of strings or a string"));
  }
  for (const std::string& p : *out) {
    absl::Status valid = ChannelPatterns::Validate(p);
    if (!valid.ok()) {
      return Unauthenticated(absl::StrCat("invalid claim '", claim, "': ", valid.message()));
    }
  }
  return absl::OkStatus();
}

bool AudienceContains(const json& aud, const std::string& wanted) {
  if (aud.is_string()) return aud.get_ref<const std::string&>() == wanted;
  if (!aud.is_array()) return false;
  for (const json& item : aud) {
    if (item.is_string() && item.get_ref<const std::string&>() == wanted) {
      return true;
    }
  }
  return false;
}

}  // namespace

bool DecodeBase64UrlStrict(absl::string_view in, std::string* out) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
  };
  out->clear();
  if (in.size() % 4 == 1) return false;  // no whole byte in the last group
  out->reserve(in.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v = value(c);
    if (v < 0) return false;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  // Leftover bits (2 or 4) must be zero: "AB" and "AC" may not both decode.
  return (acc & ((1u << bits) - 1)) == 0;
}

JwtVerifier::JwtVerifier(Options options, std::shared_ptr<const JwtKeySet> keys)
    : options_(std::move(options)), keys_(std::move(keys)) {}

absl::StatusOr<JwtClaims> JwtVerifier::Verify(absl::string_view token, absl::Time now) const try {
  if (!has_keys()) return Unauthenticated("no JWT keys are configured");
  if (token.empty()) return Malformed("empty");
  if (token.size() > options_.max_token_bytes) {
    return Malformed(absl::StrCat("longer than ", options_.max_token_bytes, " bytes"));
  }
  std::vector<absl::string_view> parts = absl::StrSplit(token, '.');
  if (parts.size() != 3) {
    return Malformed(absl::StrCat("expected 3 dot-separated parts, got ", parts.size()));
  }

  // 1. Header: which key and algorithm.
  std::string header_text;
  if (!DecodeBase64UrlStrict(parts[0], &header_text)) {
    return Malformed("header is not unpadded base64url");
  }
  json header;
  if (!ParseObject(header_text, &header)) {
    return Malformed("header is not a JSON object");
  }
  auto alg_it = header.find("alg");
  if (alg_it == header.end() || !alg_it->is_string()) {
    return Malformed("header has no string 'alg'");
  }
  absl::StatusOr<JwtAlgorithm> alg = ParseJwtAlgorithm(alg_it->get_ref<const std::string&>());
  if (!alg.ok()) return Unauthenticated(alg.status().message());
  auto typ_it = header.find("typ");
  if (typ_it != header.end() &&
      (!typ_it->is_string() ||
       (absl::AsciiStrToUpper(typ_it->get_ref<const std::string&>()) != "JWT" &&
        absl::AsciiStrToUpper(typ_it->get_ref<const std::string&>()) != "AT+JWT"))) {
    // RFC 9068 access tokens are "at+jwt"; several identity providers send it.
    return Malformed("header 'typ' is present and not \"JWT\" or \"at+jwt\"");
  }
  if (header.contains("crit")) {
    // RFC 7515 4.1.11: extensions we do not understand must be rejected.
    return Unauthenticated("header parameter 'crit' is not supported");
  }
  std::vector<const JwtKey*> candidates;
  auto kid_it = header.find("kid");
  if (kid_it != header.end()) {
    if (!kid_it->is_string()) return Malformed("header 'kid' is not a string");
    const std::string& kid = kid_it->get_ref<const std::string&>();
    const JwtKey* key = keys_->Find(kid);
    if (key == nullptr) {
      return Unauthenticated(absl::StrCat("unknown kid '", Echo(kid), "'"));
    }
    if (key->algorithm() != *alg) {
      return Unauthenticated(absl::StrCat("algorithm ", JwtAlgorithmName(*alg),
                                          " not allowed for key '", Echo(kid), "' (it is bound to ",
                                          JwtAlgorithmName(key->algorithm()), ")"));
    }
    candidates.push_back(key);
  } else {
    candidates = keys_->ForAlgorithm(*alg);
    if (candidates.empty()) {
      return Unauthenticated(absl::StrCat("no key accepts algorithm ", JwtAlgorithmName(*alg)));
    }
  }

  // 2. Signature over the encoded "header.payload", before any claim is read.
  std::string signature;
  if (!DecodeBase64UrlStrict(parts[2], &signature)) {
    return Malformed("signature is not unpadded base64url");
  }
  const absl::string_view signing_input = token.substr(0, parts[0].size() + 1 + parts[1].size());
  const JwtKey* verified_by = nullptr;
  for (const JwtKey* key : candidates) {
    if (key->Verifies(signing_input, signature)) {
      verified_by = key;
      break;
    }
  }
  if (verified_by == nullptr) return Unauthenticated("signature does not verify");

  // 3. Claims, now that they are known to come from a key holder.
  std::string payload_text;
  if (!DecodeBase64UrlStrict(parts[1], &payload_text)) {
    return Malformed("payload is not unpadded base64url");
  }
  json payload;
  if (!ParseObject(payload_text, &payload)) {
    return Malformed("payload is not a JSON object");
  }
  JwtClaims claims;
  claims.key_id = verified_by->kid();

  auto exp_it = payload.find("exp");
  if (exp_it != payload.end()) {
    if (!ReadNumericDate(*exp_it, &claims.expires_at)) {
      return Malformed("claim 'exp' is not a number");
    }
  } else if (options_.require_exp) {
    return Unauthenticated("token has no 'exp' claim and one is required");
  }
  auto nbf_it = payload.find("nbf");
  if (nbf_it != payload.end() && !ReadNumericDate(*nbf_it, &claims.not_before)) {
    return Malformed("claim 'nbf' is not a number");
  }
  if (now >= claims.expires_at + options_.leeway) {
    return Unauthenticated(absl::StrCat("token expired at ",
                                        absl::FormatTime(claims.expires_at, absl::UTCTimeZone())));
  }
  if (now + options_.leeway < claims.not_before) {
    return Unauthenticated(absl::StrCat("token not valid before ",
                                        absl::FormatTime(claims.not_before, absl::UTCTimeZone())));
  }

  if (!options_.issuer.empty()) {
    auto iss_it = payload.find("iss");
    if (iss_it == payload.end() || !iss_it->is_string() ||
        iss_it->get_ref<const std::string&>() != options_.issuer) {
      return Unauthenticated("claim 'iss' does not match the configured issuer");
    }
  }
  if (!options_.audience.empty()) {
    auto aud_it = payload.find("aud");
    if (aud_it == payload.end() || !AudienceContains(*aud_it, options_.audience)) {
      return Unauthenticated("claim 'aud' does not contain the configured audience");
    }
  }

  auto sub_it = payload.find("sub");
  if (sub_it == payload.end() || !sub_it->is_string()) {
    return Unauthenticated("token has no string 'sub' claim");
  }
  claims.subject = sub_it->get<std::string>();
  absl::Status sub_ok = ValidateUserId(claims.subject, "claim 'sub'");
  if (!sub_ok.ok()) return Unauthenticated(sub_ok.message());

  auto channels_it = payload.find("channels");
  if (channels_it != payload.end()) {
    absl::Status ok = ReadPatterns(*channels_it, "channels", &claims.channels);
    if (!ok.ok()) return ok;
  }
  auto publish_it = payload.find("publish");
  if (publish_it != payload.end()) {
    claims.has_publish = true;
    absl::Status ok = ReadPatterns(*publish_it, "publish", &claims.publish);
    if (!ok.ok()) return ok;
  }
  return claims;
} catch (const std::exception&) {
  // nlohmann only throws on misuse we guard against; never let it escape.
  return Unauthenticated("malformed token: could not be parsed");
}

}  // namespace ssebridge
