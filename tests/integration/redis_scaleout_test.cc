// Scale-out on Redis (issue 5): real redis-server, real replicas. Publishes
// through one replica reach every replica's subscribers exactly once and in
// order; a stream resumes on another replica; Redis restarts (with and
// without its data), a lost pub/sub connection and a SIGKILLed replica
// lose nothing that was accepted, or say so with ssebridge.reset.
#include <signal.h>

#include <algorithm>
#include <memory>
#include <set>
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

SseClientOptions Resume(const std::string& id) {
  SseClientOptions o;
  o.headers.emplace_back("Last-Event-ID", id);
  return o;
}

// Events that are not reset notices.
std::vector<std::string> PublishedIds(const std::vector<SseEvent>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) {
    if (e.event != "ssebridge.reset") out.push_back(e.id);
  }
  return out;
}

TEST_F(RedisScaleOutTest, TenThousandEventsReachThreeReplicasExactlyOnceInOrder) {
  auto r1 = StartReplica();
  auto r2 = StartReplica();
  auto r3 = StartReplica();
  ASSERT_TRUE(r1 && r2 && r3);
  struct Reader {
    int replica;
    std::vector<std::string> channels;
    SseClient client;
  };
  std::vector<std::unique_ptr<Reader>> readers;
  const std::vector<std::vector<std::string>> subs = {{"a"}, {"a", "b"}, {"b"}};
  BridgeProcess* replicas[] = {r1.get(), r2.get(), r3.get()};
  for (int r = 0; r < 3; ++r) {
    for (const auto& chans : subs) {
      auto reader = std::make_unique<Reader>();
      reader->replica = r;
      reader->channels = chans;
      ASSERT_TRUE(OpenAttached(&reader->client, replicas[r]->http_port(), EventsTarget(chans)))
          << reader->client.Describe();
      readers.push_back(std::move(reader));
    }
  }
  constexpr int kEvents = 10000;                               // alternating a, b
  std::vector<std::pair<std::string, std::string>> published;  // channel, id
  std::vector<std::thread> threads;
  for (auto& r : readers) {
    SseClient* c = &r->client;
    const size_t n = r->channels.size() * kEvents / 2;
    threads.push_back(ReadInBackground(
        c, [c, n] { return c->events().size() >= n; }, absl::Seconds(120)));
  }
  GrpcClient grpc(r1->grpc_port());
  PublishStreamer stream(grpc.publisher(), "");
  for (int i = 0; i < kEvents; ++i) {
    const std::string channel = i % 2 == 0 ? "a" : "b";
    v1::PublishResponse resp;
    ASSERT_TRUE(stream.Send(MakePublish(channel, absl::StrCat("e", i)), &resp));
    ASSERT_FALSE(resp.has_error()) << resp.ShortDebugString();
    published.emplace_back(channel, resp.id());
  }
  EXPECT_TRUE(stream.Finish().ok());
  for (auto& t : threads) t.join();
  std::vector<std::string> all_ids;
  for (const auto& [c, id] : published) all_ids.push_back(id);
  EXPECT_EQ(CheckIdsIncreasing(all_ids), "") << "ids are ordered across channels";
  for (auto& r : readers) {
    std::vector<std::string> want;
    for (const auto& [c, id] : published) {
      if (std::find(r->channels.begin(), r->channels.end(), c) != r->channels.end()) {
        want.push_back(id);
      }
    }
    EXPECT_TRUE(EventIds(r->client.events()) == want)
        << "replica " << r->replica + 1 << " reader of " << r->channels.size()
        << " channel(s): got " << r->client.events().size() << " of " << want.size();
  }
}

TEST_F(RedisScaleOutTest, ResumeOnAnotherReplicaReceivesExactlyTheMissedEvents) {
  auto r1 = StartReplica();
  auto r2 = StartReplica();
  auto r3 = StartReplica();
  ASSERT_TRUE(r1 && r2 && r3);
  GrpcClient grpc(r1->grpc_port());
  SseClient first;
  ASSERT_TRUE(OpenAttached(&first, r2->http_port(), EventsTarget({"x", "y"})));
  std::vector<std::string> before;
  for (int i = 0; i < 6; ++i) {
    before.push_back(grpc.MustPublish(i % 2 ? "x" : "y", absl::StrCat("before", i)).id());
  }
  ASSERT_TRUE(first.WaitForEvents(6, kWait)) << first.Describe();
  EXPECT_EQ(EventIds(first.events()), before);
  const std::string cursor = first.events().back().id;
  first.Close();
  std::vector<std::string> missed;
  for (int i = 0; i < 7; ++i) {
    missed.push_back(grpc.MustPublish(i % 3 ? "x" : "y", absl::StrCat("missed", i)).id());
  }
  grpc.MustPublish("z", "other channel");
  SseClient second;
  ASSERT_TRUE(second.Open(r3->http_port(), EventsTarget({"x", "y"}), Resume(cursor)));
  ASSERT_TRUE(second.WaitForEvents(7, kWait)) << second.Describe();
  const std::string live = grpc.MustPublish("y", "live").id();
  missed.push_back(live);
  ASSERT_TRUE(second.WaitForData("live", kWait)) << second.Describe();
  EXPECT_EQ(EventIds(second.events()), missed);
}

