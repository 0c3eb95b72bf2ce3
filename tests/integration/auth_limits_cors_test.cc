// Connection limits per user and per client address (429), and the CORS
// allowlist (issue 4).
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/harness/auth_fixture.h"
#include "tests/harness/test_helpers.h"

namespace ssebridge_it {
namespace {

// Connects and reads the response head: the status (0 on failure).
int OpenStatus(SseClient* c, int port, const std::string& target,
               const SseClientOptions& options = {}) {
  if (!c->Connect(port, target, options) || !c->ReadHead(kWait)) return 0;
  return c->status();
}

// Retries until a stream opens (a closed stream's slot is released
// asynchronously); true when one did within kWait.
bool EventuallyOpens(SseClient* c, int port, const std::string& target,
                     const SseClientOptions& options = {}) {
  const absl::Time end = absl::Now() + kWait;
  while (absl::Now() < end) {
    if (OpenStatus(c, port, target, options) == 200) return true;
    c->Close();
    absl::SleepFor(absl::Milliseconds(20));
  }
  return false;
}

class AuthLimitsTest : public AuthTest {
 protected:
  void ExpectTooMany(const HttpResponse& r, const std::string& needle) {
    ExpectJsonError(r, 429, "resource_exhausted", needle);
    EXPECT_TRUE(r.Header("Retry-After").has_value());
  }
};

TEST_F(AuthLimitsTest, PerUserLimitCountsEveryCredentialOfThatUser) {
  ASSERT_TRUE(Start({"--max_connections_per_user=2"}));
  const std::string ann = keys().UserToken("ann", {"tasks"});
  SseClient a1, a2, b1, b2;
  ASSERT_TRUE(a1.Open(http_port(), EventsTarget({"tasks"}), BearerOptions(ann))) << a1.error();
  // The same user through a ticket is the same user.
  ASSERT_TRUE(
      a2.Open(http_port(), TicketTarget({"tasks"}, Backend().MustIssueTicket("ann", {"tasks"}))))
      << a2.error();
  ExpectTooMany(GetEvents(http_port(), EventsTarget({"tasks"}), BearerHeader(ann)), "user");
  ExpectTooMany(GetEvents(http_port(), EventsTarget({"tasks"}),
                          {{"Cookie", absl::StrCat("ssebridge_token=", ann)}}),
                "user");
  // Other users are not affected.
  const std::string bo = keys().UserToken("bo", {"tasks"});
  ASSERT_TRUE(b1.Open(http_port(), EventsTarget({"tasks"}), BearerOptions(bo))) << b1.error();
  ASSERT_TRUE(b2.Open(http_port(), EventsTarget({"tasks"}), BearerOptions(bo))) << b2.error();
  // Closing one frees its slot.
  a1.Close();
  SseClient a3;
  ASSERT_TRUE(EventuallyOpens(&a3, http_port(), EventsTarget({"tasks"}), BearerOptions(ann)))
      << a3.Describe();
  ExpectTooMany(GetEvents(http_port(), EventsTarget({"tasks"}), BearerHeader(ann)), "user");
  // Streams ended by the bridge (DisconnectUser) free theirs too.
  v1::DisconnectUserResponse d;
  ASSERT_TRUE(Admin().DisconnectUser("ann", &d).ok());
  EXPECT_EQ(d.disconnected(), 2u);
  SseClient a4, a5;
  ASSERT_TRUE(EventuallyOpens(&a4, http_port(), EventsTarget({"tasks"}), BearerOptions(ann)))
      << a4.Describe();
  ASSERT_TRUE(EventuallyOpens(&a5, http_port(), EventsTarget({"tasks"}), BearerOptions(ann)))
      << a5.Describe();
}

TEST_F(AuthLimitsTest, RefusedRequestsDoNotUseASlot) {
  ASSERT_TRUE(Start({"--max_connections_per_user=1"}));
  const std::string ann = keys().UserToken("ann", {"tasks"});
  for (int i = 0; i < 3; ++i) {
    ExpectJsonError(GetEvents(http_port(), EventsTarget({"billing"}), BearerHeader(ann)), 403,
                    "permission_denied");
  }
  SseClient a;
  ASSERT_TRUE(a.Open(http_port(), EventsTarget({"tasks"}), BearerOptions(ann))) << a.error();
}

TEST_F(AuthLimitsTest, PerAddressLimit) {
  ASSERT_TRUE(Start({"--public_channels=news", "--max_connections_per_ip=2"}));
  SseClient c1, c2;
  ASSERT_TRUE(c1.Open(http_port(), EventsTarget({"news"}))) << c1.error();
  ASSERT_TRUE(c2.Open(http_port(), EventsTarget({"news"}),
                      BearerOptions(keys().UserToken("ann", {"tasks"}))))
      << c2.error();
  ExpectTooMany(GetEvents(http_port(), EventsTarget({"news"})), "address");
  // Without --client_ip_header a forwarded-for header is not trusted.
  ExpectTooMany(GetEvents(http_port(), EventsTarget({"news"}), {{"X-Forwarded-For", "10.1.1.1"}}),
                "address");
  c2.Close();
  SseClient c3;
  ASSERT_TRUE(EventuallyOpens(&c3, http_port(), EventsTarget({"news"}))) << c3.Describe();
  ExpectTooMany(GetEvents(http_port(), EventsTarget({"news"})), "address");
}

TEST_F(AuthLimitsTest, PerAddressLimitUsesTheConfiguredClientIpHeader) {
  ASSERT_TRUE(Start({"--public_channels=news", "--max_connections_per_ip=1",
                     "--client_ip_header=X-Forwarded-For"}));
  auto from = [](const std::string& xff) { return WithHeaders({{"X-Forwarded-For", xff}}); };
  SseClient a, b;
  ASSERT_TRUE(a.Open(http_port(), EventsTarget({"news"}), from("10.0.0.1"))) << a.error();
  ASSERT_TRUE(b.Open(http_port(), EventsTarget({"news"}), from("10.0.0.2"))) << b.error();
  ExpectTooMany(GetEvents(http_port(), EventsTarget({"news"}), {{"X-Forwarded-For", "10.0.0.1"}}),
                "address");
  // The proxy appends the real peer: the last hop counts, not what the
  // client wrote first.
  ExpectTooMany(GetEvents(http_port(), EventsTarget({"news"}),
                          {{"X-Forwarded-For", "203.0.113.7, 10.0.0.2"}}),
                "address");
}

class CorsTest : public AuthTest {
 protected:
  static std::string Lower(const std::optional<std::string>& v) {
    return absl::AsciiStrToLower(v.value_or(""));
  }
};

TEST_F(CorsTest, AllowedOriginIsEchoedWithCredentialsOthersAreNot) {
  ASSERT_TRUE(Start(
      {"--cors_origins=https://app.example,https://admin.example/", "--public_channels=news"}));
  SseClient ok;
  ASSERT_TRUE(ok.Open(http_port(), EventsTarget({"news"}),
                      WithHeaders({{"Origin", "https://app.example"}})))
      << ok.error();
  EXPECT_EQ(ok.Header("Access-Control-Allow-Origin").value_or(""), "https://app.example");
  EXPECT_EQ(ok.Header("Access-Control-Allow-Credentials").value_or(""), "true");
  EXPECT_TRUE(absl::StrContains(ok.Header("Vary").value_or(""), "Origin"));
  SseClient admin;
  ASSERT_TRUE(admin.Open(http_port(), EventsTarget({"news"}),
                         WithHeaders({{"Origin", "https://admin.example"}})))
      << admin.error();
  EXPECT_EQ(admin.Header("Access-Control-Allow-Origin").value_or(""), "https://admin.example");

  for (const std::string& origin :
       {std::string("https://evil.example"), std::string("https://app.example.evil.example"),
        std::string("http://app.example"), std::string("null")}) {
    SCOPED_TRACE(origin);
    SseClient other;
    ASSERT_TRUE(other.Open(http_port(), EventsTarget({"news"}), WithHeaders({{"Origin", origin}})))
        << other.error();
    EXPECT_FALSE(other.Header("Access-Control-Allow-Origin").has_value());
    EXPECT_FALSE(other.Header("Access-Control-Allow-Credentials").has_value());
    EXPECT_EQ(other.raw_head().find(origin), std::string::npos) << other.raw_head();
  }
  // Errors carry the headers for an allowed origin, so the page can read them.
  HttpResponse denied =
      GetEvents(http_port(), EventsTarget({"tasks"}), {{"Origin", "https://app.example"}});
  EXPECT_EQ(denied.status, 401);
  EXPECT_EQ(denied.Header("Access-Control-Allow-Origin").value_or(""), "https://app.example");
  HttpResponse post =
      HttpRequest(http_port(), "POST", "/v1/publish", "{}",
                  {{"Origin", "https://evil.example"}, {"Content-Type", "application/json"}});
  EXPECT_FALSE(post.Header("Access-Control-Allow-Origin").has_value());
}

TEST_F(CorsTest, PreflightIsAnswered) {
  ASSERT_TRUE(Start({"--cors_origins=https://app.example"}));
  for (const std::string path : {"/v1/events", "/v1/publish"}) {
    SCOPED_TRACE(path);
    HttpResponse r =
        HttpRequest(http_port(), "OPTIONS", absl::StrCat(path, "?channel=tasks"), "",
                    {{"Origin", "https://app.example"},
                     {"Access-Control-Request-Method", "GET"},
                     {"Access-Control-Request-Headers", "authorization,last-event-id"}});
    ASSERT_TRUE(r.ok()) << r.error;
    EXPECT_EQ(r.status, 204) << r.body;
    EXPECT_EQ(r.Header("Access-Control-Allow-Origin").value_or(""), "https://app.example");
    EXPECT_EQ(r.Header("Access-Control-Allow-Credentials").value_or(""), "true");
    const std::string methods = Lower(r.Header("Access-Control-Allow-Methods"));
    EXPECT_TRUE(absl::StrContains(methods, "get")) << methods;
    EXPECT_TRUE(absl::StrContains(methods, "post")) << methods;
    const std::string headers = Lower(r.Header("Access-Control-Allow-Headers"));
    EXPECT_TRUE(absl::StrContains(headers, "authorization")) << headers;
    EXPECT_TRUE(absl::StrContains(headers, "last-event-id")) << headers;
    EXPECT_TRUE(absl::StrContains(headers, "content-type")) << headers;

    HttpResponse other =
        HttpRequest(http_port(), "OPTIONS", path, "",
                    {{"Origin", "https://evil.example"}, {"Access-Control-Request-Method", "GET"}});
    ASSERT_TRUE(other.ok()) << other.error;
    EXPECT_FALSE(other.Header("Access-Control-Allow-Origin").has_value());
    EXPECT_FALSE(other.Header("Access-Control-Allow-Credentials").has_value());
    EXPECT_FALSE(other.Header("Access-Control-Allow-Headers").has_value());
  }
}

TEST_F(CorsTest, NoAllowlistNoCorsHeaders) {
  ASSERT_TRUE(StartWith({}));
  SseClient c;
  ASSERT_TRUE(
      c.Open(http_port(), EventsTarget({"news"}), WithHeaders({{"Origin", "https://app.example"}})))
      << c.error();
  EXPECT_FALSE(c.Header("Access-Control-Allow-Origin").has_value());
  HttpResponse r =
      HttpRequest(http_port(), "OPTIONS", "/v1/events", "",
                  {{"Origin", "https://app.example"}, {"Access-Control-Request-Method", "GET"}});
  EXPECT_FALSE(r.Header("Access-Control-Allow-Origin").has_value());
}

}  // namespace
}  // namespace ssebridge_it
