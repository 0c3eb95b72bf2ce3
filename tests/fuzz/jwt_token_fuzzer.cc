// Fuzz target: JwtVerifier::Verify on arbitrary bytes, against HS256, HS512,
// RS256 and ES256 keys (jwt_keys_fixture.h). Never a crash or exception;
// every refusal is UNAUTHENTICATED and its message never quotes the token;
// an accepted token (only reachable through an HMAC collision or a seed that
// is signed) gives claims that keep JwtClaims' promises.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "bridge/auth/jwt_verifier.h"
#include "bridge/core/channel_pattern.h"
#include "bridge/core/names.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/jwt_keys_fixture.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  using namespace ssebridge;
  static const JwtVerifier* verifier = [] {
    JwtVerifier::Options options;
    options.max_token_bytes = 4096;
    return new JwtVerifier(options, MakeFuzzJwtKeys());
  }();
  const std::string token(reinterpret_cast<const char*>(bytes), size);
  const absl::Time now = absl::FromUnixSeconds(1700000000);
  absl::StatusOr<JwtClaims> claims = verifier->Verify(token, now);
  if (!claims.ok()) {
    FUZZ_CHECK(absl::IsUnauthenticated(claims.status()));
    // A JWT-shaped token (base64url parts and dots) must not be quoted back;
    // shorter or other strings may well occur in a message's own words.
    const bool jwt_shaped = token.size() >= 16 && absl::StrContains(token, '.') &&
                            std::all_of(token.begin(), token.end(), [](char c) {
                              return absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
                                     c == '-' || c == '_' || c == '.';
                            });
    if (jwt_shaped) {
      FUZZ_CHECK(!absl::StrContains(claims.status().message(), token));
    }
    return 0;
  }
  FUZZ_CHECK(ValidateUserId(claims->subject, "sub").ok());
  FUZZ_CHECK(now < claims->expires_at + verifier->options().leeway);
  for (const std::string& p : claims->channels) {
    FUZZ_CHECK(ChannelPatterns::Validate(p).ok());
  }
  for (const std::string& p : claims->publish) {
    FUZZ_CHECK(ChannelPatterns::Validate(p).ok());
  }
  FUZZ_CHECK(!claims->key_id.empty());
  return 0;
}
