// Everything a user does works on any replica (issue 21, item 8): two real
// replicas on one real redis-server, --broker=redis, auth on.
// DisconnectUser on one replica ends the user's streams on the other; the
// per-user cap counts the user's streams on both; a SIGKILLed replica's
// streams stop counting once its --fleet_lease runs out; GetStats{fleet}
// sums both; with Redis gone DisconnectUser ends this replica's streams and
// says the others were not told.
#include <csignal>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/harness/auth_fixture.h"
#include "tests/harness/redis_fixture.h"
#include "tests/harness/test_helpers.h"

namespace ssebridge_it {
namespace {

// Short lease and refresh so the lease test waits seconds, not minutes.
const std::vector<std::string> kFleetFlags = {"--fleet_lease=1s", "--fleet_refresh_interval=100ms"};

class RedisFleetTest : public RedisScaleOutTest {
 protected:
  void StartBoth(std::vector<std::string> extra = {}) {
    std::vector<std::string> flags = AuthKeys::Get().Flags();
    flags.insert(flags.end(), kFleetFlags.begin(), kFleetFlags.end());
    flags.insert(flags.end(), extra.begin(), extra.end());
    a_ = StartReplica(flags);
    b_ = StartReplica(flags);
    ASSERT_TRUE(a_ && b_);
    // Ready follows the broker; the fleet's thread joins on its own. Both
    // have subscribed once both have refreshed their lease.
    ASSERT_TRUE(WaitForReplicasInRedis(2)) << a_->LogText() << b_->LogText();
  }
  bool WaitForReplicasInRedis(int n) {
    const std::string want = absl::StrCat(":", n);
    const absl::Time end = absl::Now() + kWait;
    while (redis_->Command({"SCARD", "{ssebridge}:fleet:replicas"}) != want) {
      if (absl::Now() > end) return false;
      absl::SleepFor(absl::Milliseconds(10));
    }
    return true;
  }
  static AuthedGrpc Admin(const BridgeProcess& replica) {
    return AuthedGrpc(InsecureChannel(replica.admin_port()), AuthKeys::Get().admin_key);
  }
  static grpc::Status FleetStats(const BridgeProcess& replica, v1::Stats* stats) {
    auto stub = v1::Admin::NewStub(InsecureChannel(replica.admin_port()));
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer " + AuthKeys::Get().admin_key);
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    v1::GetStatsRequest req;
    req.set_fleet(true);
    return stub->GetStats(&ctx, req, stats);
  }
  static SseClientOptions As(const std::string& user) {
    return BearerOptions(AuthKeys::Get().UserToken(user, {"tasks"}));
  }
  // Opens and attaches a stream of `user` on `replica`.
  static bool OpenAs(SseClient* c, const BridgeProcess& replica, const std::string& user) {
    return OpenAttached(c, replica.http_port(), EventsTarget({"tasks"}), As(user));
  }
  static HttpResponse TryAs(const BridgeProcess& replica, const std::string& user) {
    return GetEvents(replica.http_port(), EventsTarget({"tasks"}),
                     BearerHeader(AuthKeys::Get().UserToken(user, {"tasks"})));
  }

