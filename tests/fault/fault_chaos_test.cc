// Chaos behind a real load balancer (issue 21, item 9): three replicas
// behind HAProxy, which sends a stream only to replicas whose /readyz is
// 200, on Redis with Sentinel (a primary, a replica, three sentinels);
// simulated browsers (SSE clients that reconnect through HAProxy after the
// stream's retry: with Last-Event-ID, as EventSource does); publishers on
// every replica; a replica SIGKILLed and restarted every few seconds, the
// Redis primary failed over once (SIGKILL) and the new one frozen once. Passes when nothing
// acknowledged is missing from a browser that was not reset, no browser gets an event twice, and no
// id is issued twice. The figures are printed and recorded as test properties.
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/harness/bridge_process.h"
#include "tests/harness/haproxy_process.h"
#include "tests/harness/redis_fixture.h"
#include "tests/harness/sentinel_fixture.h"
#include "tests/harness/test_helpers.h"

namespace ssebridge_it {
namespace {

constexpr int kReplicas = 3;
constexpr int kBrowsers = 12;
constexpr int kKills = 6;
constexpr int kMaxPublishesEach = 20000;
const char kChannel[] = "chaos";

// What the publishers were told.
struct Ledger {
  std::mutex mu;
  std::map<std::string, std::string> acked;  // data -> id
  std::vector<std::string> acked_ids;
  size_t unknown = 0;  // DEADLINE_EXCEEDED / UNKNOWN: stored or not
  size_t refused = 0;  // any other error
};

// Where each replica slot's gRPC port is now (0 while it is down).
struct Slots {
  std::mutex mu;
  int grpc_port[kReplicas] = {};
};

// One browser: reconnects through the load balancer after retry: (capped
// at 1 s so the run stays short) with the last event id it saw.
class Browser {
 public:
  void Run(int lb_port, const std::atomic<bool>* stop) {
    std::string last_id;
    absl::Duration retry = absl::Seconds(1);
    absl::Time down_since = absl::Now();
    while (!stop->load()) {
      SseClient c;
      SseClientOptions o;
      o.keep_raw = false;
      if (!last_id.empty()) o.headers.emplace_back("Last-Event-ID", last_id);
      const bool open = c.Connect(lb_port, EventsTarget({kChannel}), o) &&
                        c.ReadHead(absl::Seconds(5)) && c.status() == 200;
      if (open) {
        Count([&] {
          ++streams_;
          longest_gap_ = std::max(longest_gap_, absl::Now() - down_since);
        });
        size_t seen = 0;
        while (!stop->load() && !c.closed()) {
          c.ReadUntil([&] { return c.events().size() > seen || stop->load(); },
                      absl::Milliseconds(200));
          Take(c.events(), &seen);
          if (!c.parser().last_event_id().empty()) last_id = c.parser().last_event_id();
        }
        down_since = absl::Now();
        if (c.parser().retry_millis()) {
          retry = std::min(absl::Milliseconds(*c.parser().retry_millis()), absl::Seconds(1));
        }
      } else {
        Count([&] { ++refused_; });
      }
      const absl::Time until = absl::Now() + retry;
      while (!stop->load() && absl::Now() < until) absl::SleepFor(absl::Milliseconds(10));
    }
  }

  bool HasAll(const std::vector<std::string>& datas) {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& d : datas) {
      if (!datas_.count(d)) return false;
    }
    return true;
  }

  std::mutex mu_;
  std::set<std::string> datas_;
  std::map<std::string, std::string> id_of_;  // data -> the id it came with
  size_t duplicates_ = 0;
  size_t resets_ = 0;
  size_t notices_ = 0;  // other ssebridge.* events
  size_t streams_ = 0;
  size_t refused_ = 0;
  absl::Duration longest_gap_;

 private:
  template <typename F>
  void Count(F f) {
    std::lock_guard<std::mutex> lock(mu_);
    f();
  }

