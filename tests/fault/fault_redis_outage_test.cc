// Redis faults that used to stall a replica or lose data silently (issue
// 21), each against a real redis-server:
//   - readiness follows the Redis connection, even after a refused publish;
//   - a Redis restored from an older snapshot (same epoch, seq gone back)
//     makes a new epoch: no id is handed out twice, readers are reset;
//   - a publish that timed out on a frozen Redis says "outcome unknown"
//     (DEADLINE_EXCEEDED / HTTP 504), as it may well have been stored;
//   - shutdown keeps its deadline with a publish stuck on a frozen Redis;
//   - a publish stream stuck on a frozen Redis holds neither the health
//     checks nor another publish stream, and shutdown keeps its deadline
//     with it;
//   - a stream that Redis freezes under while it attaches gets a 503 with
//     Retry-After, not a silent close.
#include <signal.h>

#include <atomic>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/harness/grpc_generic.h"
#include "tests/harness/http_request.h"
#include "tests/harness/redis_fixture.h"
#include "tests/harness/test_helpers.h"

namespace ssebridge_it {
namespace {

class RedisOutageSlowTest : public RedisScaleOutTest {
 protected:
  void TearDown() override {
    if (redis_) redis_->Thaw();  // a failed assertion must not leave it stopped
  }

  // Whether Redis's socket came to hold `bytes` unread (a publish sent to
  // the frozen Redis is in flight).
  bool WaitUntilRedisHolds(size_t bytes) {
    const absl::Time end = absl::Now() + kWait;
    while (redis_->PendingInputBytes() < bytes && absl::Now() < end) {
      absl::SleepFor(absl::Milliseconds(10));
    }
    return redis_->PendingInputBytes() >= bytes;
  }

  using PublishStream = grpc::ClientReaderWriter<v1::PublishRequest, v1::PublishResponse>;

