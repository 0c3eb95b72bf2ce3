// Slowloris: clients that trickle their request a byte at a time, or
// connect and send nothing, must not keep anyone else waiting (they hold no
// request thread) and are closed by the bridge at --http_header_timeout.
// 3 x --http_threads of each kind attack while a normal subscriber, a
// publisher and /healthz are timed.
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/harness/bridge_process.h"
#include "tests/harness/hostile_wire.h"
#include "tests/harness/http_request.h"
#include "tests/harness/sse_client.h"
#include "tests/harness/test_helpers.h"

namespace ssebridge_it {
namespace {

constexpr int kHttpThreads = 4;
constexpr absl::Duration kHeaderTimeout = absl::Seconds(3);
constexpr absl::Duration kIdleTimeout = absl::Seconds(1);
// How fast a normal client must still be served while under attack.
constexpr absl::Duration kPrompt = absl::Seconds(2);

// One attacking connection, driven by AttackDriver's thread.
struct Attacker {
  int fd = -1;
  bool trickle = false;  // sends a byte per tick; else sends nothing
  std::string request;   // what a trickler sends, never all of it in time
  size_t sent = 0;
  std::string received;
  absl::Time connected;
  absl::Time closed_at = absl::InfiniteFuture();
};

// Drives every attacker from one thread: each `tick` a trickler sends its
// next byte; everyone notices when the bridge closes it. Bounded: stops at
// `run_for`.
class AttackDriver {
 public:
  AttackDriver(int port, int tricklers, int silent, const std::string& request, absl::Duration tick,
               absl::Duration run_for) {
    for (int i = 0; i < tricklers + silent; ++i) {
      std::string error;
      Attacker a;
      a.fd = ConnectLoopback(port, 0, absl::Seconds(5), &error);
      EXPECT_GE(a.fd, 0) << error;
      a.trickle = i < tricklers;
      a.request = request;
      a.connected = absl::Now();
      attackers_.push_back(std::move(a));
    }
    thread_ = std::thread([this, tick, run_for] { Run(tick, run_for); });
  }
  ~AttackDriver() {
    Join();
    for (auto& a : attackers_)
      if (a.fd >= 0) ::close(a.fd);
  }
  // Valid once the driver has stopped (Join()).
  void Join() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
  }
  const std::vector<Attacker>& attackers() const { return attackers_; }
  bool AllClosed() const { return all_closed_.load(); }

 private:
  void Run(absl::Duration tick, absl::Duration run_for) {
    const absl::Time end = absl::Now() + run_for;
    absl::Time next_byte = absl::Now();
    while (!stop_.load() && absl::Now() < end) {
      const bool send_now = absl::Now() >= next_byte;
      if (send_now) next_byte += tick;
      bool all = true;
      for (auto& a : attackers_) {
        if (a.fd < 0 || a.closed_at != absl::InfiniteFuture()) continue;
        all = false;
        char buf[4096];
        ssize_t n = ::recv(a.fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (n > 0) a.received.append(buf, static_cast<size_t>(n));
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
          a.closed_at = absl::Now();
          continue;
        }
        if (send_now && a.trickle && a.sent < a.request.size()) {
          if (::send(a.fd, a.request.data() + a.sent, 1, MSG_NOSIGNAL | MSG_DONTWAIT) == 1) {
            ++a.sent;
          }
        }
      }
      all_closed_.store(all);
      absl::SleepFor(absl::Milliseconds(20));
    }
  }

