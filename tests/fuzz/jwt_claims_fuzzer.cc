// Fuzz target: JWT acceptance, structured. The input picks a header (alg,
// typ, kid, crit), claims (sub, exp, nbf, iss, aud, channels, publish, in
// right and wrong JSON types) and a signing mode (the right HS256 key, a
// wrong key, a flipped signature bit, a header naming another algorithm or
// an unknown kid); the token is signed here with OpenSSL's HMAC. Verify must
// accept exactly when the signature is valid and a reference restatement of
// jwt_verifier.h's claim rules accepts, and then return those claims.
#include <fuzzer/FuzzedDataProvider.h>
#include <openssl/evp.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "bridge/auth/jwt_verifier.h"
#include "bridge/core/channel_pattern.h"
#include "bridge/core/names.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/jwt_keys_fixture.h"

namespace ssebridge {
namespace {

using nlohmann::json;

constexpr int64_t kNow = 1700000000;
constexpr int64_t kLeeway = 30;

// Printable, valid UTF-8 (nlohmann refuses to dump anything else); may be
// empty or hold spaces, '*', ',' and the like.
std::string SmallString(FuzzedDataProvider& in, size_t max) {
  std::string s;
  for (char c : in.ConsumeRandomLengthString(max)) {
    if (static_cast<unsigned char>(c) < 0x80 && c != '\0') s += c;
  }
  return s;
}

// A claim value of any JSON type; `ok_string` is the string it holds when
// it is one.
json AnyValue(FuzzedDataProvider& in, std::string* as_string) {
  switch (in.ConsumeIntegralInRange<int>(0, 5)) {
    case 0:
      *as_string = SmallString(in, 40);
      return *as_string;
    case 1:
      return in.ConsumeIntegral<int64_t>();
    case 2:
      return json::array({SmallString(in, 10)});
    case 3:
      return nullptr;
    case 4:
      return json::object();
    default:
      return in.ConsumeBool();
  }
}

// NumericDate: a reference verdict of "now < t + leeway" style checks is
// kept as a long double beside the JSON value; nullopt for non-numbers.
struct Date {
  json value;
  bool is_number = false;
  long double seconds = 0;
};

Date AnyDate(FuzzedDataProvider& in) {
  Date d;
  d.is_number = true;
  switch (in.ConsumeIntegralInRange<int>(0, 6)) {
    case 0: {
      int64_t v = kNow + in.ConsumeIntegralInRange<int64_t>(-100, 100);
      d.value = v;
      d.seconds = static_cast<long double>(v);
      break;
    }
    case 1: {  // halves are exact in a double
      double v = static_cast<double>(kNow) +
                 static_cast<double>(in.ConsumeIntegralInRange<int>(-200, 200)) / 2;
      d.value = v;
      d.seconds = v;
      break;
    }
    case 2: {
      int64_t v = in.ConsumeIntegral<int64_t>();
      d.value = v;
      d.seconds = static_cast<long double>(v);
      break;
    }
    case 3: {
      uint64_t v = in.ConsumeIntegral<uint64_t>();
      d.value = v;
      d.seconds = static_cast<long double>(v);
      break;
    }
    case 4: {
      double v = in.ConsumeBool() ? 1e300 : -1e300;
      d.value = v;
      d.seconds = v;
      break;
    }
    default: {
      std::string ignored;
      d.value = AnyValue(in, &ignored);
      d.is_number = d.value.is_number();
      d.seconds = d.is_number ? static_cast<long double>(d.value.get<double>()) : 0;
      break;
    }
  }
  return d;
}

// A "channels"/"publish" claim and whether jwt_verifier.h's rules take it:
// an array of strings or a space-separated string, every item a valid
// pattern. *items gets the patterns.
json AnyPatterns(FuzzedDataProvider& in, bool* valid, std::vector<std::string>* items) {
  static const char* kPieces[] = {"tasks", "user.1.*", "*",       "a*b",  "",
                                  " ",     "x y",      "dash-ok", "bad!", "public.*"};
  items->clear();
  const int shape = in.ConsumeIntegralInRange<int>(0, 3);
  const size_t n = in.ConsumeIntegralInRange<size_t>(0, 4);
  std::vector<std::string> parts;
  for (size_t i = 0; i < n; ++i) {
    parts.push_back(in.ConsumeBool() ? kPieces[in.ConsumeIntegralInRange<size_t>(0, 9)]
                                     : SmallString(in, 12));
  }
  if (shape == 0) {  // array of strings
    *items = parts;
    *valid = true;
    for (const std::string& p : parts) *valid &= ChannelPatterns::Validate(p).ok();
    return parts;
  }
  if (shape == 1) {  // one space-separated string
    std::string joined = absl::StrJoin(parts, " ");
    for (absl::string_view item : absl::StrSplit(joined, ' ', absl::SkipEmpty())) {
      items->emplace_back(item);
    }
    *valid = true;
    for (const std::string& p : *items) *valid &= ChannelPatterns::Validate(p).ok();
    return joined;
  }
  *valid = false;
  if (shape == 2) return json::array({1, "tasks"});
  return 7;
}

std::string B64(absl::string_view s) { return absl::WebSafeBase64Escape(s); }

std::string HmacSha256(const std::string& key, absl::string_view input) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  size_t len = 0;
  FUZZ_CHECK(EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, key.data(), key.size(),
                       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac,
                       sizeof(mac), &len) != nullptr);
  return std::string(reinterpret_cast<char*>(mac), len);
}

}  // namespace
}  // namespace ssebridge

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  using namespace ssebridge;
  static const JwtVerifier* verifier = [] {
    JwtVerifier::Options options;
    options.issuer = "iss-1";
    options.audience = "aud-1";
    options.leeway = absl::Seconds(kLeeway);
    return new JwtVerifier(options, MakeFuzzJwtKeys());
  }();
  FuzzedDataProvider in(bytes, size);
  bool accept = true;

  // Header.
  json header = json::object();
  const int alg = in.ConsumeIntegralInRange<int>(0, 3);  // HS256, HS512, none, RS256
  header["alg"] = alg == 0 ? "HS256" : alg == 1 ? "HS512" : alg == 2 ? "none" : "RS256";
  accept &= alg == 0;  // only HS256 is what we sign with
  if (in.ConsumeBool()) {
    std::string typ;
    header["typ"] = in.ConsumeBool()   ? json("jwt")
                    : in.ConsumeBool() ? json("at+JWT")
                                       : AnyValue(in, &typ);
    const json& t = header["typ"];
    accept &= t.is_string() && (absl::AsciiStrToUpper(t.get<std::string>()) == "JWT" ||
                                absl::AsciiStrToUpper(t.get<std::string>()) == "AT+JWT");
  }
  const int kid = in.ConsumeIntegralInRange<int>(0, 3);  // none, k1, k2, unknown
  if (kid == 1) header["kid"] = "k1";
  if (kid == 2) header["kid"] = "k2";
  if (kid == 3) header["kid"] = SmallString(in, 8) + "?";
  accept &= kid <= 1;
  if (in.ConsumeIntegralInRange<int>(0, 7) == 0) {
    header["crit"] = json::array({"exp"});
    accept = false;
  }

  // Claims.
  json claims = json::object();
  std::string sub;
  if (in.ConsumeIntegralInRange<int>(0, 7) != 0) {
    claims["sub"] = AnyValue(in, &sub);
    accept &= claims["sub"].is_string() && ValidateUserId(sub, "sub").ok();
  } else {
    accept = false;
  }
  long double exp = INFINITY;
  if (in.ConsumeBool()) {
    Date d = AnyDate(in);
    claims["exp"] = d.value;
    accept &= d.is_number && static_cast<long double>(kNow) < d.seconds + kLeeway;
    exp = d.seconds;
  }
  if (in.ConsumeBool()) {
    Date d = AnyDate(in);
    claims["nbf"] = d.value;
    accept &= d.is_number && static_cast<long double>(kNow + kLeeway) >= d.seconds;
  }
  if (in.ConsumeIntegralInRange<int>(0, 5) != 0) {
    claims["iss"] = "iss-1";
  } else if (in.ConsumeBool()) {
    std::string iss;
    claims["iss"] = AnyValue(in, &iss);
    accept &= claims["iss"] == "iss-1";
  } else {
    accept = false;
  }
  switch (in.ConsumeIntegralInRange<int>(0, 4)) {
    case 0:
      accept = false;
      break;  // no aud
    case 1:
      claims["aud"] = "aud-1";
      break;
    case 2:
      claims["aud"] = json::array({"other", "aud-1"});
      break;
    case 3:
      claims["aud"] = json::array({"other", 1});
      accept = false;
      break;
    default: {
      std::string aud;
      const json value = AnyValue(in, &aud);
      claims["aud"] = value;
      bool contains = value == "aud-1";
      if (value.is_array()) {
        for (const json& item : value) contains |= item == "aud-1";
      }
      accept &= contains;
    }
  }
  std::vector<std::string> channels, publish;
  bool has_channels = in.ConsumeBool(), has_publish = in.ConsumeBool();
  if (has_channels) {
    bool valid;
    claims["channels"] = AnyPatterns(in, &valid, &channels);
    accept &= valid;
  }
  if (has_publish) {
    bool valid;
    claims["publish"] = AnyPatterns(in, &valid, &publish);
    accept &= valid;
  }

  // Signature.
  const std::string signing_input = B64(header.dump()) + "." + B64(claims.dump());
  std::string signature = HmacSha256(FuzzHs256Secret(), signing_input);
  switch (in.ConsumeIntegralInRange<int>(0, 5)) {
    case 0:
      signature = HmacSha256(FuzzHs256Secret() + "!", signing_input);
      accept = false;
      break;
    case 1: {
      const size_t bit = in.ConsumeIntegralInRange<size_t>(0, signature.size() * 8 - 1);
      signature[bit / 8] = static_cast<char>(signature[bit / 8] ^ (1 << (bit % 8)));
      accept = false;
      break;
    }
    case 2:
      signature.pop_back();
      accept = false;
      break;
    default:
      break;
  }
  const std::string token = signing_input + "." + B64(signature);

  absl::StatusOr<JwtClaims> got = verifier->Verify(token, absl::FromUnixSeconds(kNow));
  if (accept != got.ok()) {
    std::fprintf(stderr, "expected %s: %s\nheader %s\nclaims %s\n", accept ? "accept" : "refuse",
                 got.status().ToString().c_str(), header.dump().c_str(), claims.dump().c_str());
  }
  FUZZ_CHECK(accept == got.ok());
  if (!got.ok()) {
    FUZZ_CHECK(absl::IsUnauthenticated(got.status()));
    return 0;
  }
  FUZZ_CHECK(got->subject == sub);
  FUZZ_CHECK(got->key_id == "k1");
  FUZZ_CHECK(got->channels == channels);
  FUZZ_CHECK(got->has_publish == has_publish);
  FUZZ_CHECK(got->publish == publish);
  if (std::isinf(exp)) {
    FUZZ_CHECK(got->expires_at == absl::InfiniteFuture());
  }
  return 0;
}
