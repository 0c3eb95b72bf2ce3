#include "bridge/auth/publisher_auth.h"

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "bridge/grpc/ticket_service.h"
#include "tests/unit/jwt_test_tokens.h"

namespace ssebridge {
namespace {

using testing_jwt::Hs;
using testing_jwt::MakeToken;

const absl::Time kNow = absl::FromUnixSeconds(1800000000);

class PublisherAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(keys_.Add("billing-svc", "0123456789abcdef-billing", "billing*").ok());
    ASSERT_TRUE(keys_.Add("ops", "0123456789abcdef-ops", "").ok());
    ASSERT_TRUE(jwt_keys_->AddHmacSecret("default", JwtAlgorithm::kHS256, secret_).ok());
  }
  std::string Jwt(absl::string_view claims) {
    return MakeToken(R"({"alg":"HS256"})", claims, Hs("SHA256", secret_));
  }

  std::string secret_ = std::string(32, 's');
  PublisherKeys keys_;
  PublisherKeys no_keys_;
  std::shared_ptr<JwtKeySet> jwt_keys_ = std::make_shared<JwtKeySet>();
  JwtVerifier verifier_{JwtVerifier::Options{}, jwt_keys_};
  JwtVerifier no_verifier_{JwtVerifier::Options{}, nullptr};
  RateLimiter unlimited_{0, 0};
};

TEST_F(PublisherAuthTest, StaticKeysAndChannelGrants) {
  PublisherAuth auth({}, &keys_, &verifier_, &unlimited_);
  EXPECT_FALSE(auth.open());
  EXPECT_EQ(auth.Authenticate("", kNow).status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(auth.Authenticate("Bearer wrong-key-000000000", kNow).status().code(),
            absl::StatusCode::kUnauthenticated);
  auto billing = auth.Authenticate("Bearer 0123456789abcdef-billing", kNow);
  ASSERT_TRUE(billing.ok()) << billing.status();
  EXPECT_EQ(billing->name, "billing-svc");
  EXPECT_TRUE(PublisherAuth::Authorize(*billing, "billing.invoices").ok());
  absl::Status denied = PublisherAuth::Authorize(*billing, "tasks");
  EXPECT_EQ(denied.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(denied.message().find("'tasks'"), std::string::npos);
  auto ops = auth.Authenticate("bearer 0123456789abcdef-ops", kNow);
  ASSERT_TRUE(ops.ok());
  EXPECT_TRUE(PublisherAuth::Authorize(*ops, "anything").ok());
}

TEST_F(PublisherAuthTest, JwtNeedsPublishClaim) {
  PublisherAuth auth({}, &no_keys_, &verifier_, &unlimited_);
  auto who = auth.Authenticate("Bearer " + Jwt(R"({"sub":"svc","publish":["tasks*"]})"), kNow);
  ASSERT_TRUE(who.ok()) << who.status();
  EXPECT_EQ(who->name, "jwt:svc");
  EXPECT_TRUE(PublisherAuth::Authorize(*who, "tasks.1").ok());
  EXPECT_FALSE(PublisherAuth::Authorize(*who, "other").ok());
  auto reader = auth.Authenticate("Bearer " + Jwt(R"({"sub":"u","channels":["tasks"]})"), kNow);
  EXPECT_EQ(reader.status().code(), absl::StatusCode::kPermissionDenied);
  auto forged = auth.Authenticate(
      "Bearer " + MakeToken(R"({"alg":"HS256"})", R"({"sub":"x","publish":["*"]})",
                            Hs("SHA256", std::string(32, 'z'))),
      kNow);
  EXPECT_EQ(forged.status().code(), absl::StatusCode::kUnauthenticated);
}

TEST_F(PublisherAuthTest, JwtPublisherExpiresMidStream) {
  PublisherAuth auth({}, &no_keys_, &verifier_, &unlimited_);
  const int64_t exp = absl::ToUnixSeconds(kNow) + 60;
  auto who = auth.Authenticate(
      "Bearer " + Jwt(absl::StrCat(R"({"sub":"svc","publish":["*"],"exp":)", exp, "}")), kNow);
  ASSERT_TRUE(who.ok()) << who.status();
  EXPECT_TRUE(auth.Admit(*who, kNow + absl::Seconds(60)).ok());  // within leeway
  absl::Status late = auth.Admit(*who, kNow + absl::Seconds(60) + JwtVerifier::Options{}.leeway);
  EXPECT_EQ(late.code(), absl::StatusCode::kUnauthenticated) << late;
}

TEST_F(PublisherAuthTest, OpenAndAnonymousModes) {
  PublisherAuth open({}, &no_keys_, &no_verifier_, &unlimited_);
  EXPECT_TRUE(open.open());
  auto anyone = open.Authenticate("", kNow);
  ASSERT_TRUE(anyone.ok());
  EXPECT_TRUE(PublisherAuth::Authorize(*anyone, "x").ok());
  PublisherAuth::Options o;
  o.allow_anonymous = true;
  PublisherAuth lax(o, &keys_, &verifier_, &unlimited_);
  EXPECT_TRUE(lax.Authenticate("", kNow).ok());
  EXPECT_FALSE(lax.Authenticate("Bearer not-a-key-0000000", kNow).ok());
}

TEST_F(PublisherAuthTest, RateLimitPerPublisher) {
  RateLimiter limiter(5, 5);
  PublisherAuth auth({}, &keys_, &verifier_, &limiter);
  auto ops = auth.Authenticate("Bearer 0123456789abcdef-ops", kNow);
  auto billing = auth.Authenticate("Bearer 0123456789abcdef-billing", kNow);
  ASSERT_TRUE(ops.ok() && billing.ok());
  int admitted = 0;
  for (int i = 0; i < 20; ++i) admitted += auth.Admit(*ops, kNow).ok();
  EXPECT_EQ(admitted, 5);
  absl::Status over = auth.Admit(*ops, kNow);
  EXPECT_EQ(over.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(auth.Admit(*billing, kNow).ok());  // its own bucket
  EXPECT_TRUE(auth.Admit(*ops, kNow + absl::Seconds(1)).ok());
}

TEST(PublisherCoversTest, PatternsWithinGrants) {
  PublisherIdentity who;
  who.channels = *ChannelPatterns::Parse("tasks*,dash.cpu");
  EXPECT_TRUE(PublisherCovers(who, "tasks"));
  EXPECT_TRUE(PublisherCovers(who, "tasks.a"));
  EXPECT_TRUE(PublisherCovers(who, "tasks.*"));
  EXPECT_TRUE(PublisherCovers(who, "tasks*"));
  EXPECT_TRUE(PublisherCovers(who, "dash.cpu"));
  EXPECT_FALSE(PublisherCovers(who, "dash.*"));
  EXPECT_FALSE(PublisherCovers(who, "*"));
  EXPECT_FALSE(PublisherCovers(who, "task*"));
  EXPECT_FALSE(PublisherCovers(who, "billing"));
  PublisherIdentity all;
  all.all_channels = true;
  EXPECT_TRUE(PublisherCovers(all, "*"));
}

}  // namespace
}  // namespace ssebridge
