#include "bridge/auth/jwt_keys.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace ssebridge {
namespace {

const EVP_MD* DigestFor(JwtAlgorithm alg) {
  switch (alg) {
    case JwtAlgorithm::kHS384:
      return EVP_sha384();
    case JwtAlgorithm::kHS512:
      return EVP_sha512();
    default:
      return EVP_sha256();
  }
}

const char* DigestNameFor(JwtAlgorithm alg) {
  switch (alg) {
    case JwtAlgorithm::kHS384:
      return "SHA384";
    case JwtAlgorithm::kHS512:
      return "SHA512";
    default:
      return "SHA256";
  }
}

bool HmacVerifies(const std::string& secret, JwtAlgorithm alg, absl::string_view input,
                  absl::string_view signature) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  size_t mac_len = 0;
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, DigestNameFor(alg), nullptr, secret.data(), secret.size(),
                reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac,
                sizeof(mac), &mac_len) == nullptr) {
    ERR_clear_error();
    return false;
  }
  // The length is public (it follows from alg); the bytes are compared in
  // constant time so a forger learns nothing from timing.
  return signature.size() == mac_len && CRYPTO_memcmp(mac, signature.data(), mac_len) == 0;
}

bool DigestVerifies(EVP_PKEY* key, const EVP_MD* md, absl::string_view input,
                    const unsigned char* sig, size_t sig_len) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  bool ok =
      ctx != nullptr && EVP_DigestVerifyInit(ctx.get(), nullptr, md, nullptr, key) == 1 &&
      EVP_DigestVerify(ctx.get(), sig, sig_len,
                       reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
  ERR_clear_error();  // a failed verify leaves errors nobody should see later
  return ok;
}

// JWS ES256 signatures are R||S, 32 bytes each (RFC 7518 3.4); OpenSSL
// verifies DER ECDSA-Sig-Value. Any other length is not an ES256 signature.
bool Es256Verifies(EVP_PKEY* key, absl::string_view input, absl::string_view signature) {
  if (signature.size() != 64) return false;
  const auto* raw = reinterpret_cast<const unsigned char*>(signature.data());
  BIGNUM* r = BN_bin2bn(raw, 32, nullptr);
  BIGNUM* s = BN_bin2bn(raw + 32, 32, nullptr);
  ECDSA_SIG* sig = ECDSA_SIG_new();
  if (r == nullptr || s == nullptr || sig == nullptr || ECDSA_SIG_set0(sig, r, s) != 1) {
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(sig);
    ERR_clear_error();
    return false;
  }
  unsigned char* der = nullptr;  // sig owns r and s from here on
  int der_len = i2d_ECDSA_SIG(sig, &der);
  ECDSA_SIG_free(sig);
  if (der_len <= 0) {
    ERR_clear_error();
    return false;
  }
  bool ok = DigestVerifies(key, EVP_sha256(), input, der, static_cast<size_t>(der_len));
  OPENSSL_free(der);
  return ok;
}

absl::Status ValidateKid(absl::string_view kid) {
  if (kid.empty() || kid.size() > kMaxKidLength) {
    return absl::InvalidArgumentError(absl::StrCat("kid must be 1-", kMaxKidLength, " characters"));
  }
  for (char c : kid) {
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) {
      return absl::InvalidArgumentError("kid must not contain whitespace or control characters");
    }
  }
  return absl::OkStatus();
}

std::shared_ptr<EVP_PKEY> ReadPublicKeyPem(absl::string_view pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
  EVP_PKEY* key = bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr;
  ERR_clear_error();
  if (key == nullptr) return nullptr;
  return std::shared_ptr<EVP_PKEY>(key, &EVP_PKEY_free);
}

std::string StripOneTrailingNewline(std::string s) {
  if (absl::EndsWith(s, "\r\n")) {
    s.resize(s.size() - 2);
  } else if (absl::EndsWith(s, "\n")) {
    s.resize(s.size() - 1);
  }
  return s;
}

}  // namespace

absl::StatusOr<JwtAlgorithm> ParseJwtAlgorithm(absl::string_view name) {
  if (name == "HS256") return JwtAlgorithm::kHS256;
  if (name == "HS384") return JwtAlgorithm::kHS384;
  if (name == "HS512") return JwtAlgorithm::kHS512;
  if (name == "RS256") return JwtAlgorithm::kRS256;
  if (name == "ES256") return JwtAlgorithm::kES256;
  if (absl::AsciiStrToLower(name) == "none") {
    return absl::InvalidArgumentError("algorithm 'none' is never accepted");
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unsupported algorithm '", absl::CHexEscape(name.substr(0, 16)),
                   "' (supported: HS256, HS384, HS512, RS256, ES256)"));
}