  std::vector<Attacker> attackers_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> all_closed_{false};
};

std::unique_ptr<BridgeProcess> StartGuardedBridge() {
  return StartBridge({absl::StrCat("--http_threads=", kHttpThreads),
                      absl::StrCat("--http_header_timeout=", absl::FormatDuration(kHeaderTimeout)),
                      absl::StrCat("--http_body_timeout=", absl::FormatDuration(kHeaderTimeout)),
                      absl::StrCat("--http_idle_timeout=", absl::FormatDuration(kIdleTimeout))});
}

size_t CountOf(const std::string& text, const std::string& needle) {
  size_t count = 0;
  for (size_t p = text.find(needle); p != std::string::npos; p = text.find(needle, p + 1)) {
    ++count;
  }
  return count;
}

TEST(FaultSlowlorisTest, TricklingAndSilentClientsBlockNoOneAndAreClosedAtDeadline) {
  auto bridge = StartGuardedBridge();
  ASSERT_NE(bridge, nullptr);
  const int port = bridge->http_port();
  const int n = 3 * kHttpThreads;
  const std::string request =
      absl::StrCat("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: ", std::string(64, 'p'), "\r\n\r\n");
  AttackDriver attack(port, n, n, request, absl::Seconds(1), kHeaderTimeout + absl::Seconds(10));
  absl::SleepFor(absl::Milliseconds(1500));  // every trickler is mid-request

  // Normal clients are served at once: /healthz, a subscribe, a publish
  // over HTTP that reaches the subscriber.
  absl::Time t0 = absl::Now();
  HttpResponse health = HttpRequest(port, "GET", "/healthz", "", {}, kPrompt);
  const absl::Duration health_took = absl::Now() - t0;
  EXPECT_EQ(health.status, 200) << health.error;
  EXPECT_LT(health_took, kPrompt);

  SseClient sse;
  t0 = absl::Now();
  ASSERT_TRUE(sse.Open(port, EventsTarget({"loris"}), {}, kPrompt)) << sse.error();
  const absl::Duration open_took = absl::Now() - t0;
  t0 = absl::Now();
  HttpResponse pub =
      HttpRequest(port, "POST", "/v1/publish", R"({"channel":"loris","data":"through"})",
                  {{"Content-Type", "application/json"}}, kPrompt);
  EXPECT_EQ(pub.status, 200) << pub.error << pub.body;
  EXPECT_TRUE(sse.WaitForData("through", kPrompt)) << sse.Describe();
  const absl::Duration deliver_took = absl::Now() - t0;
  std::printf("under attack: healthz %s, subscribe %s, publish+deliver %s\n",
              absl::FormatDuration(health_took).c_str(), absl::FormatDuration(open_took).c_str(),
              absl::FormatDuration(deliver_took).c_str());
  EXPECT_GE(MetricValue(bridge->admin_port(), "ssebridge_http_waiting_connections"), 2 * n);

  // Every attacker is closed by the bridge, not before the deadline and
  // not long after it.
  const absl::Time wait_end = absl::Now() + kHeaderTimeout + absl::Seconds(8);
  while (!attack.AllClosed() && absl::Now() < wait_end) absl::SleepFor(absl::Milliseconds(50));
  attack.Join();
  absl::Duration slowest;
  for (const Attacker& a : attack.attackers()) {
    SCOPED_TRACE(a.trickle ? "trickler" : "silent");
    ASSERT_NE(a.closed_at, absl::InfiniteFuture()) << "still open after " << a.sent << " bytes";
    const absl::Duration lived = a.closed_at - a.connected;
    slowest = std::max(slowest, lived);
    EXPECT_GE(lived, kHeaderTimeout - absl::Milliseconds(100));
    EXPECT_LT(lived, kHeaderTimeout + absl::Seconds(3));
    if (a.trickle) {
      EXPECT_LT(a.sent, a.request.size());
      EXPECT_TRUE(absl::StartsWith(a.received, "HTTP/1.1 408")) << a.received;
    } else {
      EXPECT_EQ(a.received, "");
    }
  }
  std::printf("attackers closed after at most %s (header timeout %s)\n",
              absl::FormatDuration(slowest).c_str(), absl::FormatDuration(kHeaderTimeout).c_str());
  EXPECT_GE(MetricValue(bridge->admin_port(), "ssebridge_http_request_timeouts_total"), 2 * n);
  EXPECT_FALSE(sse.closed()) << sse.Describe();
  EXPECT_EQ(HttpGet(port, "/healthz").status, 200);
}

// A body trickled after a complete head is the same attack one step later.
TEST(FaultSlowlorisTest, TricklingBodyHoldsNoThread) {
  auto bridge = StartGuardedBridge();
  ASSERT_NE(bridge, nullptr);
  const int port = bridge->http_port();
  const int n = 3 * kHttpThreads;
  const std::string body = R"({"channel":"loris","data":"never finished"})";
  const std::string head = absl::StrCat(
      "POST /v1/publish HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Content-Length: ",
      body.size(), "\r\n\r\n");
  std::vector<int> fds;
  for (int i = 0; i < n; ++i) {
    std::string error;
    int fd = ConnectLoopback(port, 0, absl::Seconds(5), &error);
    ASSERT_GE(fd, 0) << error;
    ASSERT_TRUE(SendAll(fd, head + body.substr(0, 5), absl::Now() + absl::Seconds(5), &error));
    fds.push_back(fd);
  }
  absl::SleepFor(absl::Milliseconds(300));
  const absl::Time t0 = absl::Now();
  HttpResponse pub =
      HttpRequest(port, "POST", "/v1/publish", R"({"channel":"loris","data":"fine"})",
                  {{"Content-Type", "application/json"}}, kPrompt);
  EXPECT_EQ(pub.status, 200) << pub.error << pub.body;
  EXPECT_LT(absl::Now() - t0, kPrompt);
  for (int fd : fds) {
    std::string got;
    std::string error;
    const absl::Time end = absl::Now() + kHeaderTimeout + absl::Seconds(5);
    RecvResult r = RecvResult::kData;
    while (r == RecvResult::kData) r = RecvSome(fd, end, &got, &error);
    EXPECT_TRUE(r == RecvResult::kEof || r == RecvResult::kReset) << error;
    EXPECT_TRUE(absl::StartsWith(got, "HTTP/1.1 408")) << got;
    EXPECT_TRUE(absl::StrContains(got, "http_body_timeout")) << got;
    ::close(fd);
  }
}

// Sends `n` GETs of /healthz one after another on one connection; returns
// everything read, up to the connection's end when `until_eof`.
std::string HealthzRoundTrips(int fd, int n, bool until_eof, RecvResult* last) {
  const std::string get = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  const std::string kHealthy = "{\"status\":\"ok\"}";
  std::string got, error;
  for (int i = 0; i < n; ++i) {
    if (!SendAll(fd, get, absl::Now() + absl::Seconds(5), &error)) break;
    const absl::Time end = absl::Now() + absl::Seconds(5);
    while (absl::Now() < end && CountOf(got, kHealthy) < static_cast<size_t>(i + 1)) {
      if (RecvSome(fd, end, &got, &error) != RecvResult::kData) break;
    }
  }
  *last = RecvResult::kData;
  if (until_eof) {
    const absl::Time end = absl::Now() + absl::Seconds(2);
    while (*last == RecvResult::kData) *last = RecvSome(fd, end, &got, &error);
  }
  return got;
}

// A kept-alive connection is closed after --http_idle_timeout; a second
// request on it before then is served.
TEST(FaultSlowlorisTest, KeptAliveConnectionIsServedThenClosedWhenIdle) {
  auto bridge = StartGuardedBridge();
  ASSERT_NE(bridge, nullptr);
  std::string error;
  int fd = ConnectLoopback(bridge->http_port(), 0, absl::Seconds(5), &error);
  ASSERT_GE(fd, 0) << error;
  RecvResult last;
  std::string got = HealthzRoundTrips(fd, 2, /*until_eof=*/false, &last);
  EXPECT_EQ(CountOf(got, "HTTP/1.1 200"), 2u) << got;
  EXPECT_EQ(CountOf(got, "{\"status\":\"ok\"}"), 2u) << got;
  const absl::Time idle_from = absl::Now();
  RecvResult r = RecvSome(fd, idle_from + kIdleTimeout + absl::Seconds(5), &got, &error);
  const absl::Duration idled = absl::Now() - idle_from;
  EXPECT_EQ(r, RecvResult::kEof) << error;
  EXPECT_GE(idled, kIdleTimeout - absl::Milliseconds(200));
  EXPECT_LT(idled, kIdleTimeout + absl::Seconds(2));
  ::close(fd);
}

// One kept-alive connection carries --http_keepalive_requests requests (an
// HTTP publisher is not made to reconnect every few publishes, as with
// httplib's own limit of 5); the last answer says Connection: close and the
// connection ends at once, not after --http_idle_timeout.
TEST(FaultSlowlorisTest, KeptAliveConnectionCarriesHttpKeepaliveRequests) {
  auto bridge = StartGuardedBridge();
  ASSERT_NE(bridge, nullptr);
  std::string error;
  int fd = ConnectLoopback(bridge->http_port(), 0, absl::Seconds(5), &error);
  ASSERT_GE(fd, 0) << error;
  RecvResult last;
  std::string got = HealthzRoundTrips(fd, 50, /*until_eof=*/false, &last);
  EXPECT_EQ(CountOf(got, "HTTP/1.1 200"), 50u) << got.substr(0, 2000);
  EXPECT_EQ(CountOf(got, "Connection: close"), 0u);
  ::close(fd);

  auto limited =
      StartBridge({"--http_keepalive_requests=3",
                   absl::StrCat("--http_idle_timeout=", absl::FormatDuration(kIdleTimeout))});
  ASSERT_NE(limited, nullptr);
  fd = ConnectLoopback(limited->http_port(), 0, absl::Seconds(5), &error);
  ASSERT_GE(fd, 0) << error;
  const absl::Time start = absl::Now();
  got = HealthzRoundTrips(fd, 4, /*until_eof=*/true, &last);
  EXPECT_EQ(last, RecvResult::kEof) << error;
  EXPECT_LT(absl::Now() - start, kIdleTimeout);
  EXPECT_EQ(CountOf(got, "HTTP/1.1 200"), 3u) << got;
  EXPECT_EQ(CountOf(got, "Connection: close"), 1u) << got;
  EXPECT_LT(got.find("Connection: close"), got.rfind("HTTP/1.1 200") + 200u) << got;
  ::close(fd);

  BridgeOptions zero;
  zero.flags = {"--http_keepalive_requests=0"};
  BridgeProcess refused(zero);
  EXPECT_FALSE(refused.Start(&error)) << "started with --http_keepalive_requests=0";
  ExitInfo info;
  ASSERT_TRUE(refused.WaitExit(absl::Seconds(10), &info));
  EXPECT_NE(info.exit_code, 0) << info.Describe();
  EXPECT_TRUE(absl::StrContains(refused.LogText(), "http_keepalive_requests")) << refused.LogText();
}

}  // namespace
}  // namespace ssebridge_it
