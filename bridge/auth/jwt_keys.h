// JwtKeySet: the keys a JwtVerifier trusts, each bound to exactly one
// algorithm when it is loaded.
//
// That binding is the defence against algorithm confusion: a token's header
// `alg` must equal its key's algorithm, so an RSA public key is only ever
// used for RS256 verification (never as an HMAC secret for a forged HS256
// token), and "none" is not an algorithm at all. Key selection: a token with
// a `kid` is checked against that key only; a token without one against
// every key of the token's algorithm (so one key per algorithm needs no kid).
//
// Cryptography is OpenSSL's (EVP); this file only holds the keys and turns a
// JWS signature into the form OpenSSL verifies. A set is filled at start-up
// and then shared read-only (shared_ptr<const JwtKeySet>) by any number of
// threads; rotation means building a new set.
#ifndef SSEBRIDGE_AUTH_JWT_KEYS_H_
#define SSEBRIDGE_AUTH_JWT_KEYS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

typedef struct evp_pkey_st EVP_PKEY;

namespace ssebridge {

enum class JwtAlgorithm { kHS256, kHS384, kHS512, kRS256, kES256 };

// "HS256", "HS384", "HS512", "RS256", "ES256" (case-sensitive, as in JWS).
// INVALID_ARGUMENT for "none" and anything else.
absl::StatusOr<JwtAlgorithm> ParseJwtAlgorithm(absl::string_view name);
absl::string_view JwtAlgorithmName(JwtAlgorithm alg);
bool IsHmacAlgorithm(JwtAlgorithm alg);

inline constexpr size_t kMinHmacSecretBytes = 32;
inline constexpr size_t kMaxKidLength = 128;

// One trusted key. Holds the secret or public key; never prints either.
class JwtKey {
 public:
  const std::string& kid() const { return kid_; }
  JwtAlgorithm algorithm() const { return alg_; }

  // Whether `signature` (the decoded third part of a JWS) is this key's
  // signature over `signing_input` ("<header>.<payload>", still encoded).
  // HMAC compares in constant time; ES256 wants the 64-byte R||S form.
  bool Verifies(absl::string_view signing_input, absl::string_view signature) const;

 private:
  friend class JwtKeySet;
  std::string kid_;
  JwtAlgorithm alg_ = JwtAlgorithm::kHS256;
  std::string secret_;                // HS*
  std::shared_ptr<EVP_PKEY> public_;  // RS256 / ES256
};

class JwtKeySet {
 public:
  // HS256/384/512 only; `secret` at least kMinHmacSecretBytes bytes.
  // INVALID_ARGUMENT otherwise, or for a bad or duplicate kid.
  absl::Status AddHmacSecret(std::string kid, JwtAlgorithm alg, std::string secret);
  // RS256 (an RSA key of at least 2048 bits) or ES256 (an EC key on P-256);
  // `pem` is a "BEGIN PUBLIC KEY" (SubjectPublicKeyInfo) block. The key type
  // must match `alg`: an RSA key given for ES256, or any key given for HS*,
  // is INVALID_ARGUMENT.
  absl::Status AddPublicKeyPem(std::string kid, JwtAlgorithm alg, absl::string_view pem);

  // A key file has one key per line, `kid ALG path`:
  //   HS* : the file's bytes, one trailing newline stripped, are the secret;
  //   RS256 / ES256 : the file holds the PEM public key.
  // '#' at the start of a line or after whitespace starts a comment; blank
  // lines are skipped; relative paths resolve
  // against the key file's directory; paths may not contain whitespace.
  // Errors name the file and line and never echo key material. A file
  // without any key is an error: it would silently turn auth off.
  absl::Status LoadKeyFile(const std::string& path);

  // Drops the key with this kid; false when there was none.
  bool Remove(absl::string_view kid);

  // nullptr when no key has this kid.
  const JwtKey* Find(absl::string_view kid) const;
  // Every key bound to `alg`, in the order they were added.
  std::vector<const JwtKey*> ForAlgorithm(JwtAlgorithm alg) const;

  bool empty() const { return keys_.empty(); }
  size_t size() const { return keys_.size(); }

 private:
  absl::Status CheckNewKid(absl::string_view kid) const;

  std::vector<JwtKey> keys_;
};

// Helpers shared by the key-file readers (this one and publisher_keys).
//
// Reads a whole small file (key material, key lists). NOT_FOUND when it
// cannot be opened, INVALID_ARGUMENT when it is larger than `max_bytes`.
absl::StatusOr<std::string> ReadSmallFile(const std::string& path, size_t max_bytes = 1 << 20);
// `line` without its comment and surrounding whitespace. A comment is a '#'
// at the start of the line or after whitespace, so a '#' inside a secret or
// path does not silently cut it short.
absl::string_view StripKeyFileComment(absl::string_view line);

}  // namespace ssebridge

#endif  // SSEBRIDGE_AUTH_JWT_KEYS_H_