absl::string_view JwtAlgorithmName(JwtAlgorithm alg) {
  switch (alg) {
    case JwtAlgorithm::kHS256:
      return "HS256";
    case JwtAlgorithm::kHS384:
      return "HS384";
    case JwtAlgorithm::kHS512:
      return "HS512";
    case JwtAlgorithm::kRS256:
      return "RS256";
    case JwtAlgorithm::kES256:
      return "ES256";
  }
  return "?";
}

bool IsHmacAlgorithm(JwtAlgorithm alg) {
  return alg == JwtAlgorithm::kHS256 || alg == JwtAlgorithm::kHS384 || alg == JwtAlgorithm::kHS512;
}

bool JwtKey::Verifies(absl::string_view signing_input, absl::string_view signature) const {
  switch (alg_) {
    case JwtAlgorithm::kHS256:
    case JwtAlgorithm::kHS384:
    case JwtAlgorithm::kHS512:
      return HmacVerifies(secret_, alg_, signing_input, signature);
    case JwtAlgorithm::kRS256:
      return !signature.empty() &&
             DigestVerifies(public_.get(), DigestFor(alg_), signing_input,
                            reinterpret_cast<const unsigned char*>(signature.data()),
                            signature.size());
    case JwtAlgorithm::kES256:
      return Es256Verifies(public_.get(), signing_input, signature);
  }
  return false;
}

absl::Status JwtKeySet::CheckNewKid(absl::string_view kid) const {
  absl::Status valid = ValidateKid(kid);
  if (!valid.ok()) return valid;
  if (Find(kid) != nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("duplicate kid '", absl::CHexEscape(kid), "'"));
  }
  return absl::OkStatus();
}

absl::Status JwtKeySet::AddHmacSecret(std::string kid, JwtAlgorithm alg, std::string secret) {
  absl::Status valid = CheckNewKid(kid);
  if (!valid.ok()) return valid;
  if (!IsHmacAlgorithm(alg)) {
    return absl::InvalidArgumentError(absl::StrCat("key '", kid, "': ", JwtAlgorithmName(alg),
                                                   " needs a public key, not a shared secret"));
  }
  if (secret.size() < kMinHmacSecretBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("key '", kid, "': an HMAC secret must be at least ", kMinHmacSecretBytes,
                     " bytes (got ", secret.size(), ")"));
  }
  // A PEM given as an HMAC secret is the algorithm-confusion hole opened by
  // configuration: anyone holding the public key could sign tokens.
  if (secret.find("-----BEGIN") != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("key '", kid, "': ", JwtAlgorithmName(alg),
                     " was given a PEM key as its secret; public keys need RS256 or ES256"));
  }
  JwtKey key;
  key.kid_ = std::move(kid);
  key.alg_ = alg;
  key.secret_ = std::move(secret);
  keys_.push_back(std::move(key));
  return absl::OkStatus();
}

absl::Status JwtKeySet::AddPublicKeyPem(std::string kid, JwtAlgorithm alg, absl::string_view pem) {
  absl::Status valid = CheckNewKid(kid);
  if (!valid.ok()) return valid;
  const std::string who = absl::StrCat("key '", kid, "' (", JwtAlgorithmName(alg), ")");
  if (IsHmacAlgorithm(alg)) {
    return absl::InvalidArgumentError(
        absl::StrCat(who, ": an HMAC algorithm takes a secret, not a public key"));
  }
  std::shared_ptr<EVP_PKEY> pkey = ReadPublicKeyPem(pem);
  if (pkey == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(who, ": not a PEM public key (expected a 'BEGIN PUBLIC KEY' block)"));
  }
  if (alg == JwtAlgorithm::kRS256) {
    if (EVP_PKEY_get_base_id(pkey.get()) != EVP_PKEY_RSA) {
      return absl::InvalidArgumentError(absl::StrCat(who, ": not an RSA key"));
    }
    int bits = EVP_PKEY_get_bits(pkey.get());
    if (bits < 2048) {
      return absl::InvalidArgumentError(
          absl::StrCat(who, ": RSA key of ", bits, " bits; at least 2048 are required"));
    }
  } else {  // ES256
    char group[64] = {0};
    size_t group_len = 0;
    if (EVP_PKEY_get_base_id(pkey.get()) != EVP_PKEY_EC) {
      return absl::InvalidArgumentError(absl::StrCat(who, ": not an EC key"));
    }
    if (EVP_PKEY_get_group_name(pkey.get(), group, sizeof(group), &group_len) != 1 ||
        (absl::string_view(group, group_len) != "prime256v1" &&
         absl::string_view(group, group_len) != "P-256")) {
      ERR_clear_error();
      return absl::InvalidArgumentError(absl::StrCat(
          who, ": EC key on curve '", absl::string_view(group, group_len), "'; ES256 needs P-256"));
    }
  }
  JwtKey key;
  key.kid_ = std::move(kid);
  key.alg_ = alg;
  key.public_ = std::move(pkey);
  keys_.push_back(std::move(key));
  return absl::OkStatus();
}

