// JwtVerifier against hostile tokens: alg "none", algorithm confusion, alg
// not matching the kid's key, truncated / garbage / padded / oversized
// tokens, bad ES256 signature lengths. Every one is UNAUTHENTICATED with a
// reason, never a crash, and no message echoes the token.
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "bridge/auth/jwt_keys.h"
#include "bridge/auth/jwt_verifier.h"
#include "gtest/gtest.h"
#include "tests/unit/jwt_test_tokens.h"

namespace ssebridge {
namespace {

using namespace testing_jwt;  // NOLINT: test helpers only
using JwtAttackTest = JwtFixture;

TEST_F(JwtAttackTest, AlgNoneIsNeverAccepted) {
  JwtVerifier v = Verifier();
  std::string payload = B64(Payload());
  for (const char* header : {R"({"alg":"none"})", R"({"alg":"none","typ":"JWT"})",
                             R"({"alg":"None"})", R"({"alg":"NONE","kid":"h256"})"}) {
    ExpectRejected(v, absl::StrCat(B64(header), ".", payload, "."), "'none'");
    // ...and with a signature a real HS256 key made.
    std::string input = absl::StrCat(B64(header), ".", payload);
    ExpectRejected(v, absl::StrCat(input, ".", B64(HmacSign("SHA256", hs256_, input))), "'none'");
  }
  ExpectRejected(v, absl::StrCat(B64(R"({"alg":"HS256"})"), ".", payload, "."),
                 "signature does not verify");
  ExpectRejected(v, absl::StrCat(B64(R"({"alg":"PS256"})"), ".", payload, ".AAAA"),
                 "unsupported algorithm 'PS256'");
  ExpectRejected(v, absl::StrCat(B64(R"({"alg":7})"), ".", payload, ".AAAA"), "no string 'alg'");
  ExpectRejected(v, absl::StrCat(B64(R"({"typ":"JWT"})"), ".", payload, ".AAAA"),
                 "no string 'alg'");
}

TEST_F(JwtAttackTest, AlgorithmConfusionWithRsaPublicKeyAsHmacSecret) {
  // The classic attack: the public key is public, so an attacker HMACs a
  // token with its PEM text and claims HS256.
  auto keys = std::make_shared<JwtKeySet>();
  const std::string pem = PublicPem(rsa_);
  ASSERT_TRUE(keys->AddPublicKeyPem("rsa", JwtAlgorithm::kRS256, pem).ok());
  JwtVerifier v({}, keys);
  for (const char* digest : {"SHA256", "SHA384", "SHA512"}) {
    std::string alg = absl::StrCat("HS", absl::string_view(digest).substr(3));
    ExpectRejected(v, MakeToken(Header(alg, "rsa"), Payload(), Hs(digest, pem)),
                   absl::StrCat("algorithm ", alg, " not allowed for key 'rsa'"));
    ExpectRejected(v, MakeToken(Header(alg), Payload(), Hs(digest, pem)),
                   absl::StrCat("no key accepts algorithm ", alg));
  }
  // The genuine RS256 token still works.
  EXPECT_TRUE(v.Verify(MakeToken(Header("RS256", "rsa"), Payload(), Rs256(rsa_)), kNow).ok());
}

TEST_F(JwtAttackTest, AlgMustMatchTheKidsKey) {
  JwtVerifier v = Verifier();
  // HS384 computed with the HS256 key's own secret: still the wrong alg.
  ExpectRejected(v, MakeToken(Header("HS384", "h256"), Payload(), Hs("SHA384", hs256_)),
                 "algorithm HS384 not allowed for key 'h256' (it is bound to HS256)");
  ExpectRejected(v, MakeToken(Header("ES256", "rsa"), Payload(), Es256(ec_)),
                 "algorithm ES256 not allowed for key 'rsa'");
  ExpectRejected(v, MakeToken(Header("RS256", "ec"), Payload(), Rs256(rsa_)),
                 "algorithm RS256 not allowed for key 'ec'");
}

TEST_F(JwtAttackTest, UnknownKid) {
  JwtVerifier v = Verifier();
  ExpectRejected(v, MakeToken(Header("HS256", "nope"), Payload(), Hs("SHA256", hs256_)),
                 "unknown kid 'nope'");
  ExpectRejected(v, MakeToken(R"({"alg":"HS256","kid":5})", Payload(), Hs("SHA256", hs256_)),
                 "header 'kid' is not a string");
  // A hostile kid is escaped and cut short in the message.
  std::string long_kid(500, 'k');
  absl::StatusOr<JwtClaims> c =
      v.Verify(MakeToken(Header("HS256", long_kid), Payload(), Hs("SHA256", hs256_)), kNow);
  ASSERT_FALSE(c.ok());
  EXPECT_LT(c.status().message().size(), 120u) << c.status();
}

TEST_F(JwtAttackTest, MalformedTokensAreRejectedClearly) {
  JwtVerifier v = Verifier();
  const std::string good = MakeToken(Header("HS256"), Payload(), Hs("SHA256", hs256_));
  ASSERT_TRUE(v.Verify(good, kNow).ok());
  const std::vector<std::string> parts = absl::StrSplit(good, '.');

  ExpectRejected(v, "", "malformed token: empty");
  ExpectRejected(v, "abc", "expected 3 dot-separated parts, got 1");
  ExpectRejected(v, absl::StrCat(parts[0], ".", parts[1]), "got 2");
  ExpectRejected(v, good + ".", "got 4");
  ExpectRejected(v, good + ".AAAA", "got 4");
  ExpectRejected(v, "..", "header is not a JSON object");
  // Truncation: wherever the cut falls, never accepted.
  for (size_t cut = 1; cut < good.size(); ++cut) {
    absl::StatusOr<JwtClaims> c = v.Verify(good.substr(0, cut), kNow);
    ASSERT_FALSE(c.ok()) << "accepted a token cut at " << cut;
    EXPECT_EQ(c.status().code(), absl::StatusCode::kUnauthenticated);
  }
  ExpectRejected(v, "!!!!.????.****", "header is not unpadded base64url");
  ExpectRejected(v, absl::StrCat(parts[0], "=.", parts[1], ".", parts[2]),
                 "header is not unpadded base64url");
  ExpectRejected(v, absl::StrCat(parts[0], ".", parts[1], ".", parts[2], "="),
                 "signature is not unpadded base64url");
  ExpectRejected(v, absl::StrCat(parts[0], ".", parts[1], ".", parts[2].substr(1), "+"),
                 "signature is not unpadded base64url");
  ExpectRejected(v, absl::StrCat(parts[0], ". ", parts[1], ".", parts[2]),
                 "signature does not verify");  // payload covered by the signature
  for (const char* header :
       {"[]", "\"HS256\"", "42", "null", "{", "not json", "", "{\"alg\":\"HS256\"} x"}) {
    ExpectRejected(v, absl::StrCat(B64(header), ".", parts[1], ".", parts[2]),
                   "header is not a JSON object");
  }
  // Invalid UTF-8 inside the header JSON.
  ExpectRejected(
      v, absl::StrCat(B64("{\"alg\":\"HS256\",\"x\":\"\xff\"}"), ".", parts[1], ".", parts[2]),
      "header is not a JSON object");
}

TEST_F(JwtAttackTest, SignedButMalformedPayload) {
  JwtVerifier v = Verifier();
  auto sign = Hs("SHA256", hs256_);
  for (const char* payload : {"[]", "\"alice\"", "42", "{", "{\"sub\":\"a\"}{}"}) {
    ExpectRejected(v, MakeToken(Header("HS256"), payload, sign), "payload is not a JSON object");
  }
  // Deep nesting within the size limit: an error, not a stack overflow.
  std::string deep =
      absl::StrCat(R"({"sub":"a","x":)", std::string(2500, '['), std::string(2500, ']'), "}");
  EXPECT_TRUE(v.Verify(MakeToken(Header("HS256"), deep, sign), kNow).ok());
  std::string unbalanced = absl::StrCat(R"({"sub":"a","x":)", std::string(5000, '['));
  ExpectRejected(v, MakeToken(Header("HS256"), unbalanced, sign), "payload is not a JSON object");
}

TEST_F(JwtAttackTest, HugeTokensAreRejectedBeforeParsing) {
  JwtVerifier v = Verifier();
  std::string big_header =
      absl::StrCat(R"({"alg":"HS256","pad":")", std::string(10000, 'x'), R"("})");
  ExpectRejected(v, MakeToken(big_header, Payload(), Hs("SHA256", hs256_)),
                 "malformed token: longer than 8192 bytes");
  ExpectRejected(v, std::string(1 << 20, 'A'), "longer than 8192 bytes");

  JwtVerifier::Options roomy;
  roomy.max_token_bytes = 64 * 1024;
  EXPECT_TRUE(
      Verifier(roomy).Verify(MakeToken(big_header, Payload(), Hs("SHA256", hs256_)), kNow).ok());
}

TEST_F(JwtAttackTest, Es256SignatureMustBe64BytesRS) {
  JwtVerifier v = Verifier();
  std::string input = absl::StrCat(B64(Header("ES256", "ec")), ".", B64(Payload()));
  std::string rs = Es256Sign(ec_, input);
  ASSERT_EQ(rs.size(), 64u);
  ASSERT_TRUE(v.Verify(absl::StrCat(input, ".", B64(rs)), kNow).ok());
  for (const std::string& sig :
       {rs.substr(0, 63), rs + std::string(1, '\0'), std::string(1, '\0') + rs, std::string(),
        std::string(64, '\0'), DigestSign(ec_, input)}) {
    ExpectRejected(v, absl::StrCat(input, ".", B64(sig)), "signature does not verify");
  }
}

TEST(JwtBase64UrlTest, StrictDecoding) {
  std::string out;
  EXPECT_TRUE(DecodeBase64UrlStrict("", &out));
  EXPECT_EQ(out, "");
  EXPECT_TRUE(DecodeBase64UrlStrict("QQ", &out));
  EXPECT_EQ(out, "A");
  EXPECT_TRUE(DecodeBase64UrlStrict("_-8", &out));
  EXPECT_EQ(out, "\xff\xef");
  EXPECT_FALSE(DecodeBase64UrlStrict("QR", &out));      // non-zero unused bits
  EXPECT_FALSE(DecodeBase64UrlStrict("QQ==", &out));    // padding
  EXPECT_FALSE(DecodeBase64UrlStrict("Q", &out));       // no whole byte
  EXPECT_FALSE(DecodeBase64UrlStrict("QUJD+A", &out));  // standard alphabet
  EXPECT_FALSE(DecodeBase64UrlStrict("QU JD", &out));
}

TEST(JwtAlgorithmTest, ParseAcceptsOnlyTheFive) {
  EXPECT_EQ(*ParseJwtAlgorithm("HS256"), JwtAlgorithm::kHS256);
  EXPECT_EQ(*ParseJwtAlgorithm("HS384"), JwtAlgorithm::kHS384);
  EXPECT_EQ(*ParseJwtAlgorithm("HS512"), JwtAlgorithm::kHS512);
  EXPECT_EQ(*ParseJwtAlgorithm("RS256"), JwtAlgorithm::kRS256);
  EXPECT_EQ(*ParseJwtAlgorithm("ES256"), JwtAlgorithm::kES256);
  for (const char* bad : {"none", "None", "", "hs256", "RS384", "PS256", "EdDSA", "HS256 "}) {
    EXPECT_EQ(ParseJwtAlgorithm(bad).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace ssebridge