  // A PublishStream whose first publish was answered, then Redis frozen and
  // a second one (kStuckBytes of data) left unread in Redis's socket;
  // nullptr, with the failure recorded, when it did not get there.
  static constexpr size_t kStuckBytes = 300;
  std::unique_ptr<PublishStream> StreamStuckOnFrozenRedis(GrpcClient& grpc,
                                                          grpc::ClientContext* ctx) {
    ctx->set_deadline(absl::ToChronoTime(absl::Now() + absl::Minutes(3)));
    std::unique_ptr<PublishStream> stream = grpc.publisher()->PublishStream(ctx);
    v1::PublishResponse resp;
    // Answered before the freeze: the stream's pooled connection has its
    // script loaded, so what reaches Redis next is the publish itself.
    if (!stream->Write(MakePublish("stuck", "warm")) || !stream->Read(&resp) || resp.has_error()) {
      ADD_FAILURE() << "the first publish was not answered: " << resp.ShortDebugString();
      return nullptr;
    }
    redis_->Freeze();
    if (!stream->Write(MakePublish("stuck", std::string(kStuckBytes, 'x'))) ||
        !WaitUntilRedisHolds(kStuckBytes)) {
      ADD_FAILURE() << "the publish never reached Redis";
      return nullptr;
    }
    return stream;
  }
};

bool WaitReady(int port, int status, absl::Duration timeout) {
  const absl::Time end = absl::Now() + timeout;
  while (ReadyStatus(port) != status) {
    if (absl::Now() > end) return false;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return true;
}

bool HasEvent(const std::vector<SseEvent>& events, const std::string& type) {
  for (const auto& e : events) {
    if (e.event == type) return true;
  }
  return false;
}

TEST_F(RedisOutageSlowTest, ReadinessReturnsWithRedisAfterARefusedPublish) {
  auto r1 = StartReplica();
  ASSERT_TRUE(r1);
  redis_->Kill();
  ASSERT_TRUE(WaitReady(r1->http_port(), 503, kWait));
  GrpcClient grpc(r1->grpc_port());
  v1::PublishResponse resp;
  grpc::Status s = grpc.Publish(MakePublish("c", "refused"), &resp);
  ASSERT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
  std::string error;
  ASSERT_TRUE(redis_->Start(&error)) << error;
  // No publish: the connection alone must bring readiness back.
  EXPECT_TRUE(WaitReady(r1->http_port(), 200, absl::Seconds(10)))
      << "still unready after Redis returned\n"
      << r1->LogText(40);
  SseClient back;
  EXPECT_TRUE(OpenAttached(&back, r1->http_port(), EventsTarget({"c"}))) << back.Describe();
}

// Redis with RDB: SAVE, more acknowledged publishes, SIGKILL, restart from
// the dump. Redis now holds an older seq under the same epoch; the bridge
// must not hand those seqs out again.
TEST_F(RedisOutageSlowTest, RestoredOlderSnapshotStartsANewEpochAndNeverReusesAnId) {
  auto r1 = StartReplica();
  auto r2 = StartReplica();
  ASSERT_TRUE(r1 && r2);
  SseClient reader;  // on r2: it only sees r1's publishes through Redis
  ASSERT_TRUE(OpenAttached(&reader, r2->http_port(), EventsTarget({"snap"})));
  GrpcClient g1(r1->grpc_port());
  GrpcClient g2(r2->grpc_port());
  std::vector<std::string> acked;
  for (int i = 0; i < 30; ++i) acked.push_back(g1.MustPublish("snap", absl::StrCat("a", i)).id());
  ASSERT_EQ(redis_->Command({"SAVE"}), "+OK");
  for (int i = 0; i < 30; ++i) acked.push_back(g1.MustPublish("snap", absl::StrCat("b", i)).id());
  ASSERT_TRUE(reader.WaitForData("b29", kWait)) << reader.Describe();
  const std::string last_before = acked.back();
  redis_->Kill();
  std::string error;
  ASSERT_TRUE(redis_->Start(&error)) << error;
  ASSERT_EQ(redis_->Command({"DBSIZE"}).substr(0, 1), ":");
  // r2 never published: it only knows the seqs it delivered.
  GrpcClient* doors[] = {&g2, &g1};
  for (int d = 0; d < 2; ++d) {
    const absl::Time end = absl::Now() + kWait;
    for (int i = 0; i < 20;) {
      v1::PublishResponse resp;
      grpc::Status s = doors[d]->Publish(MakePublish("snap", absl::StrCat("c", d, "-", i)), &resp);
      if (s.ok()) {
        acked.push_back(resp.id());
        ++i;
      } else {
        ASSERT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
        ASSERT_LT(absl::Now(), end) << "publishes never came back";
        absl::SleepFor(absl::Milliseconds(20));
      }
    }
  }
  std::set<std::string> distinct(acked.begin(), acked.end());
  EXPECT_EQ(distinct.size(), acked.size()) << "an id was handed out twice";
  ParsedId before, after;
  ASSERT_TRUE(ParseEventId(last_before, &before));
  ASSERT_TRUE(ParseEventId(acked.back(), &after));
  EXPECT_NE(before.epoch, after.epoch) << "Redis went back in time: a new epoch";
  // The open stream is told (its page refetches the state as of the
  // notice's head, which covers what was published before it), and then
  // continues live in the new epoch.
  ASSERT_TRUE(reader.ReadUntil([&] { return HasEvent(reader.events(), "ssebridge.reset"); }, kWait))
      << reader.Describe();
  std::vector<std::string> before_reset;
  for (const auto& e : reader.events()) {
    if (e.event == "ssebridge.reset") break;
    before_reset.push_back(e.id);
  }
  EXPECT_EQ(before_reset, std::vector<std::string>(acked.begin(), acked.begin() + 60))
      << "everything acknowledged before the crash, once";
  const std::string live = g1.MustPublish("snap", "after-reset").id();
  ASSERT_TRUE(reader.WaitForData("after-reset", kWait)) << reader.Describe();
  EXPECT_EQ(reader.events().back().id, live);
  EXPECT_FALSE(reader.closed());
  // A reader resuming from before the crash is reset too, never replayed
  // events that merely reuse its numbers.
  // (A replica that found the new epoch reconnects to resync; streams are
  // accepted again once it is ready.)
  ASSERT_TRUE(WaitReady(r1->http_port(), 200, kWait));
  SseClientOptions resume;
  resume.headers.emplace_back("Last-Event-ID", last_before);
  SseClient back;
  ASSERT_TRUE(back.Open(r1->http_port(), EventsTarget({"snap"}), resume)) << back.error();
  ASSERT_TRUE(back.WaitForEvents(1, kWait)) << back.Describe();
  EXPECT_EQ(back.events()[0].event, "ssebridge.reset") << back.Describe();
}

// A publish sent to a frozen Redis times out, but Redis runs it once it
// thaws: the answer must say the outcome is unknown, not "unavailable".
// Once per door, each on a connection that had its script loaded before
// the freeze (on a fresh one the script load times out first, and then the
// publish was certainly not sent: UNAVAILABLE is right).
TEST_F(RedisOutageSlowTest, PublishTimedOutOnAFrozenRedisSaysOutcomeUnknown) {
  auto r1 = StartReplica({"--redis_command_timeout=1s"});
  ASSERT_TRUE(r1);
  GrpcClient grpc(r1->grpc_port());
  const std::string cursor = grpc.MustPublish("frz", "before").id();
  redis_->Freeze();
  v1::PublishResponse resp;
  grpc::Status s = grpc.Publish(MakePublish("frz", "while-frozen-grpc"), &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << s.error_message();
  EXPECT_TRUE(absl::StrContains(s.error_message(), "outcome unknown")) << s.error_message();
  EXPECT_TRUE(absl::StrContains(s.error_message(), "timed out")) << s.error_message();
  EXPECT_FALSE(absl::StrContains(s.error_message(), "temporarily")) << s.error_message();
  redis_->Thaw();
  ASSERT_TRUE(WaitReady(r1->http_port(), 200, kWait));
  HttpResponse warm =
      HttpPostJson(r1->http_port(), "/v1/publish", R"({"channel":"frz","data":"warm"})");
  ASSERT_EQ(warm.status, 200) << warm.body;
  redis_->Freeze();
  HttpResponse http = HttpPostJson(r1->http_port(), "/v1/publish",
                                   R"({"channel":"frz","data":"while-frozen-http"})");
  EXPECT_EQ(http.status, 504) << http.body;
  EXPECT_TRUE(absl::StrContains(http.body, "outcome unknown")) << http.body;
  EXPECT_TRUE(absl::StrContains(http.body, "deadline_exceeded")) << http.body;
  redis_->Thaw();
  ASSERT_TRUE(WaitReady(r1->http_port(), 200, kWait));
  // Both were stored after all: that is why neither answer said UNAVAILABLE.
  SseClientOptions resume;
  resume.headers.emplace_back("Last-Event-ID", cursor);
  SseClient reader;
  ASSERT_TRUE(reader.Open(r1->http_port(), EventsTarget({"frz"}), resume)) << reader.error();
  ASSERT_TRUE(reader.WaitForData("while-frozen-http", kWait)) << reader.Describe();
  std::vector<std::string> data;
  for (const auto& e : reader.events()) data.push_back(e.data);
  EXPECT_EQ(data, (std::vector<std::string>{"while-frozen-grpc", "warm", "while-frozen-http"}));
}

// Admitted while the replica still counted as ready, then refused by the
// broker: the reader must get the same answer as a refusal at admission
// (503, Retry-After, the JSON body, CORS), not a connection closed with
// nothing said. The command timeout is long so that readiness is still up
// when the request arrives; the fan-out's PING then times out, failing the
// attach.
TEST_F(RedisOutageSlowTest, StreamOpenedAsRedisFreezesGets503WithRetryAfter) {
  auto r1 = StartReplica({"--redis_command_timeout=4s", "--cors_origins=https://app.example"});
  ASSERT_TRUE(r1);
  ASSERT_TRUE(WaitReady(r1->http_port(), 200, kWait));
  redis_->Freeze();
  HttpResponse got = HttpRequest(r1->http_port(), "GET", EventsTarget({"frozen-open"}), "",
                                 {{"Origin", "https://app.example"}}, absl::Seconds(30));
  ASSERT_TRUE(got.ok()) << got.error;
  EXPECT_EQ(got.status, 503) << got.body;
  EXPECT_EQ(got.Header("Retry-After").value_or(""), "5");
  EXPECT_EQ(got.Header("Access-Control-Allow-Origin").value_or(""), "https://app.example");
  EXPECT_TRUE(absl::StrContains(got.body, "\"error\":\"unavailable\"")) << got.body;
  // Refused by the broker, not at admission (which says "unreachable").
  EXPECT_TRUE(absl::StrContains(got.body, "could not be attached")) << got.body;
  redis_->Thaw();
  ASSERT_TRUE(WaitReady(r1->http_port(), 200, kWait));
  SseClient reader;
  ASSERT_TRUE(reader.Open(r1->http_port(), EventsTarget({"frozen-open"}))) << reader.error();
  GrpcClient grpc(r1->grpc_port());
  grpc.MustPublish("frozen-open", "after-thaw");
  EXPECT_TRUE(reader.WaitForData("after-thaw", kWait)) << reader.Describe();
}

TEST_F(RedisOutageSlowTest, ShutdownKeepsItsDeadlineWithAPublishStuckOnAFrozenRedis) {
  auto r1 = StartReplica({"--shutdown_deadline=1s", "--redis_command_timeout=8s"});
  ASSERT_TRUE(r1);
  GrpcClient grpc(r1->grpc_port());
  grpc.MustPublish("stuck", "warm");  // a pooled connection exists
  redis_->Freeze();
  std::atomic<int> code{-1};
  std::thread publisher([&] {
    v1::PublishResponse resp;
    code = grpc.Publish(MakePublish("stuck", std::string(300, 'x')), &resp).error_code();
  });
  // The publish is in flight once Redis' socket holds it unread.
  ASSERT_TRUE(WaitUntilRedisHolds(200)) << "the publish never reached Redis";
  const absl::Time term = absl::Now();
  r1->Signal(SIGTERM);
  ExitInfo info;
  ASSERT_TRUE(r1->WaitExit(absl::Seconds(15), &info));
  const absl::Duration took = absl::Now() - term;
  publisher.join();
  // Far below the 8 s command timeout it would take uncancelled, with room
  // for a loaded machine: what is measured is "cancelled", not a speed.
  EXPECT_LT(took, absl::Seconds(5)) << "--shutdown_deadline=1s; took " << took;
  EXPECT_EQ(info.exit_code, 0) << info.Describe();
  EXPECT_NE(code.load(), 0) << "the stuck publish was not acknowledged";
}

// A publish stream waiting on Redis holds one handler thread
// (--grpc_handler_threads, 2 by default), not the loop that reads every
// publish stream and answers grpc.health.v1: a probe must still get its
// answer, and another stream its. The timeouts are a minute long, so the
// stuck publish stays stuck for as long as the test looks (it checks that
// it still is), and the others share a bound of 40 s, below it: with the
// publish on the loop they would have waited the full minute.
TEST_F(RedisOutageSlowTest, AStreamStuckOnAFrozenRedisHoldsNeitherHealthChecksNorAnotherStream) {
  auto r1 = StartReplica({"--redis_command_timeout=60s", "--redis_connect_timeout=60s"});
  ASSERT_TRUE(r1);
  GrpcClient grpc(r1->grpc_port());
  grpc::ClientContext stuck_ctx;
  std::unique_ptr<PublishStream> stuck = StreamStuckOnFrozenRedis(grpc, &stuck_ctx);
  ASSERT_NE(stuck, nullptr);

  // One bound for both, well inside the minute the stuck publish waits.
  const absl::Time bound = absl::Now() + absl::Seconds(40);
  grpc::Status health;
  GrpcHealthCheck(r1->grpc_port(), "", &health, bound - absl::Now());
  EXPECT_TRUE(health.ok()) << "grpc.health.v1 Check while a stream waits on Redis: "
                           << health.error_code() << " " << health.error_message();

  grpc::ClientContext other_ctx;
  other_ctx.set_deadline(absl::ToChronoTime(bound));
  auto other = grpc.publisher()->PublishStream(&other_ctx);
  v1::PublishResponse refused;
  ASSERT_TRUE(other->Write(MakePublish("", "no channel")));  // refused before the broker
  ASSERT_TRUE(other->Read(&refused)) << "another stream got no answer while one waits on Redis";
  EXPECT_EQ(refused.error().code(), grpc::StatusCode::INVALID_ARGUMENT)
      << refused.ShortDebugString();
  other->WritesDone();
  EXPECT_TRUE(other->Finish().ok());

  // Still unread by Redis: the stuck publish was in flight all along.
  EXPECT_GE(redis_->PendingInputBytes(), kStuckBytes);
  redis_->Thaw();
  v1::PublishResponse resp;
  ASSERT_TRUE(stuck->Read(&resp));
  EXPECT_FALSE(resp.has_error()) << resp.ShortDebugString();
  stuck->WritesDone();
  EXPECT_TRUE(stuck->Finish().ok());
}

// The same deadline with the stuck publish on a stream: its batch waits on
// a handler thread, which shutdown must not wait out (the pool cancels it).
TEST_F(RedisOutageSlowTest, ShutdownKeepsItsDeadlineWithAPublishStreamStuckOnAFrozenRedis) {
  auto r1 = StartReplica({"--shutdown_deadline=1s", "--redis_command_timeout=60s"});
  ASSERT_TRUE(r1);
  GrpcClient grpc(r1->grpc_port());
  grpc::ClientContext ctx;
  std::unique_ptr<PublishStream> stream = StreamStuckOnFrozenRedis(grpc, &ctx);
  ASSERT_NE(stream, nullptr);
  const absl::Time term = absl::Now();
  r1->Signal(SIGTERM);
  ExitInfo info;
  ASSERT_TRUE(r1->WaitExit(absl::Seconds(50), &info)) << "still running 50 s after SIGTERM";
  const absl::Duration took = absl::Now() - term;
  // Far below the 60 s it would take uncancelled: what is measured is
  // "cancelled", not a speed.
  EXPECT_LT(took, absl::Seconds(30)) << "--shutdown_deadline=1s; took " << took;
  EXPECT_EQ(info.exit_code, 0) << info.Describe();
  // Not acknowledged as published: an error answer, or the stream ended.
  v1::PublishResponse resp;
  if (stream->Read(&resp)) {
    EXPECT_TRUE(resp.has_error()) << resp.ShortDebugString();
  }
  redis_->Thaw();
}

}  // namespace
}  // namespace ssebridge_it