  void Take(const std::vector<SseEvent>& events, size_t* seen) {
    std::lock_guard<std::mutex> lock(mu_);
    for (; *seen < events.size(); ++*seen) {
      const SseEvent& e = events[*seen];
      if (e.event == "ssebridge.reset") {
        ++resets_;
      } else if (absl::StartsWith(e.event, "ssebridge.")) {
        ++notices_;
      } else if (!datas_.insert(e.data).second) {
        ++duplicates_;
      } else {
        id_of_[e.data] = e.id;
      }
    }
  }
};

void Publish(int slot, Slots* slots, Ledger* ledger, const std::atomic<bool>* stop) {
  std::unique_ptr<GrpcClient> client;
  int client_port = 0;
  // Bounded by count and by the test's stop; only attempts count, so a slot
  // that is down for a while does not use up the budget.
  for (int n = 0; n < kMaxPublishesEach && !stop->load();) {
    int port;
    {
      std::lock_guard<std::mutex> lock(slots->mu);
      port = slots->grpc_port[slot];
    }
    if (port == 0) {
      absl::SleepFor(absl::Milliseconds(20));
      continue;
    }
    if (port != client_port) {
      client = std::make_unique<GrpcClient>(port);
      client_port = port;
    }
    const std::string data = absl::StrCat("p", slot, "-", n++);
    v1::PublishResponse response;
    const grpc::Status s =
        client->Publish(MakePublish(kChannel, data), &response, absl::Seconds(5));
    std::lock_guard<std::mutex> lock(ledger->mu);
    if (s.ok()) {
      ledger->acked[data] = response.id();
      ledger->acked_ids.push_back(response.id());
    } else if (s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED ||
               s.error_code() == grpc::StatusCode::UNKNOWN) {
      ++ledger->unknown;
    } else {
      ++ledger->refused;
    }
    // A few hundred events a second over all publishers: a dashboard's rate,
    // enough for every kill to land mid-stream.
    absl::SleepFor(absl::Milliseconds(5));
  }
}

class ChaosTest : public RedisSentinelTest {
 protected:
  void SetUp() override {
    if (BridgeIsSanitized()) {
      GTEST_SKIP() << "three replicas, HAProxy and Sentinel under a sanitizer test the "
                      "machine, not the bridge; the release build runs this";
    }
    RedisSentinelTest::SetUp();
  }

  // Starts (or restarts) replica `slot` on the sentinels' primary and points
  // HAProxy's slot at it.
  bool StartSlot(int slot) {
    replicas_[slot] =
        StartBridge({"--broker=redis", "--redis_sentinels=" + cluster_.SentinelsFlag(),
                     std::string("--redis_sentinel_master=") + RedisSentinelCluster::kMaster,
                     "--redis_sentinel_timeout=500ms", "--redis_reconnect_min=50ms",
                     "--redis_reconnect_max=300ms", "--redis_command_timeout=1s",
                     "--queue_bytes=33554432", "--history_size=100000"});
    if (replicas_[slot] == nullptr) return false;
    if (!WaitReady(replicas_[slot]->http_port(), 200, kFailover)) {
      ADD_FAILURE() << "replica " << slot << " never became ready\n"
                    << replicas_[slot]->LogText(60);
      return false;
    }
    if (haproxy_.port() != 0) {
      std::string error;
      if (!haproxy_.SetBackend(slot, replicas_[slot]->http_port(), &error)) {
        ADD_FAILURE() << error;
        return false;
      }
    }
    std::lock_guard<std::mutex> lock(slots_.mu);
    slots_.grpc_port[slot] = replicas_[slot]->grpc_port();
    return true;
  }

  bool AllBackendsUp() {
    for (int i = 0; i < kReplicas; ++i) {
      if (!haproxy_.BackendUp(i)) return false;
    }
    return true;
  }