  std::unique_ptr<BridgeProcess> a_, b_;
};

TEST_F(RedisFleetTest, DisconnectUserOnOneReplicaEndsTheUsersStreamsOnEvery) {
  StartBoth();
  if (HasFatalFailure()) return;
  SseClient carol_a, carol_b1, carol_b2, dave_b;
  ASSERT_TRUE(OpenAs(&carol_a, *a_, "carol")) << carol_a.Describe();
  ASSERT_TRUE(OpenAs(&carol_b1, *b_, "carol")) << carol_b1.Describe();
  ASSERT_TRUE(OpenAs(&carol_b2, *b_, "carol")) << carol_b2.Describe();
  ASSERT_TRUE(OpenAs(&dave_b, *b_, "dave")) << dave_b.Describe();

  v1::DisconnectUserResponse resp;
  grpc::Status s = Admin(*a_).DisconnectUser("carol", &resp);
  ASSERT_TRUE(s.ok()) << StatusText(s);
  EXPECT_EQ(resp.disconnected_here(), 1u);
  EXPECT_EQ(resp.replicas_told(), 1u);
  EXPECT_EQ(resp.replicas_answered(), 1u);
  EXPECT_EQ(resp.disconnected(), 3u);
  EXPECT_EQ(resp.fleet_error(), "");
  for (SseClient* tab : {&carol_a, &carol_b1, &carol_b2}) {
    ASSERT_TRUE(tab->WaitForClose(kWait)) << tab->Describe();
    ASSERT_FALSE(tab->events().empty()) << tab->Describe();
    EXPECT_EQ(tab->events().back().event, "ssebridge.disconnected") << tab->Describe();
  }
  // Another user's stream on B is untouched.
  v1::PublishResponse r;
  AuthedGrpc backend(InsecureChannel(a_->grpc_port()), AuthKeys::Get().backend_key);
  ASSERT_TRUE(backend.Publish(MakePublish("tasks", "still-here"), &r).ok());
  ASSERT_TRUE(dave_b.WaitForData("still-here", kWait)) << dave_b.Describe();
  EXPECT_FALSE(dave_b.closed());
}

TEST_F(RedisFleetTest, PerUserLimitCountsTheUsersStreamsOnEveryReplica) {
  StartBoth({"--max_connections_per_user=3"});
  if (HasFatalFailure()) return;
  SseClient a1, a2, b1;
  ASSERT_TRUE(OpenAs(&a1, *a_, "carol")) << a1.Describe();
  ASSERT_TRUE(OpenAs(&b1, *b_, "carol")) << b1.Describe();
  ASSERT_TRUE(OpenAs(&a2, *a_, "carol")) << a2.Describe();
  // Three on two replicas: the fourth is refused on either, naming the flag.
  for (const BridgeProcess* replica : {a_.get(), b_.get()}) {
    HttpResponse refused = TryAs(*replica, "carol");
    ExpectJsonError(refused, 429, "resource_exhausted", "--max_connections_per_user");
    EXPECT_NE(refused.body.find("on all replicas"), std::string::npos) << refused.body;
  }
  // Another user is not affected.
  SseClient dave;
  ASSERT_TRUE(OpenAs(&dave, *b_, "dave")) << dave.Describe();

  // Closing one on A frees a slot on B (the release reaches Redis from A's
  // fleet thread, so B may refuse for a moment).
  a1.Close();
  SseClient b2;
  const absl::Time end = absl::Now() + kWait;
  bool opened = false;
  while (!opened && absl::Now() < end) {
    opened = OpenAs(&b2, *b_, "carol");
    if (!opened) {
      ASSERT_EQ(b2.status(), 429) << b2.Describe();
      b2.Close();
      absl::SleepFor(absl::Milliseconds(20));
    }
  }
  ASSERT_TRUE(opened) << b2.Describe();
  ExpectJsonError(TryAs(*a_, "carol"), 429, "resource_exhausted", "on all replicas");
}

TEST_F(RedisFleetTest, AKilledReplicasStreamsStopCountingAfterItsLease) {
  StartBoth({"--max_connections_per_user=2"});
  if (HasFatalFailure()) return;
  SseClient b1, b2;
  ASSERT_TRUE(OpenAs(&b1, *b_, "carol")) << b1.Describe();
  ASSERT_TRUE(OpenAs(&b2, *b_, "carol")) << b2.Describe();
  ExpectJsonError(TryAs(*a_, "carol"), 429, "resource_exhausted", "on all replicas");

  // SIGKILL: B gives nothing back; only its lease running out frees the two.
  b_->Signal(SIGKILL);
  const absl::Time killed = absl::Now();
  SseClient a1;
  const absl::Time end = absl::Now() + kWait;
  bool opened = false;
  while (!opened && absl::Now() < end) {
    opened = OpenAs(&a1, *a_, "carol");
    if (!opened) {
      ASSERT_EQ(a1.status(), 429) << a1.Describe();
      a1.Close();
      absl::SleepFor(absl::Milliseconds(20));
    }
  }
  ASSERT_TRUE(opened) << a1.Describe();
  // Bound: the lease (1 s) plus a refresh, with room for a slow machine.
  EXPECT_LT(absl::Now() - killed, absl::Seconds(10));
  SseClient a2;
  ASSERT_TRUE(OpenAs(&a2, *a_, "carol")) << a2.Describe();
  ExpectJsonError(TryAs(*a_, "carol"), 429, "resource_exhausted", "--max_connections_per_user");

  // B is reaped from Redis too, not only skipped: its name and its count
  // of carol are gone, and GetStats lists A alone.
  ASSERT_TRUE(WaitForReplicasInRedis(1));
  EXPECT_EQ(redis_->Command({"HLEN", "{ssebridge}:fleet:streams:u:carol"}), ":1");
  v1::Stats stats;
  ASSERT_TRUE(FleetStats(*a_, &stats).ok());
  EXPECT_EQ(stats.fleet().replicas_size(), 1) << stats.DebugString();
  EXPECT_EQ(stats.fleet().total().connections(), 2u) << stats.DebugString();
}

// A failover to a lagging replica (or a restart from an older dump) can
// lose a release Redis had acknowledged while the replica's lease survives.
// The count would then stay one too high for good: with a limit of one the
// user is locked out everywhere. A replica that reconnects rewrites its
// counts from its own ledger, which heals it.
TEST_F(RedisFleetTest, ACountRedisLostIsRewrittenWhenTheFleetReconnects) {
  StartBoth({"--max_connections_per_user=1"});
  if (HasFatalFailure()) return;
  const std::string user_key = "{ssebridge}:fleet:streams:u:carol";
  const std::string held_prefix = "{ssebridge}:fleet:held:";
  SseClient a1;
  ASSERT_TRUE(OpenAs(&a1, *a_, "carol")) << a1.Describe();
  // What Redis holds for carol's stream: the count and A's ledger of users.
  ASSERT_EQ(redis_->Command({"EVAL", R"lua(
local fields = redis.call('HKEYS', KEYS[1])
if #fields ~= 1 then return -1 end
redis.call('COPY', KEYS[1], 'test:hash', 'REPLACE')
redis.call('COPY', ARGV[1] .. fields[1], 'test:held', 'REPLACE')
redis.call('SET', 'test:name', fields[1])
return 1)lua",
                             "1", user_key, held_prefix}),
            ":1");
  a1.Close();
  const absl::Time end = absl::Now() + kWait;
  while (redis_->Command({"EXISTS", user_key}) != ":0" && absl::Now() < end) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_EQ(redis_->Command({"EXISTS", user_key}), ":0") << "the release never reached Redis";
  // The release is lost: Redis goes back to holding carol's stream.
  ASSERT_EQ(redis_->Command({"EVAL", R"lua(
local name = redis.call('GET', 'test:name')
redis.call('COPY', 'test:hash', KEYS[1], 'REPLACE')
redis.call('COPY', 'test:held', ARGV[1] .. name, 'REPLACE')
return 1)lua",
                             "1", user_key, held_prefix}),
            ":1");
  ExpectJsonError(TryAs(*b_, "carol"), 429, "resource_exhausted", "on all replicas");
  // Every replica's pub/sub connection drops (as in a failover); A's fleet
  // reconnects and rewrites carol's count from what it really holds: none.
  ASSERT_NE(redis_->Command({"CLIENT", "KILL", "TYPE", "pubsub"}), "");
  SseClient b1;
  bool opened = false;
  while (!opened && absl::Now() < end + kWait) {
    opened = OpenAs(&b1, *b_, "carol");
    if (!opened) {
      ASSERT_EQ(b1.status(), 429) << b1.Describe();
      b1.Close();
      absl::SleepFor(absl::Milliseconds(20));
    }
  }
  ASSERT_TRUE(opened) << b1.Describe() << a_->LogText();
}

