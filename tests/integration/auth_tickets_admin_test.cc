// Tickets (one-time, short-lived, scoped stream credentials minted by a
// backend) and the Admin service (DisconnectUser, GetStats) of issue 4.
#include <map>
#include <memory>
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

class AuthTicketsTest : public AuthTest {};

TEST_F(AuthTicketsTest, TicketWorksOnceAndItsUserGetsTargetedEvents) {
  ASSERT_TRUE(Start());
  AuthedGrpc backend = Backend();
  v1::IssueTicketResponse issued;
  const absl::Time before = absl::Now();
  ASSERT_TRUE(backend.IssueTicket("carol", {"tasks"}, 0, &issued).ok());
  ASSERT_FALSE(issued.ticket().empty());
  // ttl 0 means 30 s.
  const absl::Time expires = absl::FromUnixSeconds(issued.expires_at().seconds());
  EXPECT_GE(expires, before + absl::Seconds(29));
  EXPECT_LE(expires, absl::Now() + absl::Seconds(31));

  SseClient carol, dave;
  ASSERT_TRUE(carol.Open(http_port(), TicketTarget({"tasks"}, issued.ticket()))) << carol.error();
  ASSERT_TRUE(
      dave.Open(http_port(), TicketTarget({"tasks"}, backend.MustIssueTicket("dave", {"tasks"}))))
      << dave.error();
  v1::PublishResponse r;
  ASSERT_TRUE(backend.Publish(Targeted("tasks", "for-carol", {"carol"}), &r).ok());
  EXPECT_EQ(r.subscribers(), 1u);
  ASSERT_TRUE(backend.Publish(Targeted("tasks", "for-dave", {"dave"}), &r).ok());
  ASSERT_TRUE(backend.Publish(MakePublish("tasks", "marker"), &r).ok());
  ASSERT_TRUE(carol.WaitForData("marker", kWait)) << carol.Describe();
  ASSERT_TRUE(dave.WaitForData("marker", kWait)) << dave.Describe();
  EXPECT_EQ(EventDatas(carol.events()), (std::vector<std::string>{"for-carol", "marker"}));
  EXPECT_EQ(EventDatas(dave.events()), (std::vector<std::string>{"for-dave", "marker"}));

  // Second use of the same ticket, while the first stream is still open.
  HttpResponse again = GetEvents(http_port(), TicketTarget({"tasks"}, issued.ticket()));
  ExpectJsonError(again, 401, "unauthenticated", "ticket");
  EXPECT_NE(again.Header("WWW-Authenticate").value_or("").find("invalid_token"), std::string::npos);
  // A made-up ticket of the right shape.
  std::string forged = issued.ticket();
  forged[0] = forged[0] == 'A' ? 'B' : 'A';
  ExpectJsonError(GetEvents(http_port(), TicketTarget({"tasks"}, forged)), 401, "unauthenticated");
}

// A HEAD probe (no stream follows) checks a ticket without spending it.
TEST_F(AuthTicketsTest, HeadChecksATicketWithoutSpendingIt) {
  ASSERT_TRUE(Start());
  const std::string ticket = Backend().MustIssueTicket("carol", {"tasks"});
  for (int i = 0; i < 2; ++i) {
    HttpResponse head = HttpRequest(http_port(), "HEAD", TicketTarget({"tasks"}, ticket));
    EXPECT_EQ(head.status, 200) << head.body;
  }
  HttpResponse forged =
      HttpRequest(http_port(), "HEAD", TicketTarget({"tasks"}, std::string(ticket.size(), 'A')));
  EXPECT_EQ(forged.status, 401);
  SseClient carol;
  ASSERT_TRUE(carol.Open(http_port(), TicketTarget({"tasks"}, ticket))) << carol.Describe();
  EXPECT_EQ(HttpRequest(http_port(), "HEAD", TicketTarget({"tasks"}, ticket)).status, 401);
}