absl::Status JwtKeySet::LoadKeyFile(const std::string& path) {
  absl::StatusOr<std::string> text = ReadSmallFile(path);
  if (!text.ok()) return text.status();
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "" : path.substr(0, slash + 1);
  size_t added = 0;
  int line_no = 0;
  for (absl::string_view line : absl::StrSplit(*text, '\n')) {
    ++line_no;
    const std::string where = absl::StrCat(path, ":", line_no, ": ");
    line = StripKeyFileComment(line);
    if (line.empty()) continue;
    std::vector<absl::string_view> fields =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (fields.size() != 3) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, "expected 'kid ALG path', got ", fields.size(), " fields"));
    }
    absl::StatusOr<JwtAlgorithm> alg = ParseJwtAlgorithm(fields[1]);
    if (!alg.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(where, alg.status().message()));
    }
    std::string key_path(fields[2]);
    if (key_path[0] != '/') key_path.insert(0, dir);
    absl::StatusOr<std::string> material = ReadSmallFile(key_path);
    if (!material.ok()) {
      return absl::Status(material.status().code(),
                          absl::StrCat(where, material.status().message()));
    }
    absl::Status added_ok = IsHmacAlgorithm(*alg)
                                ? AddHmacSecret(std::string(fields[0]), *alg,
                                                StripOneTrailingNewline(std::move(*material)))
                                : AddPublicKeyPem(std::string(fields[0]), *alg, *material);
    if (!added_ok.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(where, added_ok.message()));
    }
    ++added;
  }
  if (added == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": no keys (a key file must list at least one)"));
  }
  return absl::OkStatus();
}

bool JwtKeySet::Remove(absl::string_view kid) {
  auto it =
      std::find_if(keys_.begin(), keys_.end(), [&](const JwtKey& k) { return k.kid_ == kid; });
  if (it == keys_.end()) return false;
  keys_.erase(it);
  return true;
}

const JwtKey* JwtKeySet::Find(absl::string_view kid) const {
  for (const JwtKey& k : keys_) {
    if (k.kid_ == kid) return &k;
  }
  return nullptr;
}

std::vector<const JwtKey*> JwtKeySet::ForAlgorithm(JwtAlgorithm alg) const {
  std::vector<const JwtKey*> out;
  for (const JwtKey& k : keys_) {
    if (k.alg_ == alg) out.push_back(&k);
  }
  return out;
}

absl::string_view StripKeyFileComment(absl::string_view line) {
  for (size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '#' &&
        (i == 0 || absl::ascii_isspace(static_cast<unsigned char>(line[i - 1])))) {
      line = line.substr(0, i);
      break;
    }
  }
  return absl::StripAsciiWhitespace(line);
}

absl::StatusOr<std::string> ReadSmallFile(const std::string& path, size_t max_bytes) {
  // A directory opens, and ifstream reports its failed read as end of file:
  // it would read as an empty file.
  struct stat st;
  if (stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    return absl::InvalidArgumentError(absl::StrCat("'", path, "' is a directory"));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("cannot open '", path, "'"));
  }
  std::string out;
  char buf[4096];
  while (in.read(buf, sizeof(buf)), in.gcount() > 0) {
    out.append(buf, static_cast<size_t>(in.gcount()));
    if (out.size() > max_bytes) {
      return absl::InvalidArgumentError(
          absl::StrCat("'", path, "' is larger than ", max_bytes, " bytes"));
    }
  }
  if (in.bad()) {
    return absl::NotFoundError(absl::StrCat("cannot read '", path, "'"));
  }
  return out;
}

}  // namespace ssebridge
