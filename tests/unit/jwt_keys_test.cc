// JwtKeySet: adding keys (type and size checks per algorithm) and loading
// `kid ALG path` key files.
#include "bridge/auth/jwt_keys.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "bridge/auth/jwt_verifier.h"
#include "gtest/gtest.h"
#include "tests/unit/jwt_test_tokens.h"

namespace ssebridge {
namespace {

using namespace testing_jwt;  // NOLINT: test helpers only

class JwtKeySetTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    rsa_ = GenerateRsa(2048).release();
    ec_ = GenerateEc("P-256").release();
  }
  static void TearDownTestSuite() {
    EVP_PKEY_free(rsa_);
    EVP_PKEY_free(ec_);
  }
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "jwtkeys.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl + "/";
  }
  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  std::string Write(const std::string& name, const std::string& content) {
    std::ofstream(dir_ + name, std::ios::binary) << content;
    return dir_ + name;
  }
  // The error of loading a key file with `content`.
  absl::Status LoadText(const std::string& content) {
    JwtKeySet keys;
    return keys.LoadKeyFile(Write("keys.txt", content));
  }

  static EVP_PKEY* rsa_;
  static EVP_PKEY* ec_;
  std::string dir_;
};

EVP_PKEY* JwtKeySetTest::rsa_ = nullptr;
EVP_PKEY* JwtKeySetTest::ec_ = nullptr;

void ExpectInvalid(const absl::Status& s, absl::string_view want) {
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), want)) << s << " / wanted " << want;
}

TEST_F(JwtKeySetTest, LoadsAGoodFile) {
  const std::string secret(40, 's');
  Write("hs.secret", secret + "\n");  // the newline is stripped
  Write("rsa.pem", PublicPem(rsa_));
  const std::string ec_path = Write("ec.pem", PublicPem(ec_));
  const std::string path =
      Write("keys.txt", absl::StrCat("# kid  alg   path\n"
                                     "\n"
                                     "hs-1   HS256 hs.secret\n"
                                     "rsa-1\tRS256 rsa.pem   # relative to this file\n"
                                     "ec-1   ES256 ",
                                     ec_path, "\n"));
  auto keys = std::make_shared<JwtKeySet>();
  ASSERT_TRUE(keys->LoadKeyFile(path).ok()) << keys->LoadKeyFile(path);
  EXPECT_EQ(keys->size(), 3u);
  ASSERT_NE(keys->Find("rsa-1"), nullptr);
  EXPECT_EQ(keys->Find("rsa-1")->algorithm(), JwtAlgorithm::kRS256);
  EXPECT_EQ(keys->ForAlgorithm(JwtAlgorithm::kES256).size(), 1u);

  JwtVerifier v({}, keys);
  const absl::Time now = absl::FromUnixSeconds(1700000000);
  const std::string payload = R"({"sub":"u"})";
  EXPECT_TRUE(
      v.Verify(MakeToken(R"({"alg":"HS256","kid":"hs-1"})", payload, Hs("SHA256", secret)), now)
          .ok());
  EXPECT_TRUE(v.Verify(MakeToken(R"({"alg":"RS256"})", payload, Rs256(rsa_)), now).ok());
  EXPECT_TRUE(
      v.Verify(MakeToken(R"({"alg":"ES256","kid":"ec-1"})", payload, Es256(ec_)), now).ok());
  // The secret with its newline is not the key.
  EXPECT_FALSE(
      v.Verify(MakeToken(R"({"alg":"HS256"})", payload, Hs("SHA256", secret + "\n")), now).ok());
}

TEST_F(JwtKeySetTest, FileErrorsNameTheLine) {
  Write("hs.secret", std::string(32, 'x'));
  ExpectInvalid(LoadText("k1 HS256 hs.secret\nk2 XS256 hs.secret\n"), "keys.txt:2: ");
  ExpectInvalid(LoadText("k1 HS256 hs.secret\nk2 XS256 hs.secret\n"), "unsupported algorithm");
  ExpectInvalid(LoadText("\n\nk1 none hs.secret\n"), "keys.txt:3: algorithm 'none'");
  ExpectInvalid(LoadText("k1 HS256\n"), "keys.txt:1: expected 'kid ALG path', got 2 fields");
  ExpectInvalid(LoadText("k1 HS256 a b\n"), "got 4 fields");
  ExpectInvalid(LoadText("k1 HS256 hs.secret\nk1 HS384 hs.secret\n"), "keys.txt:2: duplicate kid");
  ExpectInvalid(LoadText("# nothing here\n\n"), "no keys");
  ExpectInvalid(LoadText(""), "no keys");

  absl::Status missing_key = LoadText("k1 HS256 nope.secret\n");
  EXPECT_EQ(missing_key.code(), absl::StatusCode::kNotFound) << missing_key;
  EXPECT_TRUE(absl::StrContains(missing_key.message(), "keys.txt:1: cannot open"));

  JwtKeySet keys;
  absl::Status missing_file = keys.LoadKeyFile(dir_ + "absent.txt");
  EXPECT_EQ(missing_file.code(), absl::StatusCode::kNotFound) << missing_file;
  EXPECT_TRUE(keys.empty());
}

