// Publisher credentials (issue 4): static keys (plain and sha256:), JWTs with
// a `publish` claim, per-channel grants, the rate limit, through gRPC
// (Publish, PublishStream, Subscribe) and POST /v1/publish.
#include <algorithm>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/harness/auth_fixture.h"
#include "tests/harness/json_util.h"
#include "tests/harness/test_helpers.h"

namespace ssebridge_it {
namespace {

class AuthPublisherTest : public AuthTest {
 protected:
  HttpResponse Post(const std::string& credential, const std::string& channel,
                    const std::string& data) {
    HeaderList h = {{"Content-Type", "application/json"}};
    if (!credential.empty()) h.emplace_back("Authorization", absl::StrCat("Bearer ", credential));
    return HttpRequest(http_port(), "POST", "/v1/publish",
                       absl::StrCat("{\"channel\":\"", channel, "\",\"data\":\"", data, "\"}"), h);
  }
  // A publisher JWT (HS256, kid hs1); `publish` unset = no claim.
  std::string PublisherJwt(std::optional<std::vector<std::string>> publish) {
    JwtClaims c;
    c.sub = "svc-reports";
    c.publish = std::move(publish);
    c.exp = absl::ToUnixSeconds(absl::Now() + absl::Minutes(5));
    return keys().Hs1(c);
  }
};

TEST_F(AuthPublisherTest, UnaryPublishNeedsAKnownKey) {
  ASSERT_TRUE(Start());
  v1::PublishResponse r;
  for (const std::string& bad :
       {std::string(), std::string("pk_wrong_0123456789abcdef"), keys().backend_key + "x",
        keys().admin_key, Sha256Hex(keys().hashed_key)}) {
    grpc::Status s = As(bad).Publish(MakePublish("tasks", "x"), &r);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED)
        << "credential '" << bad.substr(0, 12) << "': " << StatusText(s);
  }
  // Not "Bearer": the scheme matters.
  {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", absl::StrCat("Basic ", keys().backend_key));
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
    auto stub = v1::Publisher::NewStub(channel_);
    EXPECT_EQ(stub->Publish(&ctx, MakePublish("tasks", "x"), &r).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
  }
  // Each good key (plain, sha256: stored) publishes.
  SseClient sub;
  ASSERT_TRUE(sub.Open(http_port(), EventsTarget({"tasks"}),
                       BearerOptions(keys().UserToken("ann", {"tasks"}))))
      << sub.error();
  std::vector<std::string> ids;
  for (const std::string& key : {keys().backend_key, keys().tasks_key, keys().hashed_key}) {
    grpc::Status s = As(key).Publish(MakePublish("tasks", "ok"), &r);
    ASSERT_TRUE(s.ok()) << StatusText(s);
    ids.push_back(r.id());
  }
  ASSERT_TRUE(sub.WaitForEvents(3, kWait)) << sub.Describe();
  sub.ReadFor(absl::Milliseconds(100));
  EXPECT_EQ(EventIds(sub.events()), ids) << "only the accepted publishes arrive";
}

TEST_F(AuthPublisherTest, PublishStreamRefusesUngrantedChannelPerMessageAndStaysOpen) {
  ASSERT_TRUE(Start());
  SseClient billing;
  ASSERT_TRUE(billing.Open(http_port(), EventsTarget({"billing"}),
                           BearerOptions(keys().UserToken("ann", {"billing"}))))
      << billing.error();
  auto stream = As(keys().tasks_key).Stream();
  v1::PublishResponse r;
  ASSERT_TRUE(stream->Send(MakePublish("tasks.1", "a"), &r));
  EXPECT_FALSE(r.has_error()) << r.ShortDebugString();
  ASSERT_TRUE(stream->Send(MakePublish("billing", "leak"), &r));
  ASSERT_TRUE(r.has_error()) << r.ShortDebugString();
  EXPECT_EQ(r.error().code(), 7) << r.ShortDebugString();  // PERMISSION_DENIED
  EXPECT_NE(r.error().message().find("billing"), std::string::npos) << r.error().message();
  EXPECT_TRUE(r.id().empty());
  ASSERT_TRUE(stream->Send(MakePublish("tasks", "b"), &r)) << "the stream stays open";
  EXPECT_FALSE(r.has_error()) << r.ShortDebugString();
  EXPECT_TRUE(stream->Finish().ok()) << StatusText(stream->Finish());

  v1::PublishResponse marker;
  ASSERT_TRUE(Backend().Publish(MakePublish("billing", "marker"), &marker).ok());
  ASSERT_TRUE(billing.WaitForData("marker", kWait)) << billing.Describe();
  EXPECT_EQ(EventDatas(billing.events()), std::vector<std::string>{"marker"});
}

TEST_F(AuthPublisherTest, PublishStreamWithoutCredentialFailsUnauthenticated) {
  ASSERT_TRUE(Start());
  for (const std::string& cred : {std::string(), std::string("pk_nope_0123456789abcdef")}) {
    auto stream = As(cred).Stream();
    v1::PublishResponse r;
    EXPECT_FALSE(stream->Send(MakePublish("tasks", "x"), &r)) << r.ShortDebugString();
    EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::UNAUTHENTICATED)
        << StatusText(stream->Finish());
  }
}

TEST_F(AuthPublisherTest, JwtPublishClaimGrantsChannels) {
  ASSERT_TRUE(Start());
  v1::PublishResponse r;
  AuthedGrpc reports = As(PublisherJwt(std::vector<std::string>{"reports.*"}));
  grpc::Status s = reports.Publish(MakePublish("reports.daily", "x"), &r);
  EXPECT_TRUE(s.ok()) << StatusText(s);
  EXPECT_EQ(reports.Publish(MakePublish("billing", "x"), &r).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  auto stream = reports.Stream();
  ASSERT_TRUE(stream->Send(MakePublish("billing", "x"), &r));
  EXPECT_EQ(r.error().code(), 7) << r.ShortDebugString();
  ASSERT_TRUE(stream->Send(MakePublish("reports.q1", "x"), &r));
  EXPECT_FALSE(r.has_error()) << r.ShortDebugString();
  stream->Finish();
  // A subscriber token (no publish claim) may not publish.
  s = As(keys().UserToken("ann", {"tasks"})).Publish(MakePublish("tasks", "x"), &r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << StatusText(s);
  s = As(PublisherJwt(std::nullopt)).Publish(MakePublish("tasks", "x"), &r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << StatusText(s);
  // A bad or expired publisher JWT is unauthenticated.
  JwtClaims expired;
  expired.sub = "svc";
  expired.publish = std::vector<std::string>{"*"};
  expired.exp = absl::ToUnixSeconds(absl::Now() - absl::Minutes(5));
  EXPECT_EQ(As(keys().Hs1(expired)).Publish(MakePublish("tasks", "x"), &r).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(As(UnsignedToken(expired.Json())).Publish(MakePublish("tasks", "x"), &r).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(AuthPublisherTest, GrpcSubscribeNeedsAPublisherCredentialCoveringTheChannels) {
  ASSERT_TRUE(Start());
  EXPECT_EQ(As("").SubscribeStatus({"tasks"}).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(As(keys().UserToken("ann", {"tasks"})).SubscribeStatus({"tasks"}).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(As(keys().tasks_key).SubscribeStatus({"tasks", "billing"}).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  grpc::Status s = As(keys().tasks_key).SubscribeStatus({"tasks", "tasks.1"});
  EXPECT_TRUE(s.ok()) << StatusText(s);
}

TEST_F(AuthPublisherTest, RateLimitRefusesExcessAndDeliversEveryAcceptedEvent) {
  ASSERT_TRUE(Start({"--publish_rate_limit=5", "--publish_rate_burst=5"}));
  SseClient sub;
  ASSERT_TRUE(sub.Open(http_port(), EventsTarget({"tasks"}),
                       BearerOptions(keys().UserToken("ann", {"tasks"}))))
      << sub.error();
  auto stream = Backend().Stream();
  std::vector<std::string> accepted;
  int exhausted = 0;
  const absl::Time start = absl::Now();
  for (int i = 0; i < 20; ++i) {
    v1::PublishResponse r;
    ASSERT_TRUE(stream->Send(MakePublish("tasks", absl::StrCat("e", i)), &r));
    if (r.has_error()) {
      EXPECT_EQ(r.error().code(), 8) << r.ShortDebugString();  // RESOURCE_EXHAUSTED
      EXPECT_TRUE(r.id().empty());
      ++exhausted;
    } else {
      accepted.push_back(r.id());
    }
  }
  const double elapsed = absl::ToDoubleSeconds(absl::Now() - start);
  EXPECT_TRUE(stream->Finish().ok());
  EXPECT_GT(exhausted, 0);
  EXPECT_GE(accepted.size(), 5u) << "the burst";
  EXPECT_LE(static_cast<double>(accepted.size()), 5 + 5 * elapsed + 1)
      << "burst 5 + 5/s over " << elapsed << " s";
  // Another publisher has its own bucket.
  v1::PublishResponse other;
  ASSERT_TRUE(As(keys().hashed_key).Publish(MakePublish("tasks", "other"), &other).ok());
  accepted.push_back(other.id());
  ASSERT_TRUE(sub.WaitForData("other", kWait)) << sub.Describe();
  EXPECT_EQ(EventIds(sub.events()), accepted);

  // The HTTP door shares the bucket: drain it, then 429 with a JSON error.
  bool saw_429 = false;
  for (int i = 0; i < 40 && !saw_429; ++i) {
    HttpResponse p = Post(keys().backend_key, "tasks", "http");
    ASSERT_TRUE(p.ok()) << p.error;
    if (p.status == 429) {
      saw_429 = true;
      ExpectJsonError(p, 429, "resource_exhausted");
    } else {
      ASSERT_EQ(p.status, 200) << p.body;
    }
  }
  EXPECT_TRUE(saw_429);
  // Unary gRPC too, once the bucket is empty.
  grpc::Status s;
  for (int i = 0; i < 40; ++i) {
    v1::PublishResponse r;
    s = Backend().Publish(MakePublish("tasks", "unary"), &r);
    if (!s.ok()) break;
  }
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << StatusText(s);
}

TEST_F(AuthPublisherTest, HttpPublishTakesTheSameCredentials) {
  ASSERT_TRUE(Start());
  HttpResponse none = Post("", "tasks", "x");
  ExpectJsonError(none, 401, "unauthenticated");
  EXPECT_NE(none.Header("WWW-Authenticate").value_or("").find("Bearer"), std::string::npos);
  HttpResponse wrong = Post("pk_wrong_0123456789abcdef", "tasks", "x");
  ExpectJsonError(wrong, 401, "unauthenticated");
  EXPECT_NE(wrong.Header("WWW-Authenticate").value_or("").find("Bearer"), std::string::npos);
  ExpectJsonError(Post(keys().tasks_key, "billing", "x"), 403, "permission_denied", "billing");
  ExpectJsonError(Post(keys().UserToken("ann", {"tasks"}), "tasks", "x"), 403, "permission_denied");

  SseClient sub;
  ASSERT_TRUE(sub.Open(http_port(), EventsTarget({"tasks"}),
                       BearerOptions(keys().UserToken("ann", {"tasks"}))))
      << sub.error();
  std::vector<std::string> ids;
  for (const std::string& key :
       {keys().tasks_key, keys().hashed_key, PublisherJwt(std::vector<std::string>{"tasks"})}) {
    HttpResponse ok = Post(key, "tasks", "posted");
    ASSERT_EQ(ok.status, 200) << ok.body;
    v1::PublishResponse parsed;
    std::string err;
    ASSERT_TRUE(ParsePublishResponseJson(ok.body, &parsed, &err)) << err << ": " << ok.body;
    ids.push_back(parsed.id());
  }
  // Targeting through the JSON door: ann gets hers, not bo's.
  for (const std::string user : {"bo", "ann"}) {
    HttpResponse t = HttpRequest(http_port(), "POST", "/v1/publish",
                                 absl::StrCat(R"({"channel":"tasks","data":"for-)", user,
                                              R"(","userIds":[")", user, R"("]})"),
                                 {{"Content-Type", "application/json"},
                                  {"Authorization", absl::StrCat("Bearer ", keys().backend_key)}});
    ASSERT_EQ(t.status, 200) << t.body;
    v1::PublishResponse parsed;
    std::string err;
    ASSERT_TRUE(ParsePublishResponseJson(t.body, &parsed, &err)) << err;
    EXPECT_EQ(parsed.subscribers(), user == "ann" ? 1u : 0u);
    if (user == "ann") ids.push_back(parsed.id());
  }
  ASSERT_TRUE(sub.WaitForData("for-ann", kWait)) << sub.Describe();
  EXPECT_EQ(EventIds(sub.events()), ids);
}

// The batch form checks the key once and its channel grant per event, as
// gRPC PublishBatch does: the ungranted event fails, the others publish.
TEST_F(AuthPublisherTest, HttpBatchChecksTheGrantPerEvent) {
  ASSERT_TRUE(Start());
  SseClient sub;
  ASSERT_TRUE(sub.Open(http_port(), EventsTarget({"tasks", "billing"}),
                       BearerOptions(keys().UserToken("ann", {"tasks", "billing"}))))
      << sub.error();
  const std::string batch = R"([{"channel":"tasks","data":"t1"},{"channel":"billing","data":"b1"},)"
                            R"({"channel":"tasks.x","data":"t2"}])";
  auto post = [&](const std::string& credential, const std::string& body, const std::string& type) {
    HeaderList h = {{"Content-Type", type}};
    if (!credential.empty()) h.emplace_back("Authorization", absl::StrCat("Bearer ", credential));
    return HttpRequest(http_port(), "POST", "/v1/publish", body, h);
  };
  ExpectJsonError(post("", batch, "application/json"), 401, "unauthenticated");

  HttpResponse r = post(keys().tasks_key, batch, "application/json");
  ASSERT_EQ(r.status, 200) << r.body;
  std::vector<PublishResult> results;
  std::string err;
  ASSERT_TRUE(ParsePublishResultsJson(r.body, &results, &err)) << err << ": " << r.body;
  ASSERT_EQ(results.size(), 3u) << r.body;
  EXPECT_EQ(results[0].error, "");
  EXPECT_EQ(results[1].error, "permission_denied");
  EXPECT_NE(results[1].message.find("event 1"), std::string::npos) << results[1].message;
  EXPECT_NE(results[1].message.find("billing"), std::string::npos) << results[1].message;
  EXPECT_EQ(results[2].error, "") << results[2].message;

  // The same over NDJSON, with a key granted everything: all three publish.
  HttpResponse all = post(keys().backend_key,
                          "{\"channel\":\"tasks\",\"data\":\"t3\"}\n"
                          "{\"channel\":\"billing\",\"data\":\"b2\"}\n",
                          "application/x-ndjson");
  ASSERT_EQ(all.status, 200) << all.body;
  std::vector<PublishResult> all_results;
  ASSERT_TRUE(ParsePublishResultsJson(all.body, &all_results, &err)) << err << ": " << all.body;
  ASSERT_EQ(all_results.size(), 2u);
  EXPECT_EQ(all_results[1].error, "") << all_results[1].message;

  ASSERT_TRUE(sub.WaitForData("b2", kWait)) << sub.Describe();
  EXPECT_EQ(EventDatas(sub.events()), (std::vector<std::string>{"t1", "t3", "b2"}));
  EXPECT_EQ(EventIds(sub.events()),
            (std::vector<std::string>{results[0].published.id(), all_results[0].published.id(),
                                      all_results[1].published.id()}));
}

TEST_F(AuthPublisherTest, AnonymousPublishWhenAllowed) {
  ASSERT_TRUE(Start({"--allow_anonymous_publish"}));
  v1::PublishResponse r;
  EXPECT_TRUE(As("").Publish(MakePublish("tasks", "x"), &r).ok());
  // A credential that is sent must still be valid.
  EXPECT_EQ(As("pk_wrong_0123456789abcdef").Publish(MakePublish("tasks", "x"), &r).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

}  // namespace
}  // namespace ssebridge_it
