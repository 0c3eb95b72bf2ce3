// The HTTP door with JWT auth on (issue 4): which credentials open a stream,
// which are refused and how (401 + WWW-Authenticate, 403 naming the
// channel), public channels, tokens in the URL, and the end of a stream at
// the token's exp.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/harness/auth_fixture.h"
#include "tests/harness/json_util.h"
#include "tests/harness/test_helpers.h"

namespace ssebridge_it {
namespace {

// a's header and signature with b's payload.
std::string Splice(const std::string& a, const std::string& b) {
  const size_t a1 = a.find('.'), a2 = a.rfind('.');
  const size_t b1 = b.find('.'), b2 = b.rfind('.');
  return a.substr(0, a1 + 1) + b.substr(b1 + 1, b2 - b1 - 1) + a.substr(a2);
}

class AuthSubscriberTest : public AuthTest {
 protected:
  // Opens a stream on `channel` with `options` and proves it is live and
  // belongs to `user`: an event targeted at `user` arrives.
  void ExpectOpensAs(const std::string& user, const std::string& channel,
                     const SseClientOptions& options, const std::string& target = "") {
    SseClient c;
    ASSERT_TRUE(c.Open(http_port(), target.empty() ? EventsTarget({channel}) : target, options))
        << c.error();
    AuthedGrpc backend = Backend();
    v1::PublishResponse r;
    const std::string data = absl::StrCat("for ", user);
    ASSERT_TRUE(backend.Publish(Targeted(channel, data, {user}), &r).ok());
    // At least this stream: the previous call's stream of the same user may
    // not be closed on the bridge's side yet (its client just hung up).
    EXPECT_GE(r.subscribers(), 1u);
    ASSERT_TRUE(c.WaitForData(data, kWait)) << c.Describe();
  }

