// JwtVerifier with tokens made here with OpenSSL: each algorithm with its
// key, wrong keys, exp/nbf with leeway, iss/aud, kid rotation, the claims.
// Attacks and malformed input are in jwt_attacks_test.cc.
#include "bridge/auth/jwt_verifier.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "bridge/auth/jwt_keys.h"
#include "gtest/gtest.h"
#include "tests/unit/jwt_test_tokens.h"

namespace ssebridge {
namespace {

using namespace testing_jwt;  // NOLINT: test helpers only
using JwtVerifierTest = JwtFixture;

TEST_F(JwtVerifierTest, EachAlgorithmVerifiesWithItsKeyWithAndWithoutKid) {
  struct Case {
    const char* alg;
    const char* kid;
    Signer sign;
  };
  std::vector<Case> cases = {{"HS256", "h256", Hs("SHA256", hs256_)},
                             {"HS384", "h384", Hs("SHA384", hs384_)},
                             {"HS512", "h512", Hs("SHA512", hs512_)},
                             {"RS256", "rsa", Rs256(rsa_)},
                             {"ES256", "ec", Es256(ec_)}};
  JwtVerifier v = Verifier();
  for (const Case& c : cases) {
    for (bool with_kid : {true, false}) {
      std::string token = MakeToken(Header(c.alg, with_kid ? c.kid : ""), Payload(), c.sign);
      absl::StatusOr<JwtClaims> claims = v.Verify(token, kNow);
      ASSERT_TRUE(claims.ok()) << c.alg << " kid=" << with_kid << ": " << claims.status();
      EXPECT_EQ(claims->subject, "alice");
      EXPECT_EQ(claims->key_id, c.kid);
      EXPECT_EQ(claims->expires_at, kNow + absl::Minutes(5));
      EXPECT_EQ(claims->not_before, absl::InfinitePast());
      EXPECT_FALSE(claims->has_publish);
      EXPECT_TRUE(claims->channels.empty());
    }
  }
}

TEST_F(JwtVerifierTest, WrongKeyDoesNotVerify) {
  JwtVerifier v = Verifier();
  ExpectRejected(v, MakeToken(Header("HS256", "h256"), Payload(), Hs("SHA256", RandomBytes(32))),
                 "signature does not verify");
  ExpectRejected(v, MakeToken(Header("HS256"), Payload(), Hs("SHA256", hs384_)),
                 "signature does not verify");
  ExpectRejected(v, MakeToken(Header("RS256", "rsa"), Payload(), Rs256(other_rsa_)),
                 "signature does not verify");
  ExpectRejected(v, MakeToken(Header("ES256"), Payload(), Es256(other_ec_)),
                 "signature does not verify");
}

TEST_F(JwtVerifierTest, TamperedPayloadDoesNotVerify) {
  std::string token = MakeToken(Header("RS256", "rsa"), Payload(), Rs256(rsa_));
  std::vector<std::string> parts = absl::StrSplit(token, '.');
  std::string forged =
      absl::StrCat(parts[0], ".", B64(R"({"sub":"mallory","exp":4000000000})"), ".", parts[2]);
  ExpectRejected(Verifier(), forged, "signature does not verify");
}

TEST_F(JwtVerifierTest, ExpiryHonoursLeeway) {
  JwtVerifier v = Verifier();  // leeway 30 s
  auto token_expiring = [&](absl::Duration from_now) {
    return MakeToken(Header("HS256"),
                     absl::StrCat(R"({"sub":"alice","exp":)", Seconds(from_now), "}"),
                     Hs("SHA256", hs256_));
  };
  ExpectRejected(v, token_expiring(-absl::Seconds(31)), "token expired");
  ExpectRejected(v, token_expiring(-absl::Seconds(30)), "token expired");
  EXPECT_TRUE(v.Verify(token_expiring(-absl::Seconds(29)), kNow).ok());
  EXPECT_TRUE(v.Verify(token_expiring(absl::Seconds(1)), kNow).ok());

  JwtVerifier::Options strict;
  strict.leeway = absl::ZeroDuration();
  ExpectRejected(Verifier(strict), token_expiring(-absl::Seconds(1)), "token expired");
  ExpectRejected(Verifier(strict), token_expiring(absl::ZeroDuration()), "token expired");
}

TEST_F(JwtVerifierTest, FractionalAndNonNumericTimes) {
  JwtVerifier v = Verifier();
  auto sign = Hs("SHA256", hs256_);
  absl::StatusOr<JwtClaims> c =
      v.Verify(MakeToken(Header("HS256"), R"({"sub":"a","exp":1700000100.5})", sign), kNow);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->expires_at, absl::FromUnixMillis(1700000100500));
  ExpectRejected(v, MakeToken(Header("HS256"), R"({"sub":"a","exp":"1700000100"})", sign),
                 "claim 'exp' is not a number");
  ExpectRejected(v, MakeToken(Header("HS256"), R"({"sub":"a","nbf":null})", sign),
                 "claim 'nbf' is not a number");
  // Far-future values saturate instead of overflowing.
  EXPECT_TRUE(
      v.Verify(MakeToken(Header("HS256"), R"({"sub":"a","exp":18446744073709551615})", sign), kNow)
          .ok());
  EXPECT_TRUE(v.Verify(MakeToken(Header("HS256"), R"({"sub":"a","exp":1e300})", sign), kNow).ok());
}

TEST_F(JwtVerifierTest, NotBeforeHonoursLeeway) {
  JwtVerifier v = Verifier();
  auto token_nbf = [&](absl::Duration from_now) {
    return MakeToken(Header("ES256"), Payload(absl::StrCat(R"("nbf":)", Seconds(from_now))),
                     Es256(ec_));
  };
  ExpectRejected(v, token_nbf(absl::Minutes(1)), "token not valid before");
  ExpectRejected(v, token_nbf(absl::Seconds(31)), "token not valid before");
  absl::StatusOr<JwtClaims> c = v.Verify(token_nbf(absl::Seconds(29)), kNow);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->not_before, kNow + absl::Seconds(29));
}