TEST_F(AuthTicketsTest, ExpiredTicketIsRefused) {
  ASSERT_TRUE(Start());
  v1::IssueTicketResponse issued;
  ASSERT_TRUE(Backend().IssueTicket("carol", {"tasks"}, 1, &issued).ok());
  const absl::Time expires = absl::FromUnixSeconds(issued.expires_at().seconds()) +
                             absl::Nanoseconds(issued.expires_at().nanos());
  EXPECT_LE(expires, absl::Now() + absl::Seconds(1) + absl::Milliseconds(100));
  // Waiting for the expiry is the point of the test, not an assertion.
  absl::SleepFor(expires - absl::Now() + absl::Milliseconds(200));
  ExpectJsonError(GetEvents(http_port(), TicketTarget({"tasks"}, issued.ticket())), 401,
                  "unauthenticated", "ticket");
}

TEST_F(AuthTicketsTest, TicketIsScopedToItsChannels) {
  ASSERT_TRUE(Start());
  AuthedGrpc backend = Backend();
  ExpectJsonError(GetEvents(http_port(),
                            TicketTarget({"billing"}, backend.MustIssueTicket("carol", {"tasks"}))),
                  403, "permission_denied", "billing");
  ExpectJsonError(GetEvents(http_port(), TicketTarget({"tasks", "billing"},
                                                      backend.MustIssueTicket("carol", {"tasks"}))),
                  403, "permission_denied", "billing");
  // A pattern grant covers its channels.
  SseClient c;
  ASSERT_TRUE(c.Open(http_port(), TicketTarget({"tasks.1", "tasks.2"},
                                               backend.MustIssueTicket("carol", {"tasks.*"}))))
      << c.error();
}

