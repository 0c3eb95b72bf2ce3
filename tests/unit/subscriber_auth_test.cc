#include "bridge/auth/subscriber_auth.h"

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "bridge/auth/memory_ticket_store.h"
#include "tests/unit/jwt_test_tokens.h"

namespace ssebridge {
namespace {

using testing_jwt::Hs;
using testing_jwt::MakeToken;

const absl::Time kNow = absl::FromUnixSeconds(1800000000);

class SubscriberAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    secret_ = std::string(40, 'k');
    ASSERT_TRUE(keys_->AddHmacSecret("k1", JwtAlgorithm::kHS256, secret_).ok());
    verifier_ = std::make_unique<JwtVerifier>(JwtVerifier::Options{}, keys_);
    open_verifier_ = std::make_unique<JwtVerifier>(JwtVerifier::Options{}, nullptr);
    SubscriberAuth::Options o;
    o.public_channels = *ChannelPatterns::Parse("news,status.*");
    auth_ = std::make_unique<SubscriberAuth>(o, verifier_.get(), &tickets_);
    open_ = std::make_unique<SubscriberAuth>(o, open_verifier_.get(), &tickets_);
  }

  std::string Token(absl::string_view sub, absl::string_view channels, int64_t exp) {
    return MakeToken(
        R"({"alg":"HS256","kid":"k1"})",
        absl::StrCat(R"({"sub":")", sub, R"(","channels":)", channels, R"(,"exp":)", exp, "}"),
        Hs("SHA256", secret_));
  }

  std::string secret_;
  std::shared_ptr<JwtKeySet> keys_ = std::make_shared<JwtKeySet>();
  std::unique_ptr<JwtVerifier> verifier_;
  std::unique_ptr<JwtVerifier> open_verifier_;
  MemoryTicketStore tickets_{TicketStore::Options{}};
  std::unique_ptr<SubscriberAuth> auth_;
  std::unique_ptr<SubscriberAuth> open_;
};

TEST_F(SubscriberAuthTest, BearerGrantsItsChannelsAndPublicOnes) {
  SubscriberCredentials c;
  c.authorization =
      "Bearer " + Token("alice", R"(["tasks","dash.*"])", absl::ToUnixSeconds(kNow) + 60);
  auto id = auth_->Authenticate(c, kNow);
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->user_id, "alice");
  EXPECT_EQ(id->method, "bearer");
  // The stream lives as long as the verifier would accept the token.
  EXPECT_EQ(id->expires_at, kNow + absl::Seconds(60) + JwtVerifier::Options{}.leeway);
  EXPECT_TRUE(auth_->Authorize(*id, {"tasks", "dash.cpu", "news", "status.x"}).ok());
  absl::Status denied = auth_->Authorize(*id, {"tasks", "billing"});
  EXPECT_EQ(denied.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(denied.message().find("'billing'"), std::string::npos);
}

TEST_F(SubscriberAuthTest, CookieAndPrecedence) {
  const std::string token = Token("bob", R"(["tasks"])", absl::ToUnixSeconds(kNow) + 60);
  SubscriberCredentials c;
  c.cookie_header = absl::StrCat("theme=dark; ssebridge_token=", token, "; x=1");
  auto id = auth_->Authenticate(c, kNow);
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->user_id, "bob");
  EXPECT_EQ(id->method, "cookie");
  // A bad Authorization header is not rescued by a good cookie.
  c.authorization = "Bearer nonsense";
  EXPECT_EQ(auth_->Authenticate(c, kNow).status().code(), absl::StatusCode::kUnauthenticated);
  c.authorization = "Basic Zm9vOmJhcg==";
  EXPECT_EQ(auth_->Authenticate(c, kNow).status().code(), absl::StatusCode::kUnauthenticated);
}

TEST_F(SubscriberAuthTest, ErrorsNeverEchoTheToken) {
  std::string token = Token("alice", R"(["tasks"])", absl::ToUnixSeconds(kNow) - 3600);
  SubscriberCredentials c;
  c.authorization = "Bearer " + token;
  auto id = auth_->Authenticate(c, kNow);
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(id.status().message().find(token.substr(token.rfind('.') + 1)), std::string::npos);
}

TEST_F(SubscriberAuthTest, QueryTokenNeedsTheFlag) {
  SubscriberCredentials c;
  c.access_token = Token("alice", R"(["tasks"])", absl::ToUnixSeconds(kNow) + 60);
  auto refused = auth_->Authenticate(c, kNow);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("--allow_query_token"), std::string::npos);
  SubscriberAuth::Options o;
  o.allow_query_token = true;
  SubscriberAuth permissive(o, verifier_.get(), &tickets_);
  auto id = permissive.Authenticate(c, kNow);
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->method, "query");
}

