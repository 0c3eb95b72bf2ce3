// Tickets shared through Redis (issue 21, item 8): two real replicas on
// one real redis-server, --broker=redis, auth on. A ticket issued on one
// replica opens a stream on the other, once; two replicas racing on one
// ticket let exactly one win; with Redis gone, IssueTicket is UNAVAILABLE
// and a redeem a prompt 503 (never a hang, never an accepted ticket).
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/harness/auth_fixture.h"
#include "tests/harness/redis_fixture.h"
#include "tests/harness/test_helpers.h"

namespace ssebridge_it {
namespace {

class RedisTicketsTest : public RedisScaleOutTest {
 protected:
  void SetUp() override {
    RedisScaleOutTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    a_ = StartReplica(AuthKeys::Get().Flags());
    b_ = StartReplica(AuthKeys::Get().Flags());
    ASSERT_TRUE(a_ && b_);
  }
  static AuthedGrpc Backend(const BridgeProcess& replica) {
    return AuthedGrpc(InsecureChannel(replica.grpc_port()), AuthKeys::Get().backend_key);
  }

  std::unique_ptr<BridgeProcess> a_, b_;
};

TEST_F(RedisTicketsTest, IssuedOnOneReplicaWorksOnAnotherOnce) {
  const std::string ticket = Backend(*a_).MustIssueTicket("carol", {"tasks"});
  ASSERT_FALSE(ticket.empty());
  // The ticket is in Redis under its hash, never as itself.
  EXPECT_EQ(redis_->Command({"EXISTS", "{ssebridge}:ticket:" + ticket}), ":0");

  // A HEAD probe on B checks it without spending it.
  EXPECT_EQ(HttpRequest(b_->http_port(), "HEAD", TicketTarget({"tasks"}, ticket)).status, 200);

  SseClient carol;
  ASSERT_TRUE(OpenAttached(&carol, b_->http_port(), TicketTarget({"tasks"}, ticket)))
      << carol.Describe();
  // Published on A, delivered by B to the ticket's user.
  AuthedGrpc backend = Backend(*a_);
  v1::PublishResponse r;
  ASSERT_TRUE(backend.Publish(Targeted("tasks", "for-carol", {"carol"}), &r).ok());
  ASSERT_TRUE(backend.Publish(MakePublish("tasks", "marker"), &r).ok());
  ASSERT_TRUE(carol.WaitForData("marker", kWait)) << carol.Describe();
  EXPECT_EQ(EventDatas(carol.events()), (std::vector<std::string>{"for-carol", "marker"}));

  // Spent: refused on both replicas, and the refusal says why.
  ExpectJsonError(GetEvents(a_->http_port(), TicketTarget({"tasks"}, ticket)), 401,
                  "unauthenticated", "ticket already used");
  ExpectJsonError(GetEvents(b_->http_port(), TicketTarget({"tasks"}, ticket)), 401,
                  "unauthenticated", "ticket already used");
  // A made-up ticket of the right shape is unknown.
  std::string forged = ticket;
  forged[0] = forged[0] == 'A' ? 'B' : 'A';
  ExpectJsonError(GetEvents(b_->http_port(), TicketTarget({"tasks"}, forged)), 401,
                  "unauthenticated", "ticket unknown");
}

TEST_F(RedisTicketsTest, AnExpiredTicketSaysSoOnTheOtherReplica) {
  v1::IssueTicketResponse issued;
  ASSERT_TRUE(Backend(*a_).IssueTicket("carol", {"tasks"}, 1, &issued).ok());
  const absl::Time expires = absl::FromUnixSeconds(issued.expires_at().seconds()) +
                             absl::Nanoseconds(issued.expires_at().nanos());
  // Waits for the condition (the ticket's expiry), not a guessed time.
  while (absl::Now() <= expires) absl::SleepFor(absl::Milliseconds(20));
  ExpectJsonError(GetEvents(b_->http_port(), TicketTarget({"tasks"}, issued.ticket())), 401,
                  "unauthenticated", "ticket expired");
  ExpectJsonError(GetEvents(a_->http_port(), TicketTarget({"tasks"}, issued.ticket())), 401,
                  "unauthenticated", "ticket expired");
}

TEST_F(RedisTicketsTest, TwoReplicasRacingOnOneTicketLetExactlyOneWin) {
  AuthedGrpc backend = Backend(*a_);
  for (int round = 0; round < 10; ++round) {
    const std::string ticket = backend.MustIssueTicket("carol", {"tasks"});
    ASSERT_FALSE(ticket.empty());
    SseClient on_a, on_b;
    bool read_a = false, read_b = false;
    std::thread ta([&] {
      read_a =
          on_a.Connect(a_->http_port(), TicketTarget({"tasks"}, ticket)) && on_a.ReadHead(kWait);
    });
    std::thread tb([&] {
      read_b =
          on_b.Connect(b_->http_port(), TicketTarget({"tasks"}, ticket)) && on_b.ReadHead(kWait);
    });
    ta.join();
    tb.join();
    ASSERT_TRUE(read_a) << on_a.Describe();
    ASSERT_TRUE(read_b) << on_b.Describe();
    const int won = (on_a.status() == 200 ? 1 : 0) + (on_b.status() == 200 ? 1 : 0);
    EXPECT_EQ(won, 1) << "round " << round << ": A " << on_a.status() << ", B " << on_b.status();
    SseClient& loser = on_a.status() == 200 ? on_b : on_a;
    EXPECT_EQ(loser.status(), 401) << loser.Describe();
    EXPECT_TRUE(loser.ReadUntil(
        [&loser] { return loser.raw_body().find("ticket already used") != std::string::npos; },
        kWait))
        << loser.raw_body();
  }
}

TEST_F(RedisTicketsTest, WithRedisGoneIssueIsUnavailableAndRedeemA503) {
  const std::string ticket = Backend(*a_).MustIssueTicket("carol", {"tasks"});
  ASSERT_FALSE(ticket.empty());
  redis_->Kill();

  v1::IssueTicketResponse issued;
  const grpc::Status refused = Backend(*a_).IssueTicket("carol", {"tasks"}, 30, &issued);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::UNAVAILABLE) << StatusText(refused);
  EXPECT_NE(refused.error_message().find("Redis"), std::string::npos) << StatusText(refused);
  EXPECT_TRUE(issued.ticket().empty());

  // Promptly: within the connect timeout (2 s), far inside GetEvents' 10 s.
  const absl::Time start = absl::Now();
  HttpResponse r = GetEvents(b_->http_port(), TicketTarget({"tasks"}, ticket));
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  ExpectJsonError(r, 503, "unavailable", "Redis");
  EXPECT_TRUE(r.Header("Retry-After").has_value());

  // Redis back (empty: it was killed): the bridge answers again, and the
  // ticket it could not verify was never accepted.
  std::string error;
  ASSERT_TRUE(redis_->Start(&error)) << error;
  const absl::Time end = absl::Now() + kWait;
  HttpResponse again;
  do {
    again = GetEvents(b_->http_port(), TicketTarget({"tasks"}, ticket));
    if (again.status != 503) break;
    absl::SleepFor(absl::Milliseconds(50));
  } while (absl::Now() < end);
  ExpectJsonError(again, 401, "unauthenticated", "ticket unknown");
}

}  // namespace
}  // namespace ssebridge_it