TEST_F(RedisFleetTest, AReplicaStoppedWithSigtermStopsCountingAtOnce) {
  // A lease far longer than the wait below: only leaving frees the slots.
  StartBoth(
      {"--max_connections_per_user=1", "--fleet_lease=120s", "--fleet_refresh_interval=100ms"});
  if (HasFatalFailure()) return;
  SseClient b1;
  ASSERT_TRUE(OpenAs(&b1, *b_, "carol")) << b1.Describe();
  ExpectJsonError(TryAs(*a_, "carol"), 429, "resource_exhausted", "on all replicas");
  ExitInfo info;
  ASSERT_TRUE(b_->Stop(kWait, &info)) << info.Describe();
  EXPECT_EQ(info.exit_code, 0) << info.Describe();
  // B left the fleet on its way out: its name and its count are gone now,
  // not 120 s from now.
  EXPECT_EQ(redis_->Command({"SCARD", "{ssebridge}:fleet:replicas"}), ":1");
  EXPECT_EQ(redis_->Command({"EXISTS", "{ssebridge}:fleet:streams:u:carol"}), ":0");
  SseClient a1;
  ASSERT_TRUE(OpenAs(&a1, *a_, "carol")) << a1.Describe();
}

TEST_F(RedisFleetTest, GetStatsForTheFleetSumsBothReplicas) {
  StartBoth();
  if (HasFatalFailure()) return;
  SseClient carol, dave1, dave2;
  ASSERT_TRUE(OpenAs(&carol, *a_, "carol")) << carol.Describe();
  ASSERT_TRUE(OpenAs(&dave1, *b_, "dave")) << dave1.Describe();
  ASSERT_TRUE(OpenAs(&dave2, *b_, "dave")) << dave2.Describe();

  // B reports every refresh: wait until A's answer carries B's streams.
  v1::Stats stats;
  const absl::Time end = absl::Now() + kWait;
  do {
    stats.Clear();
    grpc::Status s = FleetStats(*a_, &stats);
    ASSERT_TRUE(s.ok()) << StatusText(s);
  } while (stats.fleet().total().connections() != 3 && absl::Now() < end &&
           (absl::SleepFor(absl::Milliseconds(20)), true));
  ASSERT_EQ(stats.fleet().replicas_size(), 2) << stats.DebugString();
  EXPECT_EQ(stats.fleet().error(), "");
  EXPECT_FALSE(stats.replica().empty());
  // The answering replica first, with its current numbers.
  EXPECT_EQ(stats.fleet().replicas(0).replica(), stats.replica());
  EXPECT_EQ(stats.fleet().replicas(0).connections(), 1u);
  EXPECT_EQ(stats.fleet().replicas(0).users(), 1u);
  EXPECT_EQ(stats.fleet().replicas(1).connections(), 2u);
  EXPECT_EQ(stats.fleet().replicas(1).users(), 1u);
  EXPECT_NE(stats.fleet().replicas(1).replica(), stats.replica());
  EXPECT_GT(stats.fleet().replicas(1).reported_at().seconds(), 0);
  EXPECT_EQ(stats.fleet().total().connections(), 3u);
  EXPECT_EQ(stats.fleet().total().users(), 2u);
  EXPECT_EQ(stats.fleet().total().channels(), 2u);
  // The replica's own section is unchanged: this replica alone.
  EXPECT_EQ(stats.connections(), 1u);

  // Without `fleet` the answer is the replica's alone, as before.
  v1::Stats local;
  ASSERT_TRUE(Admin(*a_).GetStats(&local).ok());
  EXPECT_FALSE(local.has_fleet());
  EXPECT_EQ(local.connections(), 1u);
}

