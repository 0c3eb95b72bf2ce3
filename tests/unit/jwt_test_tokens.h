// Test helper: makes JWTs the way an identity provider would, with OpenSSL,
// so the verifier is tested against tokens it had no part in producing, and
// the JwtFixture shared by jwt_verifier_test.cc and jwt_attacks_test.cc.
// Header-only; an OpenSSL error fails the test (ADD_FAILURE, empty result).
#ifndef SSEBRIDGE_TESTS_UNIT_JWT_TEST_TOKENS_H_
#define SSEBRIDGE_TESTS_UNIT_JWT_TEST_TOKENS_H_

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "bridge/auth/jwt_keys.h"
#include "bridge/auth/jwt_verifier.h"
#include "gtest/gtest.h"

namespace ssebridge {
namespace testing_jwt {

struct PKeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using PKey = std::unique_ptr<EVP_PKEY, PKeyFree>;

inline std::string B64(absl::string_view raw) {
  return absl::WebSafeBase64Escape(raw);  // unpadded base64url
}

inline PKey GenerateRsa(size_t bits) {
  PKey key(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", bits));
  if (!key) ADD_FAILURE() << "RSA keygen failed";
  return key;
}

inline PKey GenerateEc(const char* curve) {
  PKey key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve));
  if (!key) ADD_FAILURE() << "EC keygen failed for " << curve;
  return key;
}

inline std::string PublicPem(EVP_PKEY* key) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  if (PEM_write_bio_PUBKEY(bio.get(), key) != 1) {
    ADD_FAILURE() << "PEM_write_bio_PUBKEY failed";
    return "";
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

inline std::string RandomBytes(size_t n) {
  std::string out(n, '\0');
  RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n));
  return out;
}

// digest: "SHA256", "SHA384", "SHA512".
inline std::string HmacSign(const char* digest, absl::string_view secret, absl::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  size_t len = 0;
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, digest, nullptr, secret.data(), secret.size(),
                reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, sizeof(mac),
                &len) == nullptr) {
    ADD_FAILURE() << "HMAC failed";
    return "";
  }
  return std::string(reinterpret_cast<char*>(mac), len);
}

// DER signature with SHA-256 (RSA PKCS#1 v1.5 or ECDSA).
inline std::string DigestSign(EVP_PKEY* key, absl::string_view data) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  size_t len = 0;
  const auto* in = reinterpret_cast<const unsigned char*>(data.data());
  if (EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, in, data.size()) != 1) {
    ADD_FAILURE() << "DigestSign setup failed";
    return "";
  }
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, in,
                     data.size()) != 1) {
    ADD_FAILURE() << "DigestSign failed";
    return "";
  }
  sig.resize(len);
  return sig;
}

// ES256 as JWS wants it: R||S, 32 bytes each.
inline std::string Es256Sign(EVP_PKEY* key, absl::string_view data) {
  std::string der = DigestSign(key, data);
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size()));
  if (sig == nullptr) {
    ADD_FAILURE() << "d2i_ECDSA_SIG failed";
    return "";
  }
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig, &r, &s);
  std::string out(64, '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  BN_bn2binpad(r, o, 32);
  BN_bn2binpad(s, o + 32, 32);
  ECDSA_SIG_free(sig);
  return out;
}

using Signer = std::function<std::string(absl::string_view signing_input)>;

inline Signer Hs(const char* digest, std::string secret) {
  return [digest, secret](absl::string_view in) { return HmacSign(digest, secret, in); };
}
inline Signer Rs256(EVP_PKEY* key) {
  return [key](absl::string_view in) { return DigestSign(key, in); };
}
inline Signer Es256(EVP_PKEY* key) {
  return [key](absl::string_view in) { return Es256Sign(key, in); };
}

// "<b64 header>.<b64 payload>.<b64 signature>" from raw JSON texts.
inline std::string MakeToken(absl::string_view header_json, absl::string_view payload_json,
                             const Signer& sign) {
  std::string input = absl::StrCat(B64(header_json), ".", B64(payload_json));
  return absl::StrCat(input, ".", B64(sign(input)));
}