TEST_F(JwtKeySetTest, ShortHmacSecretIsRejectedWithoutEchoingIt) {
  Write("short.secret", "hunter2-but-longer-31-bytes....\n");
  absl::Status s = LoadText("k HS256 short.secret\n");
  ExpectInvalid(s, "keys.txt:1: key 'k': an HMAC secret must be at least 32 bytes (got 31)");
  EXPECT_FALSE(absl::StrContains(s.message(), "hunter2")) << s;

  JwtKeySet keys;
  ExpectInvalid(keys.AddHmacSecret("k", JwtAlgorithm::kHS512, std::string(31, 'x')),
                "at least 32 bytes");
  EXPECT_TRUE(keys.AddHmacSecret("k", JwtAlgorithm::kHS512, std::string(32, 'x')).ok());
}

TEST_F(JwtKeySetTest, KeyTypeMustMatchAlgorithm) {
  Write("rsa.pem", PublicPem(rsa_));
  Write("ec.pem", PublicPem(ec_));
  ExpectInvalid(LoadText("k ES256 rsa.pem\n"), "keys.txt:1: key 'k' (ES256): not an EC key");
  ExpectInvalid(LoadText("k RS256 ec.pem\n"), "not an RSA key");
  // A PEM named as an HMAC secret would let anyone holding the public key
  // sign tokens: refused at load time.
  ExpectInvalid(LoadText("k HS256 rsa.pem\n"), "PEM");

  JwtKeySet keys;
  ExpectInvalid(keys.AddPublicKeyPem("k", JwtAlgorithm::kHS256, PublicPem(rsa_)),
                "an HMAC algorithm takes a secret");
  ExpectInvalid(keys.AddHmacSecret("k", JwtAlgorithm::kRS256, std::string(64, 'x')),
                "needs a public key");
  ExpectInvalid(keys.AddPublicKeyPem("k", JwtAlgorithm::kRS256, "not a pem"),
                "not a PEM public key");
  EXPECT_TRUE(keys.empty());
}

TEST_F(JwtKeySetTest, WeakOrWrongCurveKeysAndPrivateKeysAreRejected) {
  JwtKeySet keys;
  PKey rsa1024 = GenerateRsa(1024);
  ExpectInvalid(keys.AddPublicKeyPem("small", JwtAlgorithm::kRS256, PublicPem(rsa1024.get())),
                "RSA key of 1024 bits; at least 2048");
  PKey p384 = GenerateEc("P-384");
  ExpectInvalid(keys.AddPublicKeyPem("p384", JwtAlgorithm::kES256, PublicPem(p384.get())),
                "ES256 needs P-256");

  // A private key file is a mistake worth failing on, not silently using.
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  ASSERT_EQ(PEM_write_bio_PrivateKey(bio.get(), ec_, nullptr, nullptr, 0, nullptr, nullptr), 1);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  ExpectInvalid(keys.AddPublicKeyPem("priv", JwtAlgorithm::kES256, std::string(data, len)),
                "not a PEM public key");
  EXPECT_TRUE(keys.empty());
}

TEST_F(JwtKeySetTest, PemAsHmacSecretIsRefused) {
  // `k1 HS256 pub.pem` would let anyone holding the public key sign tokens.
  JwtKeySet keys;
  absl::Status s = keys.AddHmacSecret("k1", JwtAlgorithm::kHS256, PublicPem(rsa_));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("PEM"), std::string::npos) << s;
  EXPECT_TRUE(keys.empty());
}

TEST_F(JwtKeySetTest, KidRules) {
  JwtKeySet keys;
  const std::string secret(32, 'x');
  ExpectInvalid(keys.AddHmacSecret("", JwtAlgorithm::kHS256, secret), "kid must be 1-128");
  ExpectInvalid(keys.AddHmacSecret(std::string(129, 'k'), JwtAlgorithm::kHS256, secret),
                "kid must be 1-128");
  ExpectInvalid(keys.AddHmacSecret("a b", JwtAlgorithm::kHS256, secret), "whitespace");
  ASSERT_TRUE(keys.AddHmacSecret("a", JwtAlgorithm::kHS256, secret).ok());
  ExpectInvalid(keys.AddHmacSecret("a", JwtAlgorithm::kHS384, std::string(48, 'y')),
                "duplicate kid 'a'");
  EXPECT_EQ(keys.size(), 1u);
  EXPECT_EQ(keys.Find("b"), nullptr);
}

}  // namespace
}  // namespace ssebridge