TEST_F(RedisFleetTest, WithRedisGoneDisconnectUserEndsLocalStreamsAndSaysSo) {
  StartBoth();
  if (HasFatalFailure()) return;
  SseClient carol;
  ASSERT_TRUE(OpenAs(&carol, *a_, "carol")) << carol.Describe();
  redis_->Kill();

  const absl::Time start = absl::Now();
  v1::DisconnectUserResponse resp;
  grpc::Status s = Admin(*a_).DisconnectUser("carol", &resp);
  ASSERT_TRUE(s.ok()) << StatusText(s);
  // Bounded by the Redis timeouts (2 s each in the fixture), never a hang.
  EXPECT_LT(absl::Now() - start, absl::Seconds(8));
  EXPECT_EQ(resp.disconnected_here(), 1u);
  EXPECT_EQ(resp.disconnected(), 1u);
  EXPECT_EQ(resp.replicas_told(), 0u);
  EXPECT_NE(resp.fleet_error().find("not told"), std::string::npos) << resp.fleet_error();
  EXPECT_NE(resp.fleet_error().find("Redis"), std::string::npos) << resp.fleet_error();
  ASSERT_TRUE(carol.WaitForClose(kWait)) << carol.Describe();

  v1::Stats stats;
  ASSERT_TRUE(FleetStats(*a_, &stats).ok());
  EXPECT_NE(stats.fleet().error(), "");
  ASSERT_EQ(stats.fleet().replicas_size(), 1);
  EXPECT_EQ(stats.fleet().replicas(0).replica(), stats.replica());
}

// --broker=memory: nothing changes. DisconnectUser answers for this replica
// (no fleet fields), and the fleet of GetStats is this replica alone.
TEST(FleetMemoryBrokerTest, AReplicaAloneIsItsOwnFleet) {
  auto bridge = StartBridge();  // dev mode: Admin is open
  ASSERT_NE(bridge, nullptr);
  SseClient anyone;
  ASSERT_TRUE(anyone.Open(bridge->http_port(), EventsTarget({"tasks"}))) << anyone.Describe();
  AuthedGrpc admin(InsecureChannel(bridge->admin_port()), "");
  v1::DisconnectUserResponse resp;
  ASSERT_TRUE(admin.DisconnectUser("nobody", &resp).ok());
  EXPECT_EQ(resp.disconnected(), 0u);
  EXPECT_EQ(resp.replicas_told(), 0u);
  EXPECT_EQ(resp.fleet_error(), "");

  auto stub = v1::Admin::NewStub(InsecureChannel(bridge->admin_port()));
  grpc::ClientContext ctx;
  v1::GetStatsRequest req;
  req.set_fleet(true);
  v1::Stats stats;
  ASSERT_TRUE(stub->GetStats(&ctx, req, &stats).ok());
  EXPECT_EQ(stats.replica(), "");
  ASSERT_EQ(stats.fleet().replicas_size(), 1) << stats.DebugString();
  EXPECT_EQ(stats.fleet().error(), "");
  EXPECT_EQ(stats.fleet().replicas(0).connections(), 1u);
  EXPECT_EQ(stats.fleet().total().connections(), 1u);
}

}  // namespace
}  // namespace ssebridge_it