// A verifier fixture: RSA-2048 and P-256 key pairs (two of each, made once
// per suite), fresh HMAC secrets per test, and a key set holding one key of
// each algorithm: h256, h384, h512, rsa, ec.
inline const absl::Time kNow = absl::FromUnixSeconds(1700000000);

inline std::string Seconds(absl::Duration from_now) {
  return absl::StrCat(absl::ToUnixSeconds(kNow + from_now));
}

// A valid payload for alice, expiring in 5 minutes, plus `extra` members.
inline std::string Payload(absl::string_view extra = "") {
  return absl::StrCat(R"({"sub":"alice","exp":)", Seconds(absl::Minutes(5)),
                      extra.empty() ? "" : ",", extra, "}");
}

inline std::string Header(absl::string_view alg, absl::string_view kid = "") {
  if (kid.empty()) return absl::StrCat(R"({"alg":")", alg, R"(","typ":"JWT"})");
  return absl::StrCat(R"({"alg":")", alg, R"(","kid":")", kid, R"("})");
}

class JwtFixture : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    rsa_ = GenerateRsa(2048).release();
    ec_ = GenerateEc("P-256").release();
    other_rsa_ = GenerateRsa(2048).release();
    other_ec_ = GenerateEc("P-256").release();
  }
  static void TearDownTestSuite() {
    for (EVP_PKEY** k : {&rsa_, &ec_, &other_rsa_, &other_ec_}) {
      EVP_PKEY_free(*k);
      *k = nullptr;
    }
  }

  void SetUp() override {
    hs256_ = RandomBytes(32);
    hs384_ = RandomBytes(48);
    hs512_ = RandomBytes(64);
    auto keys = std::make_shared<JwtKeySet>();
    ASSERT_TRUE(keys->AddHmacSecret("h256", JwtAlgorithm::kHS256, hs256_).ok());
    ASSERT_TRUE(keys->AddHmacSecret("h384", JwtAlgorithm::kHS384, hs384_).ok());
    ASSERT_TRUE(keys->AddHmacSecret("h512", JwtAlgorithm::kHS512, hs512_).ok());
    ASSERT_TRUE(keys->AddPublicKeyPem("rsa", JwtAlgorithm::kRS256, PublicPem(rsa_)).ok());
    ASSERT_TRUE(keys->AddPublicKeyPem("ec", JwtAlgorithm::kES256, PublicPem(ec_)).ok());
    keys_ = keys;
  }

  JwtVerifier Verifier(JwtVerifier::Options options = {}) const {
    return JwtVerifier(options, keys_);
  }

  // Rejected as UNAUTHENTICATED with `reason` in the message, which must
  // not echo the token or any sizeable part of it.
  void ExpectRejected(const JwtVerifier& v, const std::string& token,
                      absl::string_view reason) const {
    absl::StatusOr<JwtClaims> claims = v.Verify(token, kNow);
    ASSERT_FALSE(claims.ok()) << "accepted; wanted: " << reason;
    EXPECT_EQ(claims.status().code(), absl::StatusCode::kUnauthenticated);
    EXPECT_TRUE(absl::StrContains(claims.status().message(), reason))
        << "got: " << claims.status().message() << "; wanted: " << reason;
    for (absl::string_view part : absl::StrSplit(token, '.')) {
      if (part.size() >= 12) {
        EXPECT_FALSE(absl::StrContains(claims.status().message(), part))
            << "message echoes the token: " << claims.status().message();
      }
    }
  }

  inline static EVP_PKEY* rsa_ = nullptr;
  inline static EVP_PKEY* ec_ = nullptr;
  inline static EVP_PKEY* other_rsa_ = nullptr;
  inline static EVP_PKEY* other_ec_ = nullptr;
  std::string hs256_, hs384_, hs512_;
  std::shared_ptr<const JwtKeySet> keys_;
};

}  // namespace testing_jwt
}  // namespace ssebridge

#endif  // SSEBRIDGE_TESTS_UNIT_JWT_TEST_TOKENS_H_