TEST_F(JwtVerifierTest, RequireExp) {
  JwtVerifier::Options o;
  o.require_exp = true;
  std::string no_exp = MakeToken(Header("HS256"), R"({"sub":"a"})", Hs("SHA256", hs256_));
  ExpectRejected(Verifier(o), no_exp, "no 'exp' claim");
  absl::StatusOr<JwtClaims> c = Verifier().Verify(no_exp, kNow);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->expires_at, absl::InfiniteFuture());
}

TEST_F(JwtVerifierTest, IssuerAndAudienceWhenConfigured) {
  JwtVerifier::Options o;
  o.issuer = "https://idp.example";
  o.audience = "ssebridge";
  JwtVerifier v = Verifier(o);
  auto token = [&](absl::string_view extra) {
    return MakeToken(Header("RS256"), Payload(extra), Rs256(rsa_));
  };
  EXPECT_TRUE(v.Verify(token(R"("iss":"https://idp.example","aud":"ssebridge")"), kNow).ok());
  EXPECT_TRUE(v.Verify(token(R"("iss":"https://idp.example","aud":["x","ssebridge"])"), kNow).ok());
  ExpectRejected(v, token(R"("iss":"https://evil.example","aud":"ssebridge")"),
                 "claim 'iss' does not match");
  ExpectRejected(v, token(R"("aud":"ssebridge")"), "claim 'iss' does not match");
  ExpectRejected(v, token(R"("iss":"https://idp.example","aud":"other")"),
                 "claim 'aud' does not contain");
  ExpectRejected(v, token(R"("iss":"https://idp.example","aud":["x",7])"),
                 "claim 'aud' does not contain");
  ExpectRejected(v, token(R"("iss":"https://idp.example")"), "claim 'aud' does not contain");
  // Unconfigured: anything goes.
  EXPECT_TRUE(Verifier().Verify(token(R"("iss":"whoever","aud":"other")"), kNow).ok());
}

TEST_F(JwtVerifierTest, KeyRotation) {
  const std::string old_secret = RandomBytes(32), new_secret = RandomBytes(32);
  auto both = std::make_shared<JwtKeySet>();
  ASSERT_TRUE(both->AddHmacSecret("2024-01", JwtAlgorithm::kHS256, old_secret).ok());
  ASSERT_TRUE(both->AddHmacSecret("2024-02", JwtAlgorithm::kHS256, new_secret).ok());
  EXPECT_FALSE(both->AddHmacSecret("2024-02", JwtAlgorithm::kHS256, RandomBytes(32)).ok());

  std::string old_token =
      MakeToken(Header("HS256", "2024-01"), Payload(), Hs("SHA256", old_secret));
  std::string new_token =
      MakeToken(Header("HS256", "2024-02"), Payload(), Hs("SHA256", new_secret));
  std::string old_no_kid = MakeToken(Header("HS256"), Payload(), Hs("SHA256", old_secret));
  std::string new_no_kid = MakeToken(Header("HS256"), Payload(), Hs("SHA256", new_secret));
  JwtVerifier v({}, both);
  for (const std::string* t : {&old_token, &new_token, &old_no_kid, &new_no_kid}) {
    EXPECT_TRUE(v.Verify(*t, kNow).ok()) << v.Verify(*t, kNow).status();
  }
  EXPECT_EQ(v.Verify(new_no_kid, kNow)->key_id, "2024-02");

  auto retired = std::make_shared<JwtKeySet>(*both);
  EXPECT_TRUE(retired->Remove("2024-01"));
  EXPECT_FALSE(retired->Remove("2024-01"));
  JwtVerifier after({}, retired);
  ExpectRejected(after, old_token, "unknown kid '2024-01'");
  ExpectRejected(after, old_no_kid, "signature does not verify");
  EXPECT_TRUE(after.Verify(new_token, kNow).ok());
  EXPECT_TRUE(after.Verify(new_no_kid, kNow).ok());
  EXPECT_TRUE(v.Verify(old_token, kNow).ok());  // the old set is unchanged
}

TEST_F(JwtVerifierTest, ChannelsAndPublishClaims) {
  JwtVerifier v = Verifier();
  auto sign = Hs("SHA256", hs256_);
  absl::StatusOr<JwtClaims> c = v.Verify(
      MakeToken(Header("HS256"), Payload(R"("channels":["tasks","user.alice.*"])"), sign), kNow);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->channels, (std::vector<std::string>{"tasks", "user.alice.*"}));

  c = v.Verify(MakeToken(Header("HS256"), Payload(R"("channels":" tasks  news* ")"), sign), kNow);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->channels, (std::vector<std::string>{"tasks", "news*"}));

  c = v.Verify(MakeToken(Header("HS256"), Payload(R"("publish":["tasks.*"])"), sign), kNow);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->has_publish);
  EXPECT_EQ(c->publish, (std::vector<std::string>{"tasks.*"}));

  c = v.Verify(MakeToken(Header("HS256"), Payload(R"("publish":[])"), sign), kNow);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->has_publish);
  EXPECT_TRUE(c->publish.empty());

  ExpectRejected(v, MakeToken(Header("HS256"), Payload(R"("channels":["a*b"])"), sign),
                 "invalid claim 'channels'");
  ExpectRejected(v, MakeToken(Header("HS256"), Payload(R"("channels":["ok",3])"), sign),
                 "claim 'channels' must hold only strings");
  ExpectRejected(v, MakeToken(Header("HS256"), Payload(R"("channels":{"a":1})"), sign),
                 "claim 'channels' must be an array");
  ExpectRejected(v, MakeToken(Header("HS256"), Payload(R"("publish":"a b/c")"), sign),
                 "invalid claim 'publish'");
}

TEST_F(JwtVerifierTest, SubjectIsRequired) {
  JwtVerifier v = Verifier();
  auto sign = Hs("SHA256", hs256_);
  ExpectRejected(v, MakeToken(Header("HS256"), R"({"exp":4000000000})", sign), "no string 'sub'");
  ExpectRejected(v, MakeToken(Header("HS256"), R"({"sub":42})", sign), "no string 'sub'");
  ExpectRejected(v, MakeToken(Header("HS256"), R"({"sub":""})", sign), "claim 'sub'");
  ExpectRejected(
      v,
      MakeToken(Header("HS256"), absl::StrCat(R"({"sub":")", std::string(257, 'u'), "\"}"), sign),
      "claim 'sub'");
  EXPECT_TRUE(v.Verify(MakeToken(Header("HS256"),
                                 absl::StrCat(R"({"sub":")", std::string(256, 'u'), "\"}"), sign),
                       kNow)
                  .ok());
}

TEST_F(JwtVerifierTest, TypAndCritHeaders) {
  JwtVerifier v = Verifier();
  auto sign = Hs("SHA256", hs256_);
  EXPECT_TRUE(v.Verify(MakeToken(R"({"alg":"HS256","typ":"jwt"})", Payload(), sign), kNow).ok());
  // RFC 9068 access tokens.
  EXPECT_TRUE(v.Verify(MakeToken(R"({"alg":"HS256","typ":"at+jwt"})", Payload(), sign), kNow).ok());
  EXPECT_TRUE(v.Verify(MakeToken(R"({"alg":"HS256"})", Payload(), sign), kNow).ok());
  ExpectRejected(v, MakeToken(R"({"alg":"HS256","typ":"JOSE"})", Payload(), sign), "'typ'");
  ExpectRejected(v, MakeToken(R"({"alg":"HS256","typ":1})", Payload(), sign), "'typ'");
  ExpectRejected(v, MakeToken(R"({"alg":"HS256","crit":["exp"],"exp":1})", Payload(), sign),
                 "'crit' is not supported");
}

TEST_F(JwtVerifierTest, NoKeysMeansNothingVerifies) {
  JwtVerifier none({}, nullptr);
  EXPECT_FALSE(none.has_keys());
  JwtVerifier empty({}, std::make_shared<JwtKeySet>());
  EXPECT_FALSE(empty.has_keys());
  EXPECT_TRUE(Verifier().has_keys());
  std::string token = MakeToken(Header("HS256"), Payload(), Hs("SHA256", hs256_));
  ExpectRejected(none, token, "no JWT keys");
  ExpectRejected(empty, token, "no JWT keys");
}

}  // namespace
}  // namespace ssebridge