  // A 401 whose WWW-Authenticate names Bearer, with error="invalid_token"
  // exactly when a credential was sent.
  void ExpectUnauthenticated(const HttpResponse& r, bool invalid_token,
                             const std::string& needle = "") {
    ExpectJsonError(r, 401, "unauthenticated", needle);
    std::string challenge = r.Header("WWW-Authenticate").value_or("");
    EXPECT_TRUE(absl::StartsWith(challenge, "Bearer ")) << challenge;
    EXPECT_TRUE(absl::StrContains(challenge, "realm=\"ssebridge\"")) << challenge;
    EXPECT_EQ(absl::StrContains(challenge, "error=\"invalid_token\""), invalid_token) << challenge;
  }
};

TEST_F(AuthSubscriberTest, EveryConfiguredKeyAndPresentationOpensAStream) {
  ASSERT_TRUE(Start());
  const JwtClaims claims = UserClaims("ann", {"tasks"});
  // Bearer with each kid: two HS256 kids (rotation), RS256, ES256.
  ExpectOpensAs("ann", "tasks", BearerOptions(keys().Hs1(claims)));
  ExpectOpensAs("ann", "tasks",
                BearerOptions(SignHmac("HS256", keys().hs2_secret, "hs2", claims.Json())));
  ExpectOpensAs("ann", "tasks", BearerOptions(SignRs256(*keys().rsa, "rs1", claims.Json())));
  ExpectOpensAs("ann", "tasks", BearerOptions(SignEs256(*keys().ec, "es1", claims.Json())));
  // The default cookie, among others.
  ExpectOpensAs(
      "ann", "tasks",
      WithHeaders(
          {{"Cookie", absl::StrCat("theme=dark; ssebridge_token=", keys().Hs1(claims), "; x=1")}}));
  // A wildcard grant.
  ExpectOpensAs("bo", "tasks.42", BearerOptions(keys().UserToken("bo", {"tasks.*"})));
}

// ticket > Authorization: Bearer > cookie > access_token: the first one
// present decides, a bad one is not rescued by a good one further down.
TEST_F(AuthSubscriberTest, CredentialPrecedence) {
  ASSERT_TRUE(Start({"--allow_query_token"}));
  const std::string garbage = "not.a.jwt";
  const std::string ann = keys().UserToken("ann", {"tasks"});
  const std::string bo = keys().UserToken("bo", {"tasks"});
  const std::string query = absl::StrCat(EventsTarget({"tasks"}), "&access_token=");
  auto cookie = [](const std::string& t) {
    return std::make_pair(std::string("Cookie"), absl::StrCat("ssebridge_token=", t));
  };
  const std::string bearer_header = absl::StrCat("Bearer ", bo);
  // A ticket wins over everything else.
  ExpectOpensAs("carol", "tasks",
                WithHeaders({{"Authorization", absl::StrCat("Bearer ", garbage)}, cookie(garbage)}),
                absl::StrCat(TicketTarget({"tasks"}, Backend().MustIssueTicket("carol", {"tasks"})),
                             "&access_token=", garbage));
  // Bearer over cookie and query.
  ExpectOpensAs("bo", "tasks", WithHeaders({{"Authorization", bearer_header}, cookie(ann)}),
                query + ann);
  ExpectUnauthenticated(
      GetEvents(http_port(), query + ann, {{"Authorization", "Bearer " + garbage}, cookie(ann)}),
      true);
  // Cookie over query.
  ExpectOpensAs("ann", "tasks", WithHeaders({cookie(ann)}), query + bo);
  // A cookie that does not verify is ambient noise: the query token is used.
  ExpectOpensAs("ann", "tasks", WithHeaders({cookie(garbage)}), query + ann);
  // A used ticket is not rescued by a valid Bearer token.
  const std::string ticket = Backend().MustIssueTicket("carol", {"tasks"});
  ExpectOpensAs("carol", "tasks", {}, TicketTarget({"tasks"}, ticket));
  ExpectUnauthenticated(GetEvents(http_port(), TicketTarget({"tasks"}, ticket), BearerHeader(ann)),
                        true, "ticket");
}

TEST_F(AuthSubscriberTest, BadTokensAre401WithInvalidToken) {
  ASSERT_TRUE(Start());
  const JwtClaims good = UserClaims("ann", {"tasks"});
  JwtClaims expired = good;
  expired.exp = absl::ToUnixSeconds(absl::Now() - absl::Minutes(5));  // > leeway
  JwtClaims not_yet = good;
  not_yet.nbf = absl::ToUnixSeconds(absl::Now() + absl::Minutes(5));
  const std::string other_secret = RandomHex(32);
  std::unique_ptr<TestKeyPair> other_rsa = TestKeyPair::Rsa(2048);
  ASSERT_NE(other_rsa, nullptr);
  const std::string valid = keys().Hs1(good);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"wrong HS secret", SignHmac("HS256", other_secret, "hs1", good.Json())},
      {"wrong RSA key", SignRs256(*other_rsa, "rs1", good.Json())},
      {"expired", keys().Hs1(expired)},
      {"not yet valid", keys().Hs1(not_yet)},
      {"alg none", UnsignedToken(good.Json())},
      // Algorithm confusion: HS256 keyed with the RS256 public key's PEM.
      {"HS256 with the RSA public key",
       SignHmac("HS256", keys().rsa->PublicPem(), "rs1", good.Json())},
      {"HS256 with the PEM, no kid", SignHmac("HS256", keys().rsa->PublicPem(), "", good.Json())},
      {"unknown kid", SignHmac("HS256", keys().hs1_secret, "hs9", good.Json())},
      {"kid of another alg", SignRs256(*keys().rsa, "hs1", good.Json())},
      // ann's header and signature around another payload.
      {"swapped payload", Splice(valid, keys().Hs1(UserClaims("root", {"*"})))},
      {"garbage", "not.a.jwt"},
  };
  for (const auto& [what, token] : cases) {
    SCOPED_TRACE(what);
    ExpectUnauthenticated(GetEvents(http_port(), EventsTarget({"tasks"}), BearerHeader(token)),
                          true);
    ExpectUnauthenticated(GetEvents(http_port(), EventsTarget({"tasks"}),
                                    {{"Cookie", absl::StrCat("ssebridge_token=", token)}}),
                          true);
  }
  // The reason helps, and names the problem.
  ExpectUnauthenticated(
      GetEvents(http_port(), EventsTarget({"tasks"}), BearerHeader(keys().Hs1(expired))), true,
      "expired");
  // Not a Bearer scheme at all.
  ExpectUnauthenticated(GetEvents(http_port(), EventsTarget({"tasks"}),
                                  {{"Authorization", absl::StrCat("Basic ", valid)}}),
                        true);
}

