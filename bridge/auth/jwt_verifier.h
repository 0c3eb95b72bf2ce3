// JwtVerifier: checks a compact-serialised JWS (RFC 7515/7519) against a
// JwtKeySet and returns the claims the bridge uses.
//
// The order is the security argument: the token is size-limited, split into
// exactly three strict base64url parts and its header parsed; the header's
// `alg` must equal the algorithm the chosen key was loaded with (see
// jwt_keys.h); the signature is verified over the encoded "header.payload"
// bytes; only then is the payload parsed and trusted. exp/nbf are checked
// with a leeway, iss/aud when configured.
//
// Every failure is UNAUTHENTICATED with a message meant for whoever debugs a
// 401 ("token expired", "signature does not verify", "unknown kid 'k9'"); no
// message contains the token or key material. No exception escapes.
//
// Immutable after construction and safe to call from any number of threads.
// Shares ownership of its key set.
#ifndef SSEBRIDGE_AUTH_JWT_VERIFIER_H_
#define SSEBRIDGE_AUTH_JWT_VERIFIER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "bridge/auth/jwt_keys.h"

namespace ssebridge {

struct JwtClaims {
  // "sub": required, a non-empty UTF-8 string of at most 256 bytes.
  std::string subject;
  // "exp" / "nbf" (NumericDate, seconds, may be fractional). Absent exp is
  // "never" unless Options.require_exp; absent nbf is "always".
  absl::Time expires_at = absl::InfiniteFuture();
  absl::Time not_before = absl::InfinitePast();
  // "channels": patterns this subject may subscribe to (see
  // channel_pattern.h); an array of strings or one space-separated string.
  // Every pattern is valid when Verify succeeds.
  std::vector<std::string> channels;
  // "publish": same syntax; channels this token may publish to.
  bool has_publish = false;
  std::vector<std::string> publish;
  // The kid of the key that verified the token (set even when the token's
  // header had none).
  std::string key_id;
};

class JwtVerifier {
 public:
  struct Options {
    std::string issuer;    // when non-empty, "iss" must equal it
    std::string audience;  // when non-empty, "aud" (string or array) must contain it
    absl::Duration leeway = absl::Seconds(30);  // clock skew allowed for exp and nbf
    bool require_exp = false;
    size_t max_token_bytes = 8192;
  };

  // `keys` may be null or empty: then every Verify fails and has_keys() is
  // false (the caller decides whether that means dev mode).
  JwtVerifier(Options options, std::shared_ptr<const JwtKeySet> keys);

  absl::StatusOr<JwtClaims> Verify(absl::string_view token, absl::Time now) const;

  bool has_keys() const { return keys_ != nullptr && !keys_->empty(); }
  const Options& options() const { return options_; }

 private:
  Options options_;
  std::shared_ptr<const JwtKeySet> keys_;
};

// Strict base64url without padding (RFC 7515 section 2): only [A-Za-z0-9_-],
// no '=', no whitespace, and unused trailing bits must be zero so every
// value has exactly one encoding. False for anything else.
bool DecodeBase64UrlStrict(absl::string_view in, std::string* out);

}  // namespace ssebridge

#endif  // SSEBRIDGE_AUTH_JWT_VERIFIER_H_