TEST_F(SubscriberAuthTest, AnonymousReadsOnlyPublicChannels) {
  auto id = auth_->Authenticate({}, kNow);
  ASSERT_TRUE(id.ok());
  EXPECT_TRUE(id->user_id.empty());
  EXPECT_TRUE(auth_->Authorize(*id, {"news"}).ok());
  absl::Status s = auth_->Authorize(*id, {"news", "tasks"});
  EXPECT_EQ(s.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(s.message().find("'tasks'"), std::string::npos);
}

TEST_F(SubscriberAuthTest, TicketWorksOnceAndScopesChannels) {
  auto ticket = tickets_.Issue("dave", {"tasks"}, absl::Seconds(30), kNow);
  ASSERT_TRUE(ticket.ok());
  SubscriberCredentials c;
  c.ticket = *ticket;
  auto id = auth_->Authenticate(c, kNow);
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->user_id, "dave");
  EXPECT_EQ(id->expires_at, absl::InfiniteFuture());
  EXPECT_TRUE(auth_->Authorize(*id, {"tasks"}).ok());
  EXPECT_EQ(auth_->Authorize(*id, {"dash.cpu"}).code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(auth_->Authenticate(c, kNow).status().code(), absl::StatusCode::kUnauthenticated);
}

// Issue 16 finding 4: a ticket minted by a key limited to tasks* read the
// public channel "news" as its user.
TEST_F(SubscriberAuthTest, ConfinedTicketReadsOnlyItsMintersChannels) {
  TicketGrant grant;
  grant.user_id = "alice";
  grant.channels = *ChannelPatterns::Parse("tasks*");
  grant.minted_by = "tasks_only";
  grant.confined_to = *ChannelPatterns::Parse("tasks*");
  for (SubscriberAuth* auth : {auth_.get(), open_.get()}) {
    SubscriberCredentials c;
    c.ticket = *tickets_.Issue(grant, absl::Seconds(30), kNow);
    auto id = auth->Authenticate(c, kNow);
    ASSERT_TRUE(id.ok()) << id.status();
    EXPECT_EQ(id->minted_by, "tasks_only");
    EXPECT_TRUE(auth->Authorize(*id, {"tasks", "tasks.alice"}).ok());
    absl::Status s = auth->Authorize(*id, {"tasks", "news"});
    EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
    EXPECT_NE(s.message().find("'news' is outside the channels of publisher 'tasks_only'"),
              std::string::npos)
        << s;
  }
}

TEST_F(SubscriberAuthTest, DevModeOpensEveryChannelAndIgnoresTokens) {
  EXPECT_TRUE(open_->open());
  auto anon = open_->Authenticate({}, kNow);
  ASSERT_TRUE(anon.ok());
  EXPECT_TRUE(open_->Authorize(*anon, {"anything", "tasks"}).ok());
  // Nothing could verify a token, so it gives no identity (a forged `sub`
  // must not receive that user's targeted events) and costs no access.
  SubscriberCredentials c;
  c.authorization = "Bearer " + Token("x", "[]", absl::ToUnixSeconds(kNow) + 60);
  c.cookie_header = "ssebridge_token=garbage";
  auto id = open_->Authenticate(c, kNow);
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_TRUE(id->user_id.empty());
  EXPECT_TRUE(open_->Authorize(*id, {"tasks"}).ok());
}

TEST_F(SubscriberAuthTest, StaleCookieLeavesThePublicChannelsOpen) {
  SubscriberCredentials c;
  c.cookie_header =
      "ssebridge_token=" + Token("alice", R"(["tasks"])", absl::ToUnixSeconds(kNow) - 3600);
  auto id = auth_->Authenticate(c, kNow);
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_TRUE(id->user_id.empty());
  EXPECT_TRUE(auth_->Authorize(*id, {"news"}).ok());
  absl::Status s = auth_->Authorize(*id, {"tasks"});
  EXPECT_EQ(s.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(s.message().find("cookie was not accepted"), std::string::npos) << s;
}

TEST(CookieValueTest, ParsesRfc6265Pairs) {
  EXPECT_EQ(CookieValue("a=1; b=2", "b"), "2");
  EXPECT_EQ(CookieValue("a=1;b=\"q\"", "b"), "q");
  EXPECT_EQ(CookieValue("ab=1; b=2", "a"), "");
  EXPECT_EQ(CookieValue("", "a"), "");
  EXPECT_EQ(CookieValue("a", "a"), "");
  EXPECT_EQ(CookieValue("a=x=y", "a"), "x=y");
}

TEST(BearerTokenTest, SchemeIsCaseInsensitive) {
  EXPECT_EQ(BearerToken("Bearer abc"), "abc");
  EXPECT_EQ(BearerToken("bearer   abc "), "abc");
  EXPECT_EQ(BearerToken("Bearer"), "");
  EXPECT_EQ(BearerToken("Basic abc"), "");
  EXPECT_EQ(BearerToken(""), "");
}

}  // namespace
}  // namespace ssebridge
