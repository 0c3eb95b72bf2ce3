// Churn (issue 8): tens of thousands of SSE connect/subscribe/disconnect
// cycles while events are being published. Afterwards the bridge holds no
// more descriptors than before, its memory is back near its warmed-up level
// and /metrics counts no open stream: nothing leaks per connection.
//
// Cycle count: 20,000 in release, 4,000 under a sanitizer (ASan/TSan make
// each cycle several times slower; the leak would show at 4,000 too).
#include <dirent.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/harness/bridge_process.h"
#include "tests/harness/grpc_client.h"
#include "tests/harness/hostile_wire.h"
#include "tests/harness/http_request.h"
#include "tests/harness/process_stats.h"
#include "tests/harness/sse_client.h"
#include "tests/harness/test_helpers.h"

namespace ssebridge_it {
namespace {

// "fd -> target" for each open descriptor of `pid`, to show what leaked.
std::set<std::string> FdTargets(pid_t pid) {
  std::set<std::string> out;
  const std::string dir = absl::StrCat("/proc/", pid, "/fd");
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return out;
  while (const dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    char target[256] = {0};
    ssize_t n = readlink(absl::StrCat(dir, "/", e->d_name).c_str(), target, sizeof(target) - 1);
    out.insert(absl::StrCat(e->d_name, " -> ", n > 0 ? std::string(target, n) : "?"));
  }
  closedir(d);
  return out;
}

std::string Difference(const std::set<std::string>& a, const std::set<std::string>& b) {
  std::string out;
  for (const auto& x : a) {
    if (b.count(x) == 0) absl::StrAppend(&out, " +[", x, "]");
  }
  for (const auto& x : b) {
    if (a.count(x) == 0) absl::StrAppend(&out, " -[", x, "]");
  }
  return out;
}

constexpr int kChannels = 4;
constexpr int kClients = 8;

// One client's share of the cycles. Four kinds, in turn:
//   0: open, wait for one live event, close;
//   1: open with Last-Event-ID (a recent id), read the replay, close;
//   2: send the request and close before reading anything;
//   3: open, then close with events arriving unread (a reset mid-event).
struct CycleCounts {
  std::atomic<int> done{0};
  std::atomic<int> opened{0};
  std::atomic<int> failed{0};
  std::mutex mu;
  std::string first_failure;
};

void RunCycles(int port, int client, int cycles, const std::function<std::string()>& last_id,
               CycleCounts* counts) {
  const absl::Duration kStep = absl::Seconds(10);
  for (int i = 0; i < cycles; ++i) {
    const int kind = (i + client) % 4;
    const std::string channel = absl::StrCat("churn", (i + client) % kChannels);
    SseClientOptions options;
    options.keep_raw = false;
    std::string resume = kind == 1 ? last_id() : "";
    if (!resume.empty()) options.headers.emplace_back("Last-Event-ID", resume);
    SseClient sse;
    bool ok = true;
    std::string why;
    if (kind == 2) {
      ok = sse.Connect(port, EventsTarget({channel}), options);
    } else {
      ok = sse.Open(port, EventsTarget({channel}), options, kStep) && sse.status() == 200;
      if (ok) counts->opened.fetch_add(1);
      if (ok && kind == 0) ok = sse.WaitForEvents(1, kStep);
      if (ok && kind == 3) {
        // Let events pile up unread in the socket, then close: the kernel
        // answers with a reset while the bridge may be writing.
        absl::SleepFor(absl::Milliseconds(2));
      }
      if (ok && kind == 1) sse.ReadFor(absl::Milliseconds(1));
    }
    if (!ok) {
      counts->failed.fetch_add(1);
      std::lock_guard<std::mutex> lock(counts->mu);
      if (counts->first_failure.empty()) {
        counts->first_failure =
            absl::StrCat("client ", client, " cycle ", i, " kind ", kind, ": ", sse.Describe());
      }
    }
    sse.Close();
    counts->done.fetch_add(1);
  }
}

TEST(ChurnSlowTest, ConnectSubscribeDisconnectCyclesLeakNoFdsMemoryOrStreams) {
  const int kCycles = BridgeIsSanitized() ? 4000 : 20000;
  const int kWarmupCycles = BridgeIsSanitized() ? 400 : 2000;
  // Measured on the 2-core box: release grows ~1.3 MiB after warm-up over
  // 20,000 cycles; the bound is well under what a leak of one stream's
  // buffers per cycle (several KiB x 20,000) would add. Under ASan RSS says
  // nothing (freed memory sits in its 256 MiB quarantine: +40 MiB over 4,000
  // cycles); there LeakSanitizer at the bridge's exit is the leak check.
  const int64_t kRssToleranceKib = 8 * 1024;

  auto bridge = StartBridge({"--heartbeat=100ms", "--history_size=1000"});
  ASSERT_NE(bridge, nullptr);
  const int port = bridge->http_port();
  const int admin_port = bridge->admin_port();  // /metrics
  const pid_t pid = bridge->pid();
  GrpcClient grpc(bridge->grpc_port());

  // Publisher: a few events per millisecond over the churned channels,
  // bounded in count and time.
  std::atomic<bool> stop{false};
  std::mutex id_mu;
  std::string newest_id;
  std::atomic<int> published{0};
  std::thread publisher([&] {
    const absl::Time end = absl::Now() + absl::Minutes(10);
    for (int i = 0; !stop.load() && i < 2000000 && absl::Now() < end; ++i) {
      v1::PublishResponse r;
      grpc::Status s =
          grpc.Publish(MakePublish(absl::StrCat("churn", i % kChannels), absl::StrCat("p", i)), &r);
      if (s.ok()) {
        published.fetch_add(1);
        std::lock_guard<std::mutex> lock(id_mu);
        newest_id = r.id();
      }
      absl::SleepFor(absl::Microseconds(500));
    }
  });
  auto last_id = [&] {
    std::lock_guard<std::mutex> lock(id_mu);
    return newest_id;
  };

  auto churn = [&](int total, CycleCounts* counts) {
    std::vector<std::thread> clients;
    for (int c = 0; c < kClients; ++c) {
      clients.emplace_back(RunCycles, port, c, total / kClients, last_id, counts);
    }
    for (auto& t : clients) t.join();
  };
  auto settle = [&](int64_t want_fds) {
    // Streams end asynchronously (the writer loop sees the close); give the
    // bridge a moment, then it must hold exactly what it held before.
    // Each /metrics scrape is a connection of its own, which the bridge
    // closes just after the client has read the answer: count fds a moment
    // after the scrape, never right after it.
    const absl::Time end = absl::Now() + absl::Seconds(BridgeIsSanitized() ? 30 : 10);
    ProcessStats stats;
    while (true) {
      const double streams = MetricValue(admin_port, "ssebridge_streams");
      absl::SleepFor(absl::Milliseconds(100));
      stats = ReadProcessStats(pid);
      if (streams == 0 && (want_fds < 0 || stats.open_fds <= want_fds)) break;
      if (absl::Now() > end) break;
    }
    EXPECT_GT(stats.rss_kib, 0) << stats.Describe();
    EXPECT_GT(stats.open_fds, 0) << stats.Describe();
    return stats;
  };

  // Warm-up: thread pools, allocator arenas and history reach their size.
  CycleCounts warm;
  churn(kWarmupCycles, &warm);
  ProcessStats base = settle(-1);
  ASSERT_EQ(MetricValue(admin_port, "ssebridge_streams"), 0);
  absl::SleepFor(absl::Milliseconds(200));
  // The baseline is the fewest fds over a short while: a /metrics scrape's
  // socket or a gRPC-internal descriptor may come and go (seen once under
  // ASan: 18 at baseline, 17 normally).
  base = ReadProcessStats(pid);
  std::set<std::string> base_fds = FdTargets(pid);
  for (int i = 0; i < 5; ++i) {
    absl::SleepFor(absl::Milliseconds(100));
    ProcessStats again = ReadProcessStats(pid);
    if (again.open_fds > 0 && again.open_fds < base.open_fds) {
      base.open_fds = again.open_fds;
      base_fds = FdTargets(pid);
    }
  }
  ASSERT_GT(base.rss_kib, 0) << base.Describe();

  const absl::Time started = absl::Now();
  CycleCounts counts;
  churn(kCycles, &counts);
  const absl::Duration took = absl::Now() - started;
  stop.store(true);
  publisher.join();

  ProcessStats after = settle(base.open_fds);
  std::printf(
      "churn: %d cycles (%d streams opened, %d failed) in %s, %d events "
      "published; fds %lld -> %lld, RSS %.1f -> %.1f MiB\n",
      counts.done.load(), counts.opened.load(), counts.failed.load(),
      absl::FormatDuration(took).c_str(), published.load(), static_cast<long long>(base.open_fds),
      static_cast<long long>(after.open_fds), base.rss_kib / 1024.0, after.rss_kib / 1024.0);
  EXPECT_EQ(counts.done.load(), kCycles / kClients * kClients);
  EXPECT_EQ(counts.failed.load(), 0) << counts.first_failure;
  EXPECT_GT(published.load(), 0);
  if (after.open_fds > base.open_fds) {
    // Tell a slow close (a timeout somewhere) from a leak.
    const std::string extra = Difference(FdTargets(pid), base_fds);
    const absl::Time since = absl::Now();
    while (ReadProcessStats(pid).open_fds > base.open_fds &&
           absl::Now() - since < absl::Seconds(60)) {
      absl::SleepFor(absl::Milliseconds(200));
    }
    const bool closed_late = ReadProcessStats(pid).open_fds <= base.open_fds;
    ADD_FAILURE() << "descriptors still open after the settle:" << extra << "; "
                  << (closed_late
                          ? absl::StrCat("closed ", absl::FormatDuration(absl::Now() - since),
                                         " later")
                          : std::string("still open 60 s later"));
  }
  if (!BridgeIsSanitized()) {
    EXPECT_LE(after.rss_kib, base.rss_kib + kRssToleranceKib)
        << "RSS grew by " << (after.rss_kib - base.rss_kib) / 1024.0 << " MiB";
  }
  EXPECT_EQ(MetricValue(admin_port, "ssebridge_streams"), 0);
  EXPECT_EQ(MetricValue(admin_port, "ssebridge_subscriptions"), 0);

  // Still serving.
  SseClient sse;
  ASSERT_TRUE(sse.Open(port, EventsTarget({"churn0"}))) << sse.Describe();
  grpc.MustPublish("churn0", "after");
  EXPECT_TRUE(sse.WaitForData("after", kWait)) << sse.Describe();

  // A clean exit; under ASan this is where LeakSanitizer reports.
  sse.Close();
  ExitInfo info;
  ASSERT_TRUE(bridge->Stop(kWait, &info)) << "needed SIGKILL";
  EXPECT_EQ(info.exit_code, 0) << info.Describe();
  EXPECT_EQ(info.term_signal, 0) << info.Describe();
  EXPECT_EQ(bridge->LogText().find("Sanitizer"), std::string::npos) << bridge->LogText();
}

}  // namespace
}  // namespace ssebridge_it
