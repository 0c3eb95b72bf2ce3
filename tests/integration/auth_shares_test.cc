// Issue 16 against the real binary: what a channel-limited publisher key may
// mint (finding 4), bounded ticket requests (6), idempotency keys per
// publisher and channel (8), per-key shares of tickets, channels and gRPC
// Subscribe and publish streams (9), and a ticket refusal that names its
// cause (12).
// Each test reproduces the finding as the outside review saw it.
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/harness/auth_fixture.h"
#include "tests/harness/test_helpers.h"
#include "tests/harness/wait_until.h"

namespace ssebridge_it {
namespace {

class AuthSharesTest : public AuthTest {
 protected:
  AuthedGrpc TasksOnly() const { return As(keys().tasks_key); }
  AuthedGrpc Hashed() const { return As(keys().hashed_key); }
};

bool Mentions(const grpc::Status& s, const std::string& needle) {
  return absl::StrContains(s.error_message(), needle);
}

// Finding 4: a key limited to tasks* minted alice tickets that read the
// public channel "news" as alice, with her targeted events.
TEST_F(AuthSharesTest, LimitedKeyTicketReadsOnlyInsideTheKeysChannels) {
  ASSERT_TRUE(Start({"--public_channels=news"}));
  AuthedGrpc tasks = TasksOnly();
  ExpectJsonError(
      GetEvents(http_port(), TicketTarget({"news"}, tasks.MustIssueTicket("alice", {}))), 403,
      "permission_denied", "tasks_only");
  ExpectJsonError(
      GetEvents(http_port(), TicketTarget({"news"}, tasks.MustIssueTicket("alice", {"tasks"}))),
      403, "permission_denied", "outside the channels of publisher 'tasks_only'");
  ExpectJsonError(GetEvents(http_port(), TicketTarget({"tasks", "news"},
                                                      tasks.MustIssueTicket("alice", {"tasks"}))),
                  403, "permission_denied", "news");

  // Inside its channels the ticket works, and an empty list means the key's
  // own patterns ("tasks*"), never "every channel".
  SseClient mine;
  ASSERT_TRUE(
      mine.Open(http_port(), TicketTarget({"tasks.alice"}, tasks.MustIssueTicket("alice", {}))))
      << mine.error();
  v1::PublishResponse r;
  ASSERT_TRUE(Backend().Publish(Targeted("tasks.alice", "for-alice", {"alice"}), &r).ok());
  EXPECT_TRUE(mine.WaitForData("for-alice", kWait)) << mine.Describe();

  // An unrestricted key still mints what it did: the user on public
  // channels, with her targeted events there.
  SseClient real;
  ASSERT_TRUE(
      real.Open(http_port(), TicketTarget({"news"}, Backend().MustIssueTicket("alice", {}))))
      << real.error();
  ASSERT_TRUE(Backend().Publish(Targeted("news", "news-for-alice", {"alice"}), &r).ok());
  EXPECT_TRUE(real.WaitForData("news-for-alice", kWait)) << real.Describe();
}

// Finding 4: five tickets minted by the limited key used up alice's
// --max_connections_per_user, so the real alice got 429.
TEST_F(AuthSharesTest, LimitedKeyTicketsDoNotSpendTheUsersConnections) {
  ASSERT_TRUE(Start({"--max_connections_per_user=2"}));
  AuthedGrpc tasks = TasksOnly();
  SseClient minted1, minted2, real1, real2;
  ASSERT_TRUE(
      minted1.Open(http_port(), TicketTarget({"tasks"}, tasks.MustIssueTicket("alice", {"tasks"}))))
      << minted1.error();
  ASSERT_TRUE(
      minted2.Open(http_port(), TicketTarget({"tasks"}, tasks.MustIssueTicket("alice", {"tasks"}))))
      << minted2.error();
  // The same limit holds for the key's own alice.
  ExpectJsonError(
      GetEvents(http_port(), TicketTarget({"tasks"}, tasks.MustIssueTicket("alice", {"tasks"}))),
      429, "resource_exhausted", "tickets of publisher 'tasks_only'");
  // The real alice still has both of hers.
  const std::string token = keys().UserToken("alice", {"tasks"});
  ASSERT_TRUE(real1.Open(http_port(), EventsTarget({"tasks"}), BearerOptions(token)))
      << real1.error();
  ASSERT_TRUE(real2.Open(http_port(),
                         TicketTarget({"tasks"}, Backend().MustIssueTicket("alice", {"tasks"}))))
      << real2.error();
  ExpectJsonError(GetEvents(http_port(), EventsTarget({"tasks"}), BearerHeader(token)), 429,
                  "resource_exhausted", "--max_connections_per_user");
}

// Finding 6: 30,000 patterns per ticket were accepted (and cost their square).
TEST_F(AuthSharesTest, TicketRequestsAreBounded) {
  ASSERT_TRUE(Start({"--max_ticket_channels=8", "--max_ticket_pattern_bytes=20"}));
  std::vector<std::string> nine;
  for (int i = 0; i < 9; ++i) nine.push_back(absl::StrCat("tasks.", i));
  v1::IssueTicketResponse resp;
  grpc::Status s = Backend().IssueTicket("alice", nine, 30, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << StatusText(s);
  EXPECT_TRUE(Mentions(s, "--max_ticket_channels")) << StatusText(s);
  nine.pop_back();
  s = Backend().IssueTicket("alice", nine, 30, &resp);
  EXPECT_TRUE(s.ok()) << StatusText(s);
  s = Backend().IssueTicket("alice", {std::string(21, 'a')}, 30, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << StatusText(s);
  EXPECT_TRUE(Mentions(s, "--max_ticket_pattern_bytes")) << StatusText(s);
}

// Finding 8: billing's "order-42" made tasks' "order-42" a replay.
TEST_F(AuthSharesTest, IdempotencyKeysArePerPublisherAndChannel) {
  ASSERT_TRUE(Start());
  SseClient reader;
  ASSERT_TRUE(reader.Open(
      http_port(),
      TicketTarget({"tasks", "other"}, Backend().MustIssueTicket("u", {"tasks", "other"}))))
      << reader.error();
  auto keyed = [](const std::string& channel, const std::string& data) {
    v1::PublishRequest req = MakePublish(channel, data);
    req.set_idempotency_key("order-42");
    return req;
  };
  v1::PublishResponse first, other_key, other_channel, again;
  ASSERT_TRUE(Backend().Publish(keyed("tasks", "by-backend"), &first).ok());
  ASSERT_TRUE(Hashed().Publish(keyed("tasks", "by-hashed"), &other_key).ok());
  EXPECT_FALSE(other_key.replayed());
  EXPECT_NE(other_key.id(), first.id());
  ASSERT_TRUE(Backend().Publish(keyed("other", "by-backend-elsewhere"), &other_channel).ok());
  EXPECT_FALSE(other_channel.replayed());
  // The same publisher, channel and key is still a replay.
  ASSERT_TRUE(Backend().Publish(keyed("tasks", "retry"), &again).ok());
  EXPECT_TRUE(again.replayed());
  EXPECT_EQ(again.id(), first.id());
  ASSERT_TRUE(Backend().Publish(MakePublish("tasks", "end"), &again).ok());
  EXPECT_TRUE(reader.WaitForData("end", kWait)) << reader.Describe();
  EXPECT_EQ(EventDatas(reader.events()),
            (std::vector<std::string>{"by-backend", "by-hashed", "by-backend-elsewhere", "end"}));
}

// Finding 9: one key could take every ticket of --max_tickets.
TEST_F(AuthSharesTest, OneKeyCannotTakeEveryTicket) {
  ASSERT_TRUE(Start({"--max_tickets=6", "--max_tickets_per_key=3"}));
  AuthedGrpc tasks = TasksOnly();
  for (int i = 0; i < 3; ++i) tasks.MustIssueTicket(absl::StrCat("u", i), {"tasks"});
  v1::IssueTicketResponse resp;
  grpc::Status s = tasks.IssueTicket("u3", {"tasks"}, 30, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << StatusText(s);
  EXPECT_TRUE(Mentions(s, "--max_tickets_per_key")) << StatusText(s);
  EXPECT_FALSE(Backend().MustIssueTicket("v", {"tasks"}).empty());
  // A redeemed ticket gives its slot back.
  SseClient c;
  ASSERT_TRUE(
      c.Open(http_port(), TicketTarget({"tasks"}, Backend().MustIssueTicket("w", {"tasks"}))))
      << c.error();
}

// Finding 9: one key could create --max_channels channels.
TEST_F(AuthSharesTest, OneKeyCannotTakeEveryChannel) {
  ASSERT_TRUE(Start({"--max_channels=8", "--max_channels_per_key=3"}));
  AuthedGrpc tasks = TasksOnly();
  v1::PublishResponse r;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(tasks.Publish(MakePublish(absl::StrCat("tasks.", i), "x"), &r).ok());
  }
  ASSERT_TRUE(tasks.Publish(MakePublish("tasks.0", "again"), &r).ok());
  grpc::Status s = tasks.Publish(MakePublish("tasks.3", "x"), &r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << StatusText(s);
  EXPECT_TRUE(Mentions(s, "--max_channels_per_key")) << StatusText(s);
  for (int i = 0; i < 3; ++i) {
    s = Backend().Publish(MakePublish(absl::StrCat("billing.", i), "x"), &r);
    EXPECT_TRUE(s.ok()) << StatusText(s);
  }
}

// Finding 9: one key's Subscribe calls filled the gRPC threads, and another
// key's Publish got "Server Threadpool Exhausted".
TEST_F(AuthSharesTest, SubscribeStreamsLeaveThreadsForPublishers) {
  constexpr int kThreads = 8;
  ASSERT_TRUE(Start({absl::StrCat("--grpc_max_threads=", kThreads)}));
  constexpr int kStreams = 2 * kThreads;
  std::mutex mu;
  int accepted = 0;
  std::vector<grpc::Status> refused;
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::vector<std::thread> threads;
  auto stub = v1::Subscriber::NewStub(channel_);
  // One at a time, so each refusal is the bridge's answer to a full share,
  // never a momentary race for threads between the calls themselves.
  for (int i = 0; i < kStreams; ++i) {
    contexts.push_back(std::make_unique<grpc::ClientContext>());
    grpc::ClientContext* ctx = contexts.back().get();
    ctx->AddMetadata("authorization", absl::StrCat("Bearer ", keys().tasks_key));
    ctx->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
    threads.emplace_back([&, ctx] {
      v1::SubscribeRequest req;
      req.add_channels("tasks");
      auto reader = stub->Subscribe(ctx, req);
      v1::Event ev;
      if (reader->Read(&ev)) {  // the head cursor: accepted
        {
          std::lock_guard<std::mutex> lock(mu);
          ++accepted;
        }
        while (reader->Read(&ev)) {
        }
        reader->Finish();
        return;
      }
      grpc::Status s = reader->Finish();
      std::lock_guard<std::mutex> lock(mu);
      refused.push_back(s);
    });
    std::unique_lock<std::mutex> lock(mu);
    if (!WaitUntil(
            lock, [&] { return accepted + static_cast<int>(refused.size()) == i + 1; }, kWait)) {
      ADD_FAILURE() << "stream " << i << " neither opened nor was refused";
      break;  // to the clean-up below: the threads must be joined
    }
  }
  // Another key can publish while they are open.
  grpc::Status last;
  const absl::Time end = absl::Now() + kWait;
  bool published = false;
  while (!published && absl::Now() < end) {
    v1::PublishResponse r;
    last = Backend().Publish(MakePublish("billing", "still-publishing"), &r);
    published = last.ok();
    if (!published) absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_TRUE(published) << StatusText(last);
  {
    std::lock_guard<std::mutex> lock(mu);
    // Half of the threads at most (the default of --max_grpc_subscribe_streams).
    EXPECT_EQ(accepted, kThreads / 2);
    for (const grpc::Status& s : refused) {
      EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << StatusText(s);
      EXPECT_TRUE(Mentions(s, "--max_grpc_subscribe_streams")) << StatusText(s);
    }
  }
  for (auto& ctx : contexts) ctx->TryCancel();
  for (auto& t : threads) t.join();
}

TEST_F(AuthSharesTest, SubscribeStreamsPerKey) {
  ASSERT_TRUE(Start({"--max_grpc_subscribe_streams_per_key=1"}));
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", absl::StrCat("Bearer ", keys().tasks_key));
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
  auto stub = v1::Subscriber::NewStub(channel_);
  v1::SubscribeRequest req;
  req.add_channels("tasks");
  auto held = stub->Subscribe(&ctx, req);
  v1::Event ev;
  ASSERT_TRUE(held->Read(&ev));
  grpc::Status s = TasksOnly().SubscribeStatus({"tasks"});
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << StatusText(s);
  EXPECT_TRUE(Mentions(s, "--max_grpc_subscribe_streams_per_key")) << StatusText(s);
  EXPECT_TRUE(Backend().SubscribeStatus({"tasks"}).ok());
  ctx.TryCancel();
  while (held->Read(&ev)) {
  }
  held->Finish();
}

// The first message's status of a PublishBatchStream call with `key`: OK
// once it was answered (the call is then ended), else why it was refused.
grpc::Status BatchStreamStatus(const std::shared_ptr<grpc::Channel>& channel,
                               const std::string& key) {
  auto stub = v1::BatchPublisher::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", absl::StrCat("Bearer ", key));
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + kWait));
  auto stream = stub->PublishBatchStream(&ctx);
  v1::PublishBatchRequest batch;
  *batch.add_requests() = MakePublish("tasks", "batch");
  v1::PublishBatchResponse response;
  if (stream->Write(batch)) stream->Read(&response);
  stream->WritesDone();
  return stream->Finish();
}

// Publish streams are charged to their publisher and bounded overall: each
// may hold up to 256 unanswered requests, so one key must not be able to
// open them until the bridge runs out of memory.
TEST_F(AuthSharesTest, PublishStreamsPerKeyAndOverall) {
  ASSERT_TRUE(Start({"--max_grpc_publish_streams_per_key=2", "--max_grpc_publish_streams=3"}));
  AuthedGrpc tasks = TasksOnly();
  v1::PublishResponse r;
  std::vector<std::unique_ptr<PublishStreamer>> held;
  for (int i = 0; i < 2; ++i) {
    held.push_back(tasks.Stream());
    ASSERT_TRUE(held.back()->Send(MakePublish("tasks", "held"), &r))
        << StatusText(held.back()->Finish());
  }
  // The key's third stream is refused at once, on either method.
  auto third = tasks.Stream();
  EXPECT_FALSE(third->Send(MakePublish("tasks", "third"), &r));
  grpc::Status s = third->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << StatusText(s);
  EXPECT_TRUE(Mentions(s, "--max_grpc_publish_streams_per_key")) << StatusText(s);
  s = BatchStreamStatus(channel_, keys().tasks_key);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << StatusText(s);
  EXPECT_TRUE(Mentions(s, "--max_grpc_publish_streams_per_key")) << StatusText(s);

  // Another key gets the one stream left overall; then the total refuses.
  AuthedGrpc backend = Backend();
  auto other = backend.Stream();
  ASSERT_TRUE(other->Send(MakePublish("tasks", "other"), &r)) << StatusText(other->Finish());
  auto over = backend.Stream();
  EXPECT_FALSE(over->Send(MakePublish("tasks", "over"), &r));
  s = over->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << StatusText(s);
  EXPECT_TRUE(Mentions(s, "(--max_grpc_publish_streams)")) << StatusText(s);

  // An ended stream gives its share back once the bridge has let go of the
  // call (after its last operation is back): wait for that, not a time.
  EXPECT_TRUE(held.back()->Finish().ok());
  held.pop_back();
  bool reopened = false;
  for (const absl::Time end = absl::Now() + kWait; !reopened && absl::Now() < end;) {
    auto again = tasks.Stream();
    reopened = again->Send(MakePublish("tasks", "again"), &r);
    if (reopened) {
      held.push_back(std::move(again));
    } else {
      again->Finish();
      absl::SleepFor(absl::Milliseconds(10));
    }
  }
  EXPECT_TRUE(reopened) << "the ended stream's share never came back";
  for (auto& h : held) EXPECT_TRUE(h->Finish().ok());
  EXPECT_TRUE(other->Finish().ok());
}

// Finding 12: an expired ticket was reported as "unknown or already used".
TEST_F(AuthSharesTest, TicketRefusalNamesItsCause) {
  ASSERT_TRUE(Start({"--max_tickets=1"}));
  const std::string expiring = Backend().MustIssueTicket("alice", {"tasks"}, 1);
  // With --max_tickets=1 the next ticket is issued only once the first has
  // expired and been swept away.
  v1::IssueTicketResponse next;
  grpc::Status s;
  const absl::Time end = absl::Now() + kWait;
  do {
    s = Backend().IssueTicket("bob", {"tasks"}, 30, &next);
    if (!s.ok()) absl::SleepFor(absl::Milliseconds(50));
  } while (!s.ok() && absl::Now() < end);
  ASSERT_TRUE(s.ok()) << StatusText(s);
  ExpectJsonError(GetEvents(http_port(), TicketTarget({"tasks"}, expiring)), 401, "unauthenticated",
                  "ticket expired");

  SseClient bob;
  ASSERT_TRUE(bob.Open(http_port(), TicketTarget({"tasks"}, next.ticket()))) << bob.error();
  ExpectJsonError(GetEvents(http_port(), TicketTarget({"tasks"}, next.ticket())), 401,
                  "unauthenticated", "ticket already used");
  ExpectJsonError(GetEvents(http_port(), TicketTarget({"tasks"}, std::string(43, 'A'))), 401,
                  "unauthenticated", "ticket unknown");
}

}  // namespace
}  // namespace ssebridge_it
