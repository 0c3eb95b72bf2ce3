// The internal listener (--admin_port, issue 18) and what moved there:
// /metrics and the status page answer only on it, /healthz and /readyz on
// both ports, the public port keeps /v1/*; per-channel metric series only
// for channels an operator opts in (--metrics_channels), GetStats without
// the internal status channel (issue 16, finding 11); a full bridge's 503
// carries Retry-After (issue 21).
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/harness/auth_fixture.h"
#include "tests/harness/bridge_process.h"
#include "tests/harness/http_request.h"
#include "tests/harness/prom_text.h"
#include "tests/harness/sse_client.h"
#include "tests/harness/test_helpers.h"

namespace ssebridge_it {
namespace {

// Polls /metrics on `admin_port` until `done` holds for a parse; the last
// parse (empty when none succeeded).
PromText ScrapeUntil(int admin_port, const std::function<bool(const PromText&)>& done) {
  const absl::Time end = absl::Now() + kWait;
  PromText last;
  while (absl::Now() < end) {
    HttpResponse r = HttpGet(admin_port, "/metrics");
    absl::StatusOr<PromText> p = PromText::Parse(r.body);
    if (r.status == 200 && p.ok()) {
      last = *p;
      if (done(last)) break;
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  return last;
}

bool HasChannelSeries(const PromText& p, const std::string& channel) {
  for (const PromSample& s : p.Series("ssebridge_channel_subscribers")) {
    auto it = s.labels.find("channel");
    if (it != s.labels.end() && it->second == channel) return true;
  }
  return false;
}

TEST(AdminListenerTest, MetricsAndStatusPageOnlyOnTheInternalPort) {
  auto bridge = StartBridge();
  ASSERT_NE(bridge, nullptr);
  const int pub = bridge->http_port();
  const int admin = bridge->admin_port();
  ASSERT_GT(admin, 0);
  ASSERT_NE(admin, pub);

  for (const char* path : {"/metrics", "/ui", "/ui/events"}) {
    HttpResponse r = HttpGet(pub, path);
    EXPECT_EQ(r.status, 404) << "public " << path << ": " << r.error << r.body;
  }
  HttpResponse metrics = HttpGet(admin, "/metrics");
  EXPECT_EQ(metrics.status, 200) << metrics.error;
  EXPECT_TRUE(absl::StrContains(metrics.body, "ssebridge_streams ")) << metrics.body;
  EXPECT_EQ(HttpGet(admin, "/ui").status, 200);  // dev mode: open
  for (int port : {pub, admin}) {
    EXPECT_EQ(HttpGet(port, "/healthz").status, 200) << port;
    EXPECT_EQ(HttpGet(port, "/readyz").status, 200) << port;
  }
  // The API stays on the public port.
  EXPECT_EQ(HttpGet(admin, "/v1/events?channel=a").status, 404);
  EXPECT_EQ(HttpRequest(admin, "POST", "/v1/publish", R"({"channel":"a","data":"x"})").status, 404);
  SseClient reader;
  EXPECT_TRUE(reader.Open(pub, "/v1/events?channel=a")) << reader.Describe();
}

TEST(AdminListenerTest, MinusOneTurnsTheInternalListenerOff) {
  auto bridge = StartBridge({"--admin_port=-1"});
  ASSERT_NE(bridge, nullptr);
  EXPECT_EQ(bridge->admin_port(), 0);
  EXPECT_EQ(HttpGet(bridge->http_port(), "/metrics").status, 404);
  EXPECT_EQ(HttpGet(bridge->http_port(), "/healthz").status, 200);
}

// Issue 16, finding 11: a channel's name is a label only when the operator
// opted it in; everything else is summed under channel="_other".
TEST(MetricsChannelLabelsTest, NoChannelLabelUnlessOptedIn) {
  for (const bool opted_in : {false, true}) {
    std::vector<std::string> flags;
    if (opted_in) flags.push_back("--metrics_channels=dash.*");
    auto bridge = StartBridge(flags);
    ASSERT_NE(bridge, nullptr);
    SseClient secret, dash;
    ASSERT_TRUE(secret.Open(bridge->http_port(), "/v1/events?channel=secret.alice-payroll"))
        << secret.Describe();
    ASSERT_TRUE(dash.Open(bridge->http_port(), "/v1/events?channel=dash.orders"))
        << dash.Describe();
    PromText p = ScrapeUntil(bridge->admin_port(), [](const PromText& t) {
      return t.Value("ssebridge_subscriptions") == 2;
    });
    ASSERT_EQ(p.Value("ssebridge_subscriptions"), 2);
    EXPECT_FALSE(HasChannelSeries(p, "secret.alice-payroll")) << opted_in;
    EXPECT_EQ(HasChannelSeries(p, "dash.orders"), opted_in);
    EXPECT_EQ(p.Value("ssebridge_channel_subscribers", {{"channel", "_other"}}), opted_in ? 1 : 2);
  }
}

// Issue 16, finding 11: the status page's own channel is an implementation
// detail; GetStats lists the channels clients can name.
TEST(GetStatsTest, HidesTheInternalStatusChannel) {
  auto bridge = StartBridge();  // dev mode: Admin is open
  ASSERT_NE(bridge, nullptr);
  SseClient viewer, reader;
  ASSERT_TRUE(viewer.Open(bridge->admin_port(), "/ui/events")) << viewer.Describe();
  ASSERT_TRUE(reader.Open(bridge->http_port(), "/v1/events?channel=pub.a")) << reader.Describe();
  AuthedGrpc anyone(InsecureChannel(bridge->admin_port()), "");
  v1::Stats stats;
  const absl::Time end = absl::Now() + kWait;
  do {
    stats.Clear();
    ASSERT_TRUE(anyone.GetStats(&stats).ok());
    if (stats.connections() == 2) break;
    absl::SleepFor(absl::Milliseconds(20));
  } while (absl::Now() < end);
  EXPECT_EQ(stats.connections(), 2u);
  EXPECT_EQ(stats.channels(), 1u);
  ASSERT_EQ(stats.channel_stats_size(), 1);
  EXPECT_EQ(stats.channel_stats(0).channel(), "pub.a");
}

// Issue 21: a refusal that will pass by itself says when to come back.
TEST(RetryAfterTest, FullBridgeAnswers503WithRetryAfter) {
  auto bridge = StartBridge({"--max_connections=1"});
  ASSERT_NE(bridge, nullptr);
  SseClient first, second;
  ASSERT_TRUE(first.Open(bridge->http_port(), "/v1/events?channel=a")) << first.Describe();
  ASSERT_TRUE(second.Connect(bridge->http_port(), "/v1/events?channel=a"));
  ASSERT_TRUE(second.ReadHead(kWait)) << second.Describe();
  EXPECT_EQ(second.status(), 503);
  EXPECT_TRUE(second.Header("Retry-After").has_value()) << second.Describe();
}

}  // namespace
}  // namespace ssebridge_it