TEST_F(AuthTicketsTest, IssueTicketChecksCallerTtlAndGrant) {
  ASSERT_TRUE(Start());
  v1::IssueTicketResponse resp;
  EXPECT_EQ(As("").IssueTicket("carol", {"tasks"}, 10, &resp).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(As("pk_wrong_0123456789abcdef").IssueTicket("carol", {"tasks"}, 10, &resp).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Backend().IssueTicket("carol", {"tasks"}, 61, &resp).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(Backend().IssueTicket("carol", {"tasks"}, 60, &resp).ok());
  EXPECT_EQ(Backend().IssueTicket("", {"tasks"}, 10, &resp).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  // The tasks* key may grant what it covers, and nothing else.
  AuthedGrpc tasks_only = As(keys().tasks_key);
  EXPECT_TRUE(tasks_only.IssueTicket("carol", {"tasks"}, 10, &resp).ok());
  EXPECT_TRUE(tasks_only.IssueTicket("carol", {"tasks.eu", "tasks*"}, 10, &resp).ok());
  for (const std::vector<std::string>& bad :
       {std::vector<std::string>{"billing"}, {"tasks", "billing"}, {"*"}, {"t*"}}) {
    grpc::Status s = tasks_only.IssueTicket("carol", bad, 10, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED)
        << bad.back() << ": " << StatusText(s);
  }
  // Admin keys are not publisher keys.
  EXPECT_EQ(As(keys().admin_key).IssueTicket("carol", {"tasks"}, 10, &resp).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(AuthTicketsTest, TicketStoreIsBounded) {
  ASSERT_TRUE(Start({"--max_tickets=2"}));
  AuthedGrpc backend = Backend();
  const std::string t1 = backend.MustIssueTicket("carol", {"tasks"});
  backend.MustIssueTicket("dave", {"tasks"});
  v1::IssueTicketResponse resp;
  grpc::Status s = backend.IssueTicket("erin", {"tasks"}, 10, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << StatusText(s);
  // Redeeming one makes room.
  SseClient c;
  ASSERT_TRUE(c.Open(http_port(), TicketTarget({"tasks"}, t1))) << c.error();
  s = backend.IssueTicket("erin", {"tasks"}, 10, &resp);
  EXPECT_TRUE(s.ok()) << StatusText(s);
}

TEST_F(AuthTicketsTest, TicketsIdentifyUsersInDevMode) {
  ASSERT_TRUE(StartWith({}));  // no key at all: dev mode
  AuthedGrpc anyone = As("");
  SseClient anon, erin;
  ASSERT_TRUE(anon.Open(http_port(), EventsTarget({"tasks"}))) << anon.error();
  ASSERT_TRUE(
      erin.Open(http_port(), TicketTarget({"tasks"}, anyone.MustIssueTicket("erin", {"tasks"}))))
      << erin.error();
  v1::PublishResponse r;
  ASSERT_TRUE(anyone.Publish(Targeted("tasks", "for-erin", {"erin"}), &r).ok());
  EXPECT_EQ(r.subscribers(), 1u);
  ASSERT_TRUE(anyone.Publish(MakePublish("tasks", "marker"), &r).ok());
  ASSERT_TRUE(erin.WaitForData("marker", kWait)) << erin.Describe();
  ASSERT_TRUE(anon.WaitForData("marker", kWait)) << anon.Describe();
  EXPECT_EQ(EventDatas(erin.events()), (std::vector<std::string>{"for-erin", "marker"}));
  EXPECT_EQ(EventDatas(anon.events()), std::vector<std::string>{"marker"});
  // Admin is open in full dev mode (on the internal port).
  v1::Stats stats;
  EXPECT_TRUE(OnAdminPort("").GetStats(&stats).ok());
  EXPECT_EQ(stats.connections(), 2u);
}

class AuthAdminTest : public AuthTest {};

TEST_F(AuthAdminTest, DisconnectUserEndsOnlyThatUsersStreams) {
  ASSERT_TRUE(Start());
  const std::string token_a = keys().UserToken("user-a", {"tasks", "jobs"});
  SseClient a1, a2, b;
  ASSERT_TRUE(a1.Open(http_port(), EventsTarget({"tasks"}), BearerOptions(token_a))) << a1.error();
  ASSERT_TRUE(a2.Open(http_port(), EventsTarget({"jobs"}), BearerOptions(token_a))) << a2.error();
  ASSERT_TRUE(b.Open(http_port(), EventsTarget({"tasks"}),
                     BearerOptions(keys().UserToken("user-b", {"tasks"}))))
      << b.error();
  v1::DisconnectUserResponse resp;
  grpc::Status s = Admin().DisconnectUser("user-a", &resp);
  ASSERT_TRUE(s.ok()) << StatusText(s);
  EXPECT_EQ(resp.disconnected(), 2u);
  for (SseClient* tab : {&a1, &a2}) {
    ASSERT_TRUE(tab->WaitForClose(kWait)) << tab->Describe();
    EXPECT_TRUE(tab->eof()) << tab->Describe();
    ASSERT_EQ(tab->events().size(), 1u) << Summarize(EventDatas(tab->events()));
    EXPECT_EQ(tab->events()[0].event, "ssebridge.disconnected");
    google::protobuf::Struct json;
    EXPECT_TRUE(ParseJsonObject(tab->events()[0].data, &json)) << tab->events()[0].data;
  }
  v1::PublishResponse r;
  ASSERT_TRUE(Backend().Publish(MakePublish("tasks", "still-here"), &r).ok());
  EXPECT_EQ(r.subscribers(), 1u);
  ASSERT_TRUE(b.WaitForData("still-here", kWait)) << b.Describe();
  EXPECT_FALSE(b.closed());
  // Nothing left to end.
  ASSERT_TRUE(Admin().DisconnectUser("user-a", &resp).ok());
  EXPECT_EQ(resp.disconnected(), 0u);
  ASSERT_TRUE(Admin().DisconnectUser("nobody", &resp).ok());
  EXPECT_EQ(resp.disconnected(), 0u);
}

TEST_F(AuthAdminTest, GetStatsCountsConnectionsUsersAndChannels) {
  ASSERT_TRUE(Start({"--public_channels=news"}));
  const std::string token_a = keys().UserToken("user-a", {"tasks", "jobs"});
  std::vector<std::unique_ptr<SseClient>> streams;
  auto open = [&](const std::vector<std::string>& channels, const SseClientOptions& o) {
    streams.push_back(std::make_unique<SseClient>());
    EXPECT_TRUE(streams.back()->Open(http_port(), EventsTarget(channels), o))
        << streams.back()->error();
  };
  open({"tasks", "jobs"}, BearerOptions(token_a));
  open({"tasks"}, BearerOptions(token_a));
  open({"tasks"}, BearerOptions(keys().UserToken("user-b", {"tasks"})));
  open({"news"}, {});
  open({"news", "tasks"}, BearerOptions(keys().UserToken("user-c", {"tasks"})));
  ASSERT_FALSE(HasFailure());
  AuthedGrpc backend = Backend();
  v1::PublishResponse r;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(backend.Publish(MakePublish("jobs", "j"), &r).ok());

  v1::Stats stats;
  grpc::Status s = Admin().GetStats(&stats);
  ASSERT_TRUE(s.ok()) << StatusText(s);
  EXPECT_EQ(stats.connections(), 5u);
  EXPECT_EQ(stats.grpc_subscribers(), 0u);
  EXPECT_EQ(stats.users(), 3u);
  EXPECT_EQ(stats.channels(), 3u);
  EXPECT_EQ(stats.published(), 3u);
  std::map<std::string, uint32_t> per_channel;
  std::vector<std::string> order;
  for (const auto& c : stats.channel_stats()) {
    per_channel[c.channel()] = c.subscribers();
    order.push_back(c.channel());
  }
  EXPECT_EQ(per_channel, (std::map<std::string, uint32_t>{{"tasks", 4}, {"news", 2}, {"jobs", 1}}));
  EXPECT_EQ(order, (std::vector<std::string>{"tasks", "news", "jobs"})) << "busiest first";
  ASSERT_TRUE(Admin().GetStats(&stats, 1).ok());
  ASSERT_EQ(stats.channel_stats_size(), 1);
  EXPECT_EQ(stats.channel_stats(0).channel(), "tasks");

  // Closing streams shows up (the bridge notices the close asynchronously).
  streams.clear();
  const absl::Time end = absl::Now() + kWait;
  while (absl::Now() < end) {
    ASSERT_TRUE(Admin().GetStats(&stats).ok());
    if (stats.connections() == 0 && stats.users() == 0 && stats.channels() == 0) break;
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_EQ(stats.connections(), 0u);
  EXPECT_EQ(stats.users(), 0u);
  EXPECT_EQ(stats.channels(), 0u) << stats.ShortDebugString();
}

TEST_F(AuthAdminTest, AdminNeedsAnAdminKey) {
  ASSERT_TRUE(Start());
  v1::Stats stats;
  v1::DisconnectUserResponse resp;
  for (const std::string& cred :
       {std::string(), keys().backend_key, keys().tasks_key, keys().hashed_key,
        std::string("ak_wrong_0123456789"), keys().UserToken("root", {"*"})}) {
    SCOPED_TRACE(cred.substr(0, 12));
    EXPECT_EQ(OnAdminPort(cred).GetStats(&stats).error_code(), grpc::StatusCode::UNAUTHENTICATED);
    EXPECT_EQ(OnAdminPort(cred).DisconnectUser("user-a", &resp).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
  }
  EXPECT_TRUE(Admin().GetStats(&stats).ok());
  // The admin key is not a publisher key either.
  v1::PublishResponse r;
  EXPECT_EQ(As(keys().admin_key).Publish(MakePublish("tasks", "x"), &r).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);

  // Auth on (publisher keys) without an admin key file: Admin is closed.
  ASSERT_TRUE(StartWith({absl::StrCat("--publisher_keys_file=", keys().publisher_keys_file)}));
  grpc::Status s = OnAdminPort(keys().backend_key).GetStats(&stats);
  EXPECT_TRUE(s.error_code() == grpc::StatusCode::PERMISSION_DENIED ||
              s.error_code() == grpc::StatusCode::UNAUTHENTICATED)
      << StatusText(s);
  EXPECT_FALSE(OnAdminPort("").GetStats(&stats).ok());
}

}  // namespace
}  // namespace ssebridge_it