  std::unique_ptr<BridgeProcess> replicas_[kReplicas];
  HaproxyProcess haproxy_;
  Slots slots_;
};

// Stops and joins the test's threads however the test body ends (an ASSERT
// returns early; a joinable std::thread would terminate the process).
struct Threads {
  std::atomic<bool> stop_browsers{false};
  std::atomic<bool> stop_publishers{false};
  std::vector<std::thread> browsers;
  std::vector<std::thread> publishers;
  void JoinPublishers() {
    stop_publishers = true;
    for (auto& t : publishers) {
      if (t.joinable()) t.join();
    }
  }
  void JoinBrowsers() {
    stop_browsers = true;
    for (auto& t : browsers) {
      if (t.joinable()) t.join();
    }
  }
  ~Threads() {
    JoinPublishers();
    JoinBrowsers();
  }
};

// Polls `pred` every 25 ms (it does I/O: HTTP, HAProxy's admin socket) until
// it holds or `timeout` passes.
bool WaitFor(const std::function<bool()>& pred, absl::Duration timeout) {
  const absl::Time end = absl::Now() + timeout;
  while (!pred()) {
    if (absl::Now() >= end) return false;
    absl::SleepFor(absl::Milliseconds(25));
  }
  return true;
}

TEST_F(ChaosTest, ReplicaKillsAFailoverAndAFreezeBehindHaproxyLoseAndRepeatNothing) {
  ASSERT_FALSE(FindHaproxy().empty())
      << "haproxy is not installed; scripts/setup-deps.sh installs it";
  for (int i = 0; i < kReplicas; ++i) ASSERT_TRUE(StartSlot(i));
  std::vector<int> ports;
  for (int i = 0; i < kReplicas; ++i) ports.push_back(replicas_[i]->http_port());
  std::string error;
  ASSERT_TRUE(haproxy_.Start(ports, &error)) << error;
  ASSERT_TRUE(WaitFor([&] { return AllBackendsUp(); }, kWait)) << haproxy_.Admin("show stat");

  Ledger ledger;
  std::vector<std::unique_ptr<Browser>> browsers;
  Threads threads;  // after what its threads use: it joins them first
  for (int i = 0; i < kBrowsers; ++i) {
    browsers.push_back(std::make_unique<Browser>());
    threads.browsers.emplace_back(&Browser::Run, browsers.back().get(), haproxy_.port(),
                                  &threads.stop_browsers);
  }
  ASSERT_TRUE(WaitFor(
      [&] {
        for (auto& b : browsers) {
          std::lock_guard<std::mutex> lock(b->mu_);
          if (b->streams_ == 0) return false;
        }
        return true;
      },
      kWait));
  for (int i = 0; i < kReplicas; ++i) {
    threads.publishers.emplace_back(Publish, i, &slots_, &ledger, &threads.stop_publishers);
  }
  auto acked_count = [&] {
    std::lock_guard<std::mutex> lock(ledger.mu);
    return ledger.acked.size();
  };

  bool froze = false;
  bool failed_over = false;
  for (int k = 0; k < kKills; ++k) {
    // Let some events through before each fault, so each lands mid-stream.
    const size_t before = acked_count();
    ASSERT_TRUE(WaitFor([&] { return acked_count() >= before + 200; }, kWait));
    const int slot = k % kReplicas;
    replicas_[slot]->Signal(SIGKILL);
    ExitInfo info;
    ASSERT_TRUE(replicas_[slot]->WaitExit(kWait, &info));
    {
      std::lock_guard<std::mutex> lock(slots_.mu);
      slots_.grpc_port[slot] = 0;
    }
    ASSERT_TRUE(StartSlot(slot)) << "restart of replica " << slot;
    if (k == 1) {
      // The primary dies; the sentinels promote the replica and every
      // bridge replica follows without a restart.
      cluster_.KillPrimary();
      ASSERT_TRUE(cluster_.WaitFailover(kFailover, &error)) << error;
      failed_over = true;
    }
    if (k == 3) {
      // The new primary (no replica left to promote) frozen until a bridge
      // replica noticed (a publish ran past the command timeout and it
      // turned unready), then thawed.
      cluster_.FreezePrimary();
      froze = WaitFor(
          [&] {
            for (auto& r : replicas_) {
              if (ReadyStatus(r->http_port()) == 503) return true;
            }
            return false;
          },
          kWait);
      cluster_.ThawPrimary();
    }
  }
  threads.JoinPublishers();

  // Every replica back in HAProxy; one last event per replica marks the end
  // of each publisher's sequence for the browsers.
  ASSERT_TRUE(WaitFor([&] { return AllBackendsUp(); }, kWait)) << haproxy_.Admin("show stat");
  std::vector<std::string> ends;
  for (int i = 0; i < kReplicas; ++i) {
    GrpcClient grpc(replicas_[i]->grpc_port());
    const std::string data = absl::StrCat("end-", i);
    const v1::PublishResponse r = grpc.MustPublish(kChannel, data);
    std::lock_guard<std::mutex> lock(ledger.mu);
    ledger.acked[data] = r.id();
    ledger.acked_ids.push_back(r.id());
    ends.push_back(data);
  }
  const bool all_ended = WaitFor(
      [&] {
        for (auto& b : browsers) {
          if (!b->HasAll(ends)) return false;
        }
        return true;
      },
      absl::Seconds(60));
  threads.JoinBrowsers();
  ASSERT_TRUE(all_ended) << "every browser reaches the last events";

  // The report.
  size_t delivered = 0, missing = 0, missing_unreset = 0, duplicated = 0, resets = 0, streams = 0,
         refused_streams = 0, id_mismatch = 0;
  absl::Duration longest_gap;
  for (auto& b : browsers) {
    std::lock_guard<std::mutex> lock(b->mu_);
    size_t missed = 0;
    for (const auto& [data, id] : ledger.acked) {
      auto it = b->id_of_.find(data);
      if (it == b->id_of_.end()) {
        ++missed;
      } else if (it->second != id) {
        ++id_mismatch;
      }
    }
    delivered += b->datas_.size();
    missing += missed;
    if (b->resets_ == 0) missing_unreset += missed;
    duplicated += b->duplicates_;
    resets += b->resets_;
    streams += b->streams_;
    refused_streams += b->refused_;
    longest_gap = std::max(longest_gap, b->longest_gap_);
  }
  const std::set<std::string> unique_ids(ledger.acked_ids.begin(), ledger.acked_ids.end());
  const std::string report = absl::StrCat(
      "chaos: ", kReplicas, " replicas behind HAProxy, ", kBrowsers, " browsers, ", kKills,
      " replica kills, the Redis primary failed over (", failed_over ? "yes" : "no",
      ") and frozen once (noticed: ", froze ? "yes" : "no", ")\n  acknowledged ",
      ledger.acked.size(), ", outcome unknown ", ledger.unknown, ", refused ", ledger.refused,
      "\n  delivered ", delivered, " (", kBrowsers, " browsers), missing ", missing, " (",
      missing_unreset, " without a reset), duplicated ", duplicated, ", resets ", resets,
      "\n  streams opened ", streams, ", refused ", refused_streams, ", longest without a stream ",
      absl::FormatDuration(longest_gap), "\n  ids issued ", ledger.acked_ids.size(), ", distinct ",
      unique_ids.size(), ", delivered with another id ", id_mismatch, "\n");
  std::fputs(report.c_str(), stdout);
  RecordProperty("acknowledged", static_cast<int>(ledger.acked.size()));
  RecordProperty("delivered", static_cast<int>(delivered));
  RecordProperty("missing", static_cast<int>(missing));
  RecordProperty("duplicated", static_cast<int>(duplicated));
  RecordProperty("resets", static_cast<int>(resets));
  RecordProperty("longest_gap_ms", static_cast<int>(absl::ToInt64Milliseconds(longest_gap)));

  EXPECT_TRUE(froze) << "no replica noticed the frozen Redis" << report;
  EXPECT_EQ(missing_unreset, 0u) << report;

  EXPECT_EQ(duplicated, 0u) << report;
  EXPECT_EQ(unique_ids.size(), ledger.acked_ids.size()) << report;
  EXPECT_EQ(id_mismatch, 0u) << report;
  EXPECT_GT(streams, static_cast<size_t>(kBrowsers)) << "the kills moved streams" << report;
}

}  // namespace
}  // namespace ssebridge_it
