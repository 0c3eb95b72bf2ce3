// ssebridge::Publisher's calls beyond Publish, against the real bridge with
// keys on: the ticket login end to end (IssueTicket, the SSE stream opened
// with the ticket, a targeted event), PublishBatch with a refused request
// in the middle, Admin GetStats (with and without the fleet) /
// DisconnectUser, and the same error
// reporting as Publish (UNAUTHENTICATED without a key, PERMISSION_DENIED
// with the wrong one).
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "ssebridge/publisher.h"
#include "tests/harness/bridge_process.h"
#include "tests/harness/sse_client.h"
#include "tests/harness/temp_dir.h"

namespace {

using ssebridge::Event;
using ssebridge::Publisher;
using ssebridge::PublisherOptions;
using ssebridge::ReplicaStats;
using ssebridge::Stats;
using ssebridge::StatsOptions;
using ssebridge_it::BridgeProcess;
using ssebridge_it::SseClient;
using ssebridge_it::StartBridge;
using ssebridge_it::TempDir;

constexpr char kPublisherKey[] = "cpp-calls-publisher-0123456789";
constexpr char kAdminKey[] = "cpp-calls-admin-0123456789abcd";

class ServiceCallsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    bridge_ = StartBridge(
        {absl::StrCat("--publisher_keys_file=",
                      dir_.Write("publishers", absl::StrCat("app ", kPublisherKey, "\n"))),
         absl::StrCat("--admin_keys_file=",
                      dir_.Write("admins", absl::StrCat("ops ", kAdminKey, "\n")))});
    ASSERT_NE(bridge_, nullptr);
  }

  // A client of the public gRPC port, or of the internal one (Admin).
  std::unique_ptr<Publisher> Make(const std::string& token, bool admin_port = false) {
    PublisherOptions o;
    o.target =
        admin_port ? absl::StrCat("127.0.0.1:", bridge_->admin_port()) : bridge_->grpc_target();
    o.token = token;
    auto p = Publisher::Create(o);
    EXPECT_TRUE(p.ok()) << p.status();
    return p.ok() ? std::move(*p) : nullptr;
  }

  static Event Ev(std::string channel, std::string data) {
    Event e;
    e.channel = std::move(channel);
    e.data = std::move(data);
    return e;
  }

  TempDir dir_;
  std::unique_ptr<BridgeProcess> bridge_;
};

TEST_F(ServiceCallsTest, TicketLoginEndToEnd) {
  auto app = Make(kPublisherKey);
  auto ticket = app->IssueTicket("alice", {"orders.*"}, absl::Seconds(30));
  ASSERT_TRUE(ticket.ok()) << ticket.status();
  EXPECT_FALSE(ticket->ticket.empty());
  EXPECT_GT(ticket->expires_at, absl::Now());
  EXPECT_LT(ticket->expires_at, absl::Now() + absl::Seconds(61));

  SseClient page;
  ASSERT_TRUE(page.Open(bridge_->http_port(),
                        absl::StrCat("/v1/events?channel=orders.1&ticket=", ticket->ticket)))
      << page.Describe();
  Event for_bob = Ev("orders.1", "bob's");
  for_bob.user_ids = {"bob"};
  Event for_alice = Ev("orders.1", "alice's");
  for_alice.user_ids = {"alice"};
  ASSERT_TRUE(app->Publish(for_bob).ok());
  auto ack = app->Publish(for_alice);
  ASSERT_TRUE(ack.ok()) << ack.status();
  ASSERT_TRUE(page.WaitForEvents(1, absl::Seconds(10))) << page.Describe();
  EXPECT_EQ(page.events()[0].data, "alice's");
  EXPECT_EQ(page.events()[0].id, ack->id);

  // The ticket worked once.
  SseClient again;
  EXPECT_FALSE(again.Open(bridge_->http_port(),
                          absl::StrCat("/v1/events?channel=orders.1&ticket=", ticket->ticket)));

  auto admin = Make(kAdminKey, /*admin_port=*/true);
  auto stats = admin->GetStats(10);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->connections, 1u);
  EXPECT_EQ(stats->users, 1u);
  EXPECT_EQ(stats->published, 2u);
  ASSERT_EQ(stats->channel_stats.size(), 1u);
  EXPECT_EQ(stats->channel_stats[0].channel, "orders.1");
  auto ended = admin->DisconnectUser("alice");
  ASSERT_TRUE(ended.ok()) << ended.status();
  EXPECT_EQ(*ended, 1u);
}

// With --broker=memory the fleet is the answering replica alone: its one
// entry, and the total, are the top-level numbers.
void ExpectFleetOfOne(const Stats& s) {
  ASSERT_TRUE(s.fleet.has_value());
  EXPECT_EQ(s.fleet->error, "");
  ASSERT_EQ(s.fleet->replicas.size(), 1u);
  auto same_numbers = [&s](const ReplicaStats& r) {
    EXPECT_EQ(r.connections, s.connections);
    EXPECT_EQ(r.grpc_subscribers, s.grpc_subscribers);
    EXPECT_EQ(r.channels, s.channels);
    EXPECT_EQ(r.users, s.users);
    EXPECT_EQ(r.published, s.published);
  };
  const ReplicaStats& here = s.fleet->replicas[0];
  same_numbers(here);
  EXPECT_EQ(here.replica, s.replica);
  // Taken for this answer, so just now.
  EXPECT_GT(here.reported_at, absl::Now() - absl::Minutes(1));
  EXPECT_LE(here.reported_at, absl::Now() + absl::Seconds(1));
  same_numbers(s.fleet->total);
  EXPECT_EQ(s.fleet->total.replica, "");
  EXPECT_EQ(s.fleet->total.reported_at, absl::InfinitePast());
}

