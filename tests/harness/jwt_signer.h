// jwt_signer: makes JWTs the way an identity provider would (OpenSSL EVP),
// so the bridge is tested against tokens it had no part in producing. Keys
// are generated at test start; nothing is hard-coded.
#ifndef SSEBRIDGE_TESTS_HARNESS_JWT_SIGNER_H_
#define SSEBRIDGE_TESTS_HARNESS_JWT_SIGNER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

typedef struct evp_pkey_st EVP_PKEY;
typedef struct x509_st X509;

namespace ssebridge_it {

// An asymmetric key pair made with EVP (RSA 2048 or EC P-256).
class TestKeyPair {
 public:
  static std::unique_ptr<TestKeyPair> Rsa(int bits = 2048);
  static std::unique_ptr<TestKeyPair> EcP256();
  ~TestKeyPair();
  TestKeyPair(const TestKeyPair&) = delete;
  TestKeyPair& operator=(const TestKeyPair&) = delete;

  std::string PublicPem() const;   // "BEGIN PUBLIC KEY"
  std::string PrivatePem() const;  // "BEGIN PRIVATE KEY" (PKCS#8)
  EVP_PKEY* get() const { return key_; }

 private:
  explicit TestKeyPair(EVP_PKEY* key) : key_(key) {}
  EVP_PKEY* key_;
};

// n random bytes as lowercase hex (2n characters).
std::string RandomHex(size_t n);
// Lowercase hex SHA-256 of `data`.
std::string Sha256Hex(absl::string_view data);

// The payload of a token. Unset optionals are left out of the JSON.
struct JwtClaims {
  std::string sub;
  std::optional<std::vector<std::string>> channels;
  std::optional<std::vector<std::string>> publish;
  std::optional<int64_t> exp;  // unix seconds
  std::optional<int64_t> nbf;
  std::optional<std::string> iss;
  std::optional<std::string> aud;
  std::string Json() const;
};

// Claims for a subscriber: `sub`, `channels`, exp = now + ttl.
JwtClaims UserClaims(const std::string& sub, std::vector<std::string> channels,
                     absl::Duration ttl = absl::Minutes(10));

// "<b64url header>.<b64url payload>.<b64url signature>".
// HS256/HS384/HS512 with a shared secret:
std::string SignHmac(absl::string_view alg, absl::string_view secret, const std::string& kid,
                     const std::string& payload_json);
// RS256 (RSA key) or ES256 (EC key; R||S signature as JWS wants):
std::string SignRs256(const TestKeyPair& key, const std::string& kid,
                      const std::string& payload_json);
std::string SignEs256(const TestKeyPair& key, const std::string& kid,
                      const std::string& payload_json);
// alg "none", empty signature.
std::string UnsignedToken(const std::string& payload_json);

}  // namespace ssebridge_it

#endif  // SSEBRIDGE_TESTS_HARNESS_JWT_SIGNER_H_
