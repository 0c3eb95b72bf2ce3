// SIGTERM under load with the Redis broker (issue 8): two replicas on one
// redis-server, 200 SSE subscribers on replica A spread over channels, a
// publisher publishing continuously through A and B. SIGTERM A: each stream
// gets a final retry: and is closed; each client reconnects to B with its
// Last-Event-ID and resumes. Over the whole run every subscriber sees every
// event of its channel exactly once, in order.
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/harness/redis_fixture.h"
#include "tests/harness/test_helpers.h"

namespace ssebridge_it {
namespace {

constexpr int kSubscribers = 200;
constexpr int kDrainChannels = 10;

std::string Channel(int i) { return absl::StrCat("term", i % kDrainChannels); }

// One subscriber across its two connections.
struct Subscriber {
  int index = 0;
  SseClient client;
  std::vector<std::string> ids;  // every event id seen, both connections
  bool on_b = false;
  bool done = false;
  size_t retries_at_open = 0;
  std::string problem;
  // Appends what the current connection parsed since the last call.
  size_t taken = 0;
  void Take() {
    const auto& events = client.events();
    for (; taken < events.size(); ++taken) ids.push_back(events[taken].id);
  }
};

class SigtermRedisSlowTest : public RedisScaleOutTest {};

TEST_F(SigtermRedisSlowTest, StreamsOfADrainingReplicaResumeOnAnotherAndMissNothing) {
  // A short retry so the clients may honour it; they reconnect at once
  // anyway (as a browser whose retry elapsed would).
  auto a = StartReplica({"--shutdown_deadline=10s", "--retry=200ms", "--retry_jitter=100ms"});
  auto b = StartReplica({"--retry=200ms", "--retry_jitter=100ms"});
  ASSERT_TRUE(a && b);
  const int port_a = a->http_port();
  const int port_b = b->http_port();

  std::vector<std::unique_ptr<Subscriber>> subs;
  for (int i = 0; i < kSubscribers; ++i) {
    auto s = std::make_unique<Subscriber>();
    s->index = i;
    SseClientOptions o;
    o.keep_raw = false;
    ASSERT_TRUE(OpenAttached(&s->client, port_a, EventsTarget({Channel(i)}), o))
        << s->client.Describe();
    s->retries_at_open = s->client.retries().size();
    subs.push_back(std::move(s));
  }

  // Publisher: alternately through A and B until told to use only B (it
  // acknowledges between calls, so no publish to A is in flight when A is
  // signalled and every call's outcome is known).
  GrpcClient grpc_a(a->grpc_port());
  GrpcClient grpc_b(b->grpc_port());
  std::mutex pub_mu;
  std::map<std::string, std::vector<std::string>> accepted;  // channel -> ids
  std::atomic<bool> only_b{false};
  std::atomic<bool> only_b_seen{false};
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::thread publisher([&] {
    const absl::Time end = absl::Now() + absl::Seconds(90);
    for (int i = 0; !stop.load() && i < 100000 && absl::Now() < end; ++i) {
      const bool use_b = only_b.load() || i % 2 == 1;
      if (only_b.load()) only_b_seen.store(true);
      GrpcClient& g = use_b ? grpc_b : grpc_a;
      v1::PublishResponse r;
      const std::string channel = Channel(i);
      grpc::Status s = g.Publish(MakePublish(channel, absl::StrCat("n", i)), &r);
      if (s.ok()) {
        std::lock_guard<std::mutex> lock(pub_mu);
        accepted[channel].push_back(r.id());
      } else {
        failures.fetch_add(1);
      }
      absl::SleepFor(absl::Milliseconds(2));
    }
  });

  // One thread reads every stream, without blocking on any.
  auto read_all = [&](absl::Duration d) {
    const absl::Time end = absl::Now() + d;
    do {
      for (auto& s : subs) {
        if (s->done) continue;
        s->client.Drain();
        s->Take();
      }
      absl::SleepFor(absl::Milliseconds(5));
    } while (absl::Now() < end);
  };
  read_all(absl::Seconds(2));

  only_b.store(true);
  const absl::Time wait_ack = absl::Now() + kWait;
  while (!only_b_seen.load() && absl::Now() < wait_ack) absl::SleepFor(absl::Milliseconds(1));
  ASSERT_TRUE(only_b_seen.load());
  const absl::Time signalled = absl::Now();
  a->Signal(SIGTERM);

  // Each stream of A ends with a retry: after its last event; the client
  // then resumes on B from its Last-Event-ID.
  int moved = 0;
  int without_retry = 0;
  absl::Duration slowest_close;
  const absl::Time move_end = absl::Now() + absl::Seconds(30);
  while (moved < kSubscribers && absl::Now() < move_end) {
    for (auto& s : subs) {
      if (s->on_b) continue;
      s->client.Drain();
      s->Take();
      if (!s->client.closed()) continue;
      slowest_close = std::max(slowest_close, absl::Now() - signalled);
      if (s->client.retries().size() <= s->retries_at_open) ++without_retry;
      if (!s->client.eof() && s->problem.empty()) {
        s->problem = "A's stream ended with a reset, not a close";
      }
      const std::string cursor = s->client.parser().last_event_id();
      SseClientOptions o;
      o.keep_raw = false;
      o.headers.emplace_back("Last-Event-ID", cursor);
      s->taken = 0;
      if (!s->client.Open(port_b, EventsTarget({Channel(s->index)}), o)) {
        s->problem = absl::StrCat("reopen on B: ", s->client.Describe());
        s->done = true;
      }
      s->on_b = true;
      ++moved;
    }
    absl::SleepFor(absl::Milliseconds(2));
  }
  EXPECT_EQ(moved, kSubscribers) << "streams of A still open after 30 s";
  EXPECT_EQ(without_retry, 0) << "streams closed without a final retry:";

  // Keep publishing through B for a while, then one END per channel.
  read_all(absl::Seconds(2));
  stop.store(true);
  publisher.join();
  {
    std::lock_guard<std::mutex> lock(pub_mu);
    for (int c = 0; c < kDrainChannels; ++c) {
      accepted[Channel(c)].push_back(grpc_b.MustPublish(Channel(c), "END").id());
    }
  }
  const absl::Time end = absl::Now() + kWait;
  bool all_done = false;
  while (!all_done && absl::Now() < end) {
    all_done = true;
    for (auto& s : subs) {
      if (s->done) continue;
      s->client.Drain();
      s->Take();
      if (!s->ids.empty() && s->ids.back() == accepted[Channel(s->index)].back()) {
        s->done = true;
      } else if (s->client.closed()) {
        s->problem = absl::StrCat("B's stream ended: ", s->client.Describe());
        s->done = true;
      } else {
        all_done = false;
      }
    }
    absl::SleepFor(absl::Milliseconds(5));
  }

  ExitInfo info;
  ASSERT_TRUE(a->WaitExit(absl::Seconds(20), &info)) << "A still running";
  EXPECT_EQ(info.exit_code, 0) << info.Describe();

  size_t total = 0;
  for (const auto& [channel, ids] : accepted) total += ids.size();
  std::printf(
      "sigterm: %zu events published over %d channels (%d refused), %d "
      "streams moved A->B, last closed %s after SIGTERM\n",
      total, kDrainChannels, failures.load(), moved, absl::FormatDuration(slowest_close).c_str());
  EXPECT_EQ(failures.load(), 0);
  int mismatched = 0;
  for (auto& s : subs) {
    const auto& want = accepted[Channel(s->index)];
    if (!s->problem.empty() || s->ids != want) {
      if (++mismatched <= 3) {
        ADD_FAILURE() << "subscriber " << s->index << " on " << Channel(s->index) << ": "
                      << s->problem << "\n  saw  " << Summarize(s->ids) << "\n  want "
                      << Summarize(want);
      }
    }
  }
  EXPECT_EQ(mismatched, 0);
}

}  // namespace
}  // namespace ssebridge_it