TEST_F(AuthSubscriberTest, IssuerAndAudienceAreCheckedWhenConfigured) {
  ASSERT_TRUE(Start({"--jwt_issuer=https://id.example", "--jwt_audience=ssebridge"}));
  JwtClaims c = UserClaims("ann", {"tasks"});
  c.iss = "https://id.example";
  c.aud = "ssebridge";
  ExpectOpensAs("ann", "tasks", BearerOptions(keys().Hs1(c)));
  JwtClaims wrong_iss = c;
  wrong_iss.iss = "https://evil.example";
  JwtClaims wrong_aud = c;
  wrong_aud.aud = "other";
  JwtClaims no_aud = c;
  no_aud.aud.reset();
  for (const JwtClaims* bad : {&wrong_iss, &wrong_aud, &no_aud}) {
    ExpectUnauthenticated(
        GetEvents(http_port(), EventsTarget({"tasks"}), BearerHeader(keys().Hs1(*bad))), true);
  }
}

TEST_F(AuthSubscriberTest, MissingCredentialIs401AndUngrantedChannelIs403) {
  ASSERT_TRUE(Start());
  ExpectUnauthenticated(GetEvents(http_port(), EventsTarget({"tasks"})), false, "tasks");
  const HeaderList ann = BearerHeader(keys().UserToken("ann", {"tasks", "reports.*"}));
  ExpectJsonError(GetEvents(http_port(), EventsTarget({"billing"}), ann), 403, "permission_denied",
                  "billing");
  // One ungranted channel among granted ones refuses the whole stream.
  ExpectJsonError(GetEvents(http_port(), EventsTarget({"tasks", "reports.q1", "payroll"}), ann),
                  403, "permission_denied", "payroll");
  // "reports.*" does not grant "reports" itself, nor "reportsX".
  ExpectJsonError(GetEvents(http_port(), EventsTarget({"reportsX"}), ann), 403, "permission_denied",
                  "reportsX");
  // A token without a channels claim grants nothing private.
  ExpectJsonError(GetEvents(http_port(), EventsTarget({"tasks"}), BearerHeader(keys().Hs1([] {
                              JwtClaims c;
                              c.sub = "ann";
                              c.exp = absl::ToUnixSeconds(absl::Now() + absl::Minutes(5));
                              return c;
                            }()))),
                  403, "permission_denied", "tasks");
}

TEST_F(AuthSubscriberTest, PublicChannelsAreReadableAnonymouslyOthersStayPrivate) {
  ASSERT_TRUE(Start({"--public_channels=news,status.*"}));
  for (const std::string channel : {"news", "status.eu"}) {
    SseClient anon;
    ASSERT_TRUE(anon.Open(http_port(), EventsTarget({channel}))) << anon.error();
    AuthedGrpc backend = Backend();
    v1::PublishResponse r;
    ASSERT_TRUE(backend.Publish(MakePublish(channel, "hello"), &r).ok());
    ASSERT_TRUE(anon.WaitForData("hello", kWait)) << anon.Describe();
  }
  ExpectUnauthenticated(GetEvents(http_port(), EventsTarget({"tasks"})), false);
  ExpectUnauthenticated(GetEvents(http_port(), EventsTarget({"news", "tasks"})), false);
  ExpectUnauthenticated(GetEvents(http_port(), EventsTarget({"newsroom"})), false);
  // A user may mix public channels with its own.
  ExpectOpensAs("ann", "tasks", BearerOptions(keys().UserToken("ann", {"tasks"})),
                EventsTarget({"news", "tasks"}));
}