// Two replicas, 300 publishes through one of them; Redis shuts down with
// SAVE at the 100th and starts again from its dump at the 200th. Returns
// the ids acknowledged; `on1`/`on2` read "feed" on each replica until END.
class RedisRestartTest : public RedisScaleOutTest {
 protected:
  std::vector<std::string> RestartRedisWithItsDataUnderLoad(const std::vector<std::string>& flags,
                                                            SseClient* on1, SseClient* on2);
};

std::vector<std::string> RedisRestartTest::RestartRedisWithItsDataUnderLoad(
    const std::vector<std::string>& flags, SseClient* on1, SseClient* on2) {
  auto r1 = StartReplica(flags);
  auto r2 = StartReplica(flags);
  if (!r1 || !r2) {
    ADD_FAILURE() << "replicas did not start";
    return {};
  }
  if (!OpenAttached(on1, r1->http_port(), EventsTarget({"feed"})) ||
      !OpenAttached(on2, r2->http_port(), EventsTarget({"feed"}))) {
    ADD_FAILURE() << on1->Describe() << on2->Describe();
    return {};
  }
  std::thread t1 = ReadInBackground(
      on1, [&] { return !on1->events().empty() && on1->events().back().data == "END"; },
      absl::Seconds(60));
  std::thread t2 = ReadInBackground(
      on2, [&] { return !on2->events().empty() && on2->events().back().data == "END"; },
      absl::Seconds(60));
  GrpcClient grpc(r1->grpc_port());
  std::vector<std::string> accepted;
  int unavailable = 0, other_errors = 0;
  bool saw_not_ready = false;
  for (int i = 0; i < 300; ++i) {
    if (i == 100) {
      EXPECT_TRUE(redis_->ShutdownSave());
    }
    if (i == 200) {
      std::string error;
      EXPECT_TRUE(redis_->Start(&error)) << error;
    }
    if (i > 100 && i < 200 && i % 20 == 0) {
      saw_not_ready = saw_not_ready || ReadyStatus(r2->http_port()) == 503;
    }
    v1::PublishResponse resp;
    grpc::Status s = grpc.Publish(MakePublish("feed", absl::StrCat("n", i)), &resp);
    if (s.ok()) {
      accepted.push_back(resp.id());
    } else if (s.error_code() == grpc::StatusCode::UNAVAILABLE) {
      ++unavailable;
    } else {
      ++other_errors;
      ADD_FAILURE() << "unexpected " << s.error_code() << " " << s.error_message();
    }
    if (i >= 100 && i < 200) absl::SleepFor(absl::Milliseconds(5));
  }
  // Redis may need a moment to be back for the replica's pool.
  v1::PublishResponse end;
  const absl::Time deadline = absl::Now() + kWait;
  while (!grpc.Publish(MakePublish("feed", "END"), &end).ok() && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  accepted.push_back(end.id());
  t1.join();
  t2.join();
  EXPECT_GT(unavailable, 50) << "publishes during the outage fail UNAVAILABLE";
  EXPECT_EQ(other_errors, 0);
  EXPECT_TRUE(saw_not_ready) << "/readyz goes 503 while Redis is down";
  EXPECT_EQ(ReadyStatus(r2->http_port()), 200);
  for (SseClient* c : {on1, on2}) EXPECT_FALSE(c->closed()) << "the stream stayed open";
  return accepted;
}

// With --redis_reset_on_primary_change=false a restart that kept every
// write is invisible: same epoch, nothing lost, no reset.
TEST_F(RedisRestartTest, WithItsDataLosesNothingWhenResetOnPrimaryChangeIsOff) {
  SseClient on1, on2;
  const std::vector<std::string> accepted =
      RestartRedisWithItsDataUnderLoad({"--redis_reset_on_primary_change=false"}, &on1, &on2);
  ASSERT_FALSE(accepted.empty());
  for (SseClient* c : {&on1, &on2}) EXPECT_EQ(EventIds(c->events()), accepted) << c->Describe();
}

// By default another redis-server process under the same data is a new
// epoch: no replica can tell that the dump holds every id handed out (a
// restart from an older snapshot, a failover to a replica that lagged look
// the same), so every stream gets one reset and no id is reused.
TEST_F(RedisRestartTest, StartsANewEpochAndResetsEveryStreamOnce) {
  SseClient on1, on2;
  const std::vector<std::string> accepted = RestartRedisWithItsDataUnderLoad({}, &on1, &on2);
  ASSERT_FALSE(accepted.empty());
  std::set<std::string> distinct(accepted.begin(), accepted.end());
  EXPECT_EQ(distinct.size(), accepted.size()) << "an id was handed out twice";
  ParsedId first, last;
  ASSERT_TRUE(ParseEventId(accepted.front(), &first));
  ASSERT_TRUE(ParseEventId(accepted.back(), &last));
  ASSERT_NE(first.epoch, last.epoch) << "a restart starts a new epoch";
  for (SseClient* c : {&on1, &on2}) {
    std::vector<std::string> before, after;
    int resets = 0;
    ParsedId head;
    for (const auto& e : c->events()) {
      if (e.event == "ssebridge.reset") {
        ++resets;
        ASSERT_TRUE(ParseEventId(ResetHead(e.data), &head)) << e.data;
        EXPECT_EQ(head.epoch, last.epoch) << "the reset leads into the new epoch";
      } else {
        (resets == 0 ? before : after).push_back(e.id);
      }
    }
    ASSERT_EQ(resets, 1) << c->Describe();
    // Before the reset: the old epoch's acknowledged events in order, once
    // (the last few may be missing if Redis stopped before sending them;
    // the reset covers those). After it: every event of the new epoch past
    // the reset's head, in order, once.
    std::vector<std::string> old_epoch, new_epoch;
    for (const std::string& id : accepted) {
      ParsedId p;
      ASSERT_TRUE(ParseEventId(id, &p));
      if (p.epoch == first.epoch) {
        old_epoch.push_back(id);
      } else if (p.seq > head.seq) {
        new_epoch.push_back(id);
      }
    }
    ASSERT_LE(before.size(), old_epoch.size());
    EXPECT_EQ(before,
              std::vector<std::string>(old_epoch.begin(), old_epoch.begin() + before.size()))
        << c->Describe();
    EXPECT_EQ(after, new_epoch) << c->Describe();
  }
}

TEST_F(RedisScaleOutTest, LostPubSubConnectionDeliversWhatRedisAcceptedMeanwhile) {
  auto r1 = StartReplica();
  auto r2 = StartReplica();
  ASSERT_TRUE(r1 && r2);
  SseClient reader;
  ASSERT_TRUE(OpenAttached(&reader, r2->http_port(), EventsTarget({"p", "q"})));
  std::thread t = ReadInBackground(
      &reader, [&] { return !reader.events().empty() && reader.events().back().data == "END"; },
      absl::Seconds(60));
  GrpcClient grpc(r1->grpc_port());
  std::vector<std::string> accepted;
  for (int i = 0; i < 400; ++i) {
    if (i % 100 == 50) {
      // Cut every pub/sub connection (both replicas'): they reconnect and
      // read from their last position what was published meanwhile.
      EXPECT_EQ(redis_->Command({"CLIENT", "KILL", "TYPE", "pubsub"}).substr(0, 1), ":");
    }
    accepted.push_back(grpc.MustPublish(i % 2 ? "p" : "q", absl::StrCat("n", i)).id());
  }
  accepted.push_back(grpc.MustPublish("p", "END").id());
  t.join();
  EXPECT_FALSE(reader.closed());
  EXPECT_EQ(EventIds(reader.events()), accepted) << reader.Describe();
}

TEST_F(RedisScaleOutTest, SubscribersOfAKilledReplicaResumeOnAnotherAndMissNothing) {
  auto r1 = StartReplica();
  auto r2 = StartReplica();
  auto r3 = StartReplica();
  ASSERT_TRUE(r1 && r2 && r3);
  auto on2 = std::make_unique<SseClient>();
  ASSERT_TRUE(OpenAttached(on2.get(), r2->http_port(), EventsTarget({"k"})));
  GrpcClient grpc(r1->grpc_port());
  std::vector<std::string> accepted;
  std::vector<std::string> seen;
  std::string cursor;
  for (int i = 0; i < 600; ++i) {
    if (i == 300) {
      on2->ReadFor(absl::Milliseconds(50));
      r2->Signal(SIGKILL);  // mid fan-out: events are still being published
    }
    accepted.push_back(grpc.MustPublish("k", absl::StrCat("n", i)).id());
    if (i % 50 == 0 && i < 300) on2->Drain();
  }
  ASSERT_TRUE(on2->WaitForClose(kWait)) << "the killed replica's stream ends";
  for (const auto& e : on2->events()) seen.push_back(e.id);
  ASSERT_FALSE(seen.empty());
  cursor = seen.back();
  SseClient on3;
  ASSERT_TRUE(on3.Open(r3->http_port(), EventsTarget({"k"}), Resume(cursor)));
  accepted.push_back(grpc.MustPublish("k", "END").id());
  ASSERT_TRUE(on3.WaitForData("END", kWait)) << on3.Describe();
  for (const auto& e : on3.events()) seen.push_back(e.id);
  EXPECT_EQ(seen, accepted) << "before the kill on r2, then the rest on r3";
}

TEST_F(RedisScaleOutTest, RedisLosingItsDataResetsOpenAndResumingStreams) {
  auto r1 = StartReplica();
  auto r2 = StartReplica();
  ASSERT_TRUE(r1 && r2);
  SseClient open;
  ASSERT_TRUE(OpenAttached(&open, r2->http_port(), EventsTarget({"d"})));
  GrpcClient grpc(r1->grpc_port());
  const std::string old_id = grpc.MustPublish("d", "before").id();
  ASSERT_TRUE(open.WaitForData("before", kWait));
  // Restart empty: SIGKILL, no dump.
  redis_->Kill();
  std::string error;
  ASSERT_TRUE(redis_->Start(&error)) << error;
  v1::PublishResponse resp;
  const absl::Time deadline = absl::Now() + kWait;
  while (!grpc.Publish(MakePublish("d", "after"), &resp).ok() && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  ParsedId before_id, after_id;
  ASSERT_TRUE(ParseEventId(old_id, &before_id));
  ASSERT_TRUE(ParseEventId(resp.id(), &after_id)) << resp.ShortDebugString();
  EXPECT_NE(before_id.epoch, after_id.epoch) << "Redis lost its data: a new epoch";
  ASSERT_TRUE(open.ReadUntil(
      [&] {
        for (const auto& e : open.events()) {
          if (e.event == "ssebridge.reset") return true;
        }
        return false;
      },
      kWait))
      << open.Describe();
  EXPECT_FALSE(open.closed());
  // A reader coming back with a cursor of the old epoch is reset too, on any
  // replica.
  // The publish connection may be back before the fan-out one: a stream is
  // only accepted once the replica is ready again.
  const absl::Time ready_by = absl::Now() + kWait;
  while (ReadyStatus(r1->http_port()) != 200 && absl::Now() < ready_by) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  SseClient back;
  ASSERT_TRUE(back.Open(r1->http_port(), EventsTarget({"d"}), Resume(old_id))) << back.error();
  ASSERT_TRUE(back.WaitForEvents(1, kWait)) << back.Describe();
  EXPECT_EQ(back.events()[0].event, "ssebridge.reset");
  EXPECT_NE(back.events()[0].data.find("unknown_epoch"), std::string::npos);
  EXPECT_EQ(PublishedIds(back.events()).size(), 0u) << "never a wrong replay";
}

TEST_F(RedisScaleOutTest, PublishFailsFastWhenRedisIsDown) {
  // "Fast" means without waiting out a Redis timeout: with timeouts of a
  // minute, a publish that waited on one would take a minute, while one
  // that fails fast takes milliseconds (about a second under TSan on a busy
  // machine, so the bound sits far from both).
  auto r1 = StartReplica({"--redis_command_timeout=60s", "--redis_connect_timeout=60s"});
  ASSERT_TRUE(r1);
  redis_->Kill();
  GrpcClient grpc(r1->grpc_port());
  // The bound below is on the publish, not on connecting (slow under TSan
  // on a busy machine).
  ASSERT_TRUE(grpc.channel()->WaitForConnected(absl::ToChronoTime(absl::Now() + kWait)));
  for (int i = 0; i < 5; ++i) {
    v1::PublishResponse resp;
    const absl::Time start = absl::Now();
    grpc::Status s = grpc.Publish(MakePublish("c", "x"), &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
    EXPECT_LT(absl::Now() - start, absl::Seconds(15));
  }
  HttpResponse http = HttpPostJson(r1->http_port(), "/v1/publish", R"({"channel":"c","data":"x"})");
  EXPECT_EQ(http.status, 503) << http.body;
  const absl::Time end = absl::Now() + kWait;
  while (ReadyStatus(r1->http_port()) != 503 && absl::Now() < end) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_EQ(ReadyStatus(r1->http_port()), 503);
}

// A reader arriving while Redis is away is told so (not "too slow"), and
// comes back once it returns.
TEST_F(RedisScaleOutTest, ReadersAreToldTheBrokerIsUnavailableWhileRedisIsDown) {
  auto r1 = StartReplica();
  ASSERT_TRUE(r1);
  redis_->Kill();
  const absl::Time end = absl::Now() + kWait;
  while (ReadyStatus(r1->http_port()) != 503 && absl::Now() < end) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  ASSERT_EQ(ReadyStatus(r1->http_port()), 503);
  HttpResponse sse = HttpGet(r1->http_port(), EventsTarget({"c"}));
  ExpectJsonError(sse, 503, "unavailable", "Redis");
  EXPECT_TRUE(sse.Header("Retry-After").has_value());
  GrpcClient grpc(r1->grpc_port());
  GrpcSubscription sub(&grpc, {"c"});
  ASSERT_TRUE(sub.WaitForEnd(kWait));
  EXPECT_EQ(sub.status().error_code(), grpc::StatusCode::UNAVAILABLE)
      << sub.status().error_message();
  std::string error;
  ASSERT_TRUE(redis_->Start(&error)) << error;
  const absl::Time again = absl::Now() + kWait;
  while (ReadyStatus(r1->http_port()) != 200 && absl::Now() < again) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  SseClient back;
  EXPECT_TRUE(OpenAttached(&back, r1->http_port(), EventsTarget({"c"}))) << back.Describe();
}

TEST_F(RedisScaleOutTest, TargetedEventsReachOnlyTheirUserOnEveryReplica) {
  const AuthKeys& keys = AuthKeys::Get();
  auto r1 = StartReplica(keys.Flags());
  auto r2 = StartReplica(keys.Flags());
  auto r3 = StartReplica(keys.Flags());
  ASSERT_TRUE(r1 && r2 && r3);
  const std::string alice = keys.UserToken("alice", {"tasks"});
  const std::string bob = keys.UserToken("bob", {"tasks"});
  SseClient alice2, alice3, bob3;
  ASSERT_TRUE(
      OpenAttached(&alice2, r2->http_port(), EventsTarget({"tasks"}), BearerOptions(alice)));
  ASSERT_TRUE(
      OpenAttached(&alice3, r3->http_port(), EventsTarget({"tasks"}), BearerOptions(alice)));
  ASSERT_TRUE(OpenAttached(&bob3, r3->http_port(), EventsTarget({"tasks"}), BearerOptions(bob)));
  AuthedGrpc backend(grpc::CreateChannel(r1->grpc_target(), grpc::InsecureChannelCredentials()),
                     keys.backend_key);
  v1::PublishResponse r;
  ASSERT_TRUE(backend.Publish(Targeted("tasks", "for-alice", {"alice"}), &r).ok());
  const std::string alice_id = r.id();
  ASSERT_TRUE(backend.Publish(Targeted("tasks", "for-bob", {"bob"}), &r).ok());
  const std::string bob_id = r.id();
  ASSERT_TRUE(backend.Publish(MakePublish("tasks", "marker"), &r).ok());
  for (SseClient* c : {&alice2, &alice3}) {
    ASSERT_TRUE(c->WaitForData("marker", kWait)) << c->Describe();
    EXPECT_EQ(EventDatas(c->events()), (std::vector<std::string>{"for-alice", "marker"}));
  }
  ASSERT_TRUE(bob3.WaitForData("marker", kWait));
  EXPECT_EQ(EventDatas(bob3.events()), (std::vector<std::string>{"for-bob", "marker"}));
  // History respects targeting on another replica too.
  SseClient bob1;
  ASSERT_TRUE(bob1.Open(r1->http_port(), EventsTarget({"tasks"}),
                        BearerOptions(bob, /*last_event_id=*/alice_id)));
  ASSERT_TRUE(bob1.WaitForData("marker", kWait)) << bob1.Describe();
  EXPECT_EQ(EventIds(bob1.events()), (std::vector<std::string>{bob_id, r.id()}));
}

}  // namespace
}  // namespace ssebridge_it