TEST_F(ServiceCallsTest, StatsWithFleet) {
  auto admin = Make(kAdminKey, /*admin_port=*/true);
  StatsOptions with_fleet;
  with_fleet.fleet = true;
  auto idle = admin->GetStats(with_fleet);
  ASSERT_TRUE(idle.ok()) << idle.status();
  EXPECT_EQ(idle->published, 0u);
  EXPECT_EQ(idle->connections, 0u);
  EXPECT_EQ(idle->replica, "");  // --broker=memory names no replica
  ExpectFleetOfOne(*idle);

  SseClient sse;
  ASSERT_TRUE(sse.Open(bridge_->http_port(), "/v1/events?channel=fleet")) << sse.Describe();
  ASSERT_TRUE(Make(kPublisherKey)->Publish(Ev("fleet", "x")).ok());
  ASSERT_TRUE(sse.WaitForEvents(1, absl::Seconds(10))) << sse.Describe();
  with_fleet.max_channels = 1;
  auto busy = admin->GetStats(with_fleet);
  ASSERT_TRUE(busy.ok()) << busy.status();
  EXPECT_EQ(busy->published, 1u);
  EXPECT_EQ(busy->connections, 1u);
  EXPECT_EQ(busy->channels, 1u);
  ASSERT_EQ(busy->channel_stats.size(), 1u);
  EXPECT_EQ(busy->channel_stats[0].channel, "fleet");
  ExpectFleetOfOne(*busy);

  // Not asked: no fleet, through either overload.
  auto plain = admin->GetStats(5);
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_FALSE(plain->fleet.has_value());
  EXPECT_EQ(plain->published, 1u);
  auto defaults = admin->GetStats(StatsOptions{});
  ASSERT_TRUE(defaults.ok()) << defaults.status();
  EXPECT_FALSE(defaults->fleet.has_value());
}

TEST_F(ServiceCallsTest, BatchAnswersEachRequestInOrder) {
  auto app = Make(kPublisherKey);
  SseClient sse;
  ASSERT_TRUE(sse.Open(bridge_->http_port(), "/v1/events?channel=batch")) << sse.Describe();
  auto results = app->PublishBatch({Ev("batch", "1"), Ev("bad channel", "2"), Ev("batch", "3")});
  ASSERT_TRUE(results.ok()) << results.status();
  ASSERT_EQ(results->size(), 3u);
  ASSERT_TRUE((*results)[0].ok()) << (*results)[0].status();
  EXPECT_TRUE(absl::IsInvalidArgument((*results)[1].status())) << (*results)[1].status();
  EXPECT_NE((*results)[1].status().message().find("channel"), absl::string_view::npos);
  ASSERT_TRUE((*results)[2].ok()) << (*results)[2].status();
  ASSERT_TRUE(sse.WaitForEvents(2, absl::Seconds(10))) << sse.Describe();
  EXPECT_EQ(sse.events()[0].id, (*results)[0]->id);
  EXPECT_EQ(sse.events()[1].id, (*results)[2]->id);
}

TEST_F(ServiceCallsTest, CallsReportErrorsLikePublish) {
  auto anonymous = Make("");
  EXPECT_TRUE(absl::IsUnauthenticated(anonymous->IssueTicket("alice", {"a"}).status()));
  EXPECT_TRUE(absl::IsUnauthenticated(anonymous->PublishBatch({Ev("a", "x")}).status()));
  EXPECT_TRUE(absl::IsUnauthenticated(Make("", true)->GetStats().status()));
  auto app = Make(kPublisherKey);
  auto app_on_admin_port = Make(kPublisherKey, true);
  auto stats = app_on_admin_port->GetStats();
  EXPECT_TRUE(absl::IsPermissionDenied(stats.status()) || absl::IsUnauthenticated(stats.status()))
      << stats.status();
  EXPECT_FALSE(app_on_admin_port->DisconnectUser("alice").ok());
  // The public port does not serve Admin at all.
  EXPECT_TRUE(absl::IsUnimplemented(Make(kAdminKey)->GetStats().status()));
  EXPECT_TRUE(
      absl::IsInvalidArgument(app->IssueTicket("alice", {"a"}, absl::Seconds(-1)).status()));

  PublisherOptions o;
  o.target = "127.0.0.1:1";
  o.timeout = absl::Seconds(2);
  auto unreachable = Publisher::Create(o);
  ASSERT_TRUE(unreachable.ok());
  EXPECT_TRUE(absl::IsUnavailable((*unreachable)->GetStats().status()));
}

}  // namespace