TEST_F(AuthSubscriberTest, TokenInQueryIsRefusedUnlessEnabledAndNeverLogged) {
  ASSERT_TRUE(Start({"--log_level=debug"}));
  const std::string token = keys().UserToken("ann", {"tasks"});
  const std::string target = absl::StrCat(EventsTarget({"tasks"}), "&access_token=", token);
  ExpectUnauthenticated(GetEvents(http_port(), target), true, "access_token");
  // A bad Bearer token and a bad ticket are not logged either.
  const std::string bad =
      SignHmac("HS256", RandomHex(32), "hs1", UserClaims("ann", {"tasks"}).Json());
  ExpectUnauthenticated(GetEvents(http_port(), EventsTarget({"tasks"}), BearerHeader(bad)), true);
  const std::string signature = token.substr(token.rfind('.') + 1);
  const std::string bad_signature = bad.substr(bad.rfind('.') + 1);
  for (const std::string& line : bridge_->LogLines()) {
    EXPECT_FALSE(absl::StrContains(line, signature)) << "token in log: " << line;
    EXPECT_FALSE(absl::StrContains(line, bad_signature)) << "token in log: " << line;
  }

  ASSERT_TRUE(Start({"--allow_query_token"}));
  ExpectOpensAs("ann", "tasks", {}, target);
}

// At the token's exp the stream ends with ssebridge.auth_expired, then EOF.
TEST_F(AuthSubscriberTest, StreamEndsWithAuthExpiredAtTokenExpiry) {
  ASSERT_TRUE(Start({"--heartbeat=200ms", "--jwt_leeway=0s"}));
  // exp is whole seconds: 2-3 s ahead.
  const int64_t exp = absl::ToUnixSeconds(absl::Now()) + 3;
  JwtClaims claims = UserClaims("ann", {"tasks"});
  claims.exp = exp;
  JwtClaims longer = UserClaims("bo", {"tasks"}, absl::Minutes(5));
  SseClient ann, bo;
  ASSERT_TRUE(ann.Open(http_port(), EventsTarget({"tasks"}), BearerOptions(keys().Hs1(claims))))
      << ann.error();
  ASSERT_TRUE(bo.Open(http_port(), EventsTarget({"tasks"}), BearerOptions(keys().Hs1(longer))))
      << bo.error();
  AuthedGrpc backend = Backend();
  v1::PublishResponse r;
  ASSERT_TRUE(backend.Publish(MakePublish("tasks", "before-exp"), &r).ok());
  ASSERT_TRUE(ann.WaitForData("before-exp", kWait)) << ann.Describe();

  ASSERT_TRUE(ann.ReadUntil([&] { return ann.events().back().event == "ssebridge.auth_expired"; },
                            absl::Seconds(3) + kWait))
      << ann.Describe();
  const absl::Time got = absl::Now();
  EXPECT_GE(got, absl::FromUnixSeconds(exp) - absl::Milliseconds(50)) << "ended before exp";
  EXPECT_LE(got, absl::FromUnixSeconds(exp) + absl::Seconds(3))
      << "ended long after exp (precision is heartbeat/4, at most 1 s)";
  google::protobuf::Struct json;
  EXPECT_TRUE(ParseJsonObject(ann.events().back().data, &json))
      << "auth_expired data is not JSON: " << ann.events().back().data;
  ASSERT_TRUE(ann.WaitForClose(kWait)) << ann.Describe();
  EXPECT_TRUE(ann.eof()) << ann.Describe();
  EXPECT_EQ(EventDatas(ann.events()).front(), "before-exp");
  EXPECT_EQ(ann.events().size(), 2u);

  // Bo's stream is untouched and the expired token cannot reconnect.
  ASSERT_TRUE(backend.Publish(MakePublish("tasks", "after-exp"), &r).ok());
  ASSERT_TRUE(bo.WaitForData("after-exp", kWait)) << bo.Describe();
  EXPECT_FALSE(bo.closed());
  ExpectUnauthenticated(
      GetEvents(http_port(), EventsTarget({"tasks"}), BearerHeader(keys().Hs1(claims))), true,
      "expired");
}

}  // namespace
}  // namespace ssebridge_it
