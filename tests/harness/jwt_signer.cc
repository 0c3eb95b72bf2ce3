#include "tests/harness/jwt_signer.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include <functional>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace ssebridge_it {
namespace {

std::string B64(absl::string_view raw) { return absl::WebSafeBase64Escape(raw); }

// Claims here are test-chosen ASCII; only quotes and backslashes need care.
std::string Quote(absl::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string QuoteList(const std::vector<std::string>& v) {
  std::vector<std::string> q;
  for (const auto& s : v) q.push_back(Quote(s));
  return absl::StrCat("[", absl::StrJoin(q, ","), "]");
}

std::string Header(absl::string_view alg, const std::string& kid) {
  std::string h = absl::StrCat("{\"alg\":", Quote(alg), ",\"typ\":\"JWT\"");
  if (!kid.empty()) absl::StrAppend(&h, ",\"kid\":", Quote(kid));
  return h + "}";
}

std::string Bio(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(len));
}

// DER signature over SHA-256 (RSA PKCS#1 v1.5 or ECDSA).
std::string DigestSign(EVP_PKEY* key, absl::string_view data) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  const auto* in = reinterpret_cast<const unsigned char*>(data.data());
  size_t len = 0;
  if (EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, in, data.size()) != 1) {
    ADD_FAILURE() << "EVP_DigestSign setup failed";
    return "";
  }
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, in,
                     data.size()) != 1) {
    ADD_FAILURE() << "EVP_DigestSign failed";
    return "";
  }
  sig.resize(len);
  return sig;
}

std::string Finish(const std::string& header, const std::string& payload,
                   const std::function<std::string(absl::string_view)>& sign) {
  std::string input = absl::StrCat(B64(header), ".", B64(payload));
  return absl::StrCat(input, ".", B64(sign(input)));
}

}  // namespace

std::unique_ptr<TestKeyPair> TestKeyPair::Rsa(int bits) {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(bits));
  if (key == nullptr) {
    ADD_FAILURE() << "RSA keygen failed";
    return nullptr;
  }
  return std::unique_ptr<TestKeyPair>(new TestKeyPair(key));
}

std::unique_ptr<TestKeyPair> TestKeyPair::EcP256() {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  if (key == nullptr) {
    ADD_FAILURE() << "EC keygen failed";
    return nullptr;
  }
  return std::unique_ptr<TestKeyPair>(new TestKeyPair(key));
}

TestKeyPair::~TestKeyPair() { EVP_PKEY_free(key_); }

std::string TestKeyPair::PublicPem() const {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  if (PEM_write_bio_PUBKEY(bio.get(), key_) != 1) {
    ADD_FAILURE() << "PEM_write_bio_PUBKEY failed";
    return "";
  }
  return Bio(bio.get());
}

std::string TestKeyPair::PrivatePem() const {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  if (PEM_write_bio_PrivateKey(bio.get(), key_, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    ADD_FAILURE() << "PEM_write_bio_PrivateKey failed";
    return "";
  }
  return Bio(bio.get());
}

std::string RandomHex(size_t n) {
  std::string raw(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(n)) != 1) {
    ADD_FAILURE() << "RAND_bytes failed";
  }
  return absl::BytesToHexString(raw);
}

std::string Sha256Hex(absl::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr) != 1) {
    ADD_FAILURE() << "EVP_Digest failed";
    return "";
  }
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<char*>(digest), len));
}

std::string JwtClaims::Json() const {
  std::vector<std::string> f;
  if (!sub.empty()) f.push_back(absl::StrCat("\"sub\":", Quote(sub)));
  if (channels) f.push_back(absl::StrCat("\"channels\":", QuoteList(*channels)));
  if (publish) f.push_back(absl::StrCat("\"publish\":", QuoteList(*publish)));
  if (exp) f.push_back(absl::StrCat("\"exp\":", *exp));
  if (nbf) f.push_back(absl::StrCat("\"nbf\":", *nbf));
  if (iss) f.push_back(absl::StrCat("\"iss\":", Quote(*iss)));
  if (aud) f.push_back(absl::StrCat("\"aud\":", Quote(*aud)));
  f.push_back(absl::StrCat("\"iat\":", absl::ToUnixSeconds(absl::Now())));
  return absl::StrCat("{", absl::StrJoin(f, ","), "}");
}

JwtClaims UserClaims(const std::string& sub, std::vector<std::string> channels,
                     absl::Duration ttl) {
  JwtClaims c;
  c.sub = sub;
  c.channels = std::move(channels);
  c.exp = absl::ToUnixSeconds(absl::Now() + ttl);
  return c;
}

std::string SignHmac(absl::string_view alg, absl::string_view secret, const std::string& kid,
                     const std::string& payload_json) {
  const char* digest = alg == "HS384" ? "SHA384" : alg == "HS512" ? "SHA512" : "SHA256";
  return Finish(Header(alg, kid), payload_json, [&](absl::string_view in) {
    unsigned char mac[EVP_MAX_MD_SIZE];
    size_t len = 0;
    if (EVP_Q_mac(nullptr, "HMAC", nullptr, digest, nullptr, secret.data(), secret.size(),
                  reinterpret_cast<const unsigned char*>(in.data()), in.size(), mac, sizeof(mac),
                  &len) == nullptr) {
      ADD_FAILURE() << "HMAC failed";
      return std::string();
    }
    return std::string(reinterpret_cast<char*>(mac), len);
  });
}

std::string SignRs256(const TestKeyPair& key, const std::string& kid,
                      const std::string& payload_json) {
  return Finish(Header("RS256", kid), payload_json,
                [&](absl::string_view in) { return DigestSign(key.get(), in); });
}

std::string SignEs256(const TestKeyPair& key, const std::string& kid,
                      const std::string& payload_json) {
  return Finish(Header("ES256", kid), payload_json, [&](absl::string_view in) {
    std::string der = DigestSign(key.get(), in);
    const auto* p = reinterpret_cast<const unsigned char*>(der.data());
    ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size()));
    if (sig == nullptr) {
      ADD_FAILURE() << "d2i_ECDSA_SIG failed";
      return std::string();
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
  });
}

std::string UnsignedToken(const std::string& payload_json) {
  return absl::StrCat(B64("{\"alg\":\"none\",\"typ\":\"JWT\"}"), ".", B64(payload_json), ".");
}

}  // namespace ssebridge_it
