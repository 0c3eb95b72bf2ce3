// GET /metrics after a known sequence, read with the strict PromText parser:
//   A. one slow reader (tiny receive buffer) on m.slow, 60 KB events until
//      the disconnect policy ends it;
//   B. three streams on m.a and one on m.b; 4 gRPC + 3 HTTP publishes to
//      m.a, 2 gRPC publishes to m.b;
//   C. one resume from a known id (replayed) and one from a foreign epoch
//      (reset);
//   D. every reader hangs up.
// After each step the counters must be exact, and the access log must hold
// one open and one close line per stream.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/harness/bridge_process.h"
#include "tests/harness/grpc_client.h"
#include "tests/harness/http_request.h"
#include "tests/harness/prom_text.h"
#include "tests/harness/sse_client.h"

namespace ssebridge_it {
namespace {

PromText Scrape(int port) {
  HttpResponse r = HttpGet(port, "/metrics");
  EXPECT_EQ(r.status, 200) << r.error;
  EXPECT_EQ(r.Header("Content-Type").value_or(""), "text/plain; version=0.0.4");
  absl::StatusOr<PromText> parsed = PromText::Parse(r.body);
  EXPECT_TRUE(parsed.ok()) << parsed.status() << "\n" << r.body;
  return parsed.ok() ? *parsed : PromText();
}

double Get(const PromText& p, const std::string& name, const PromLabels& labels = {}) {
  std::optional<double> v = p.Value(name, labels);
  EXPECT_TRUE(v.has_value()) << name << " missing";
  return v.value_or(-1);
}

// Polls /metrics until `name{labels}` equals `want` (at most 10 s).
bool WaitForMetric(int port, const std::string& name, const PromLabels& labels, double want) {
  const absl::Time end = absl::Now() + absl::Seconds(10);
  while (absl::Now() < end) {
    HttpResponse r = HttpGet(port, "/metrics");
    absl::StatusOr<PromText> p = PromText::Parse(r.body);
    if (p.ok() && p->Value(name, labels) == want) return true;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return false;
}

double Closed(const PromText& p, const std::string& reason) {
  return Get(p, "ssebridge_streams_closed_total", {{"reason", reason}});
}

TEST(MetricsTest, ExactValuesAfterAKnownSequence) {
  auto bridge = StartBridge({"--queue_bytes=65536", "--max_event_bytes=65536",
                             "--metrics_channels=m.*", "--metrics_top_channels=1"});
  ASSERT_NE(bridge, nullptr);
  const int port = bridge->http_port();
  const int admin = bridge->admin_port();  // /metrics is served there only
  GrpcClient grpc(bridge->grpc_port());

  // Every family the README lists is declared with the right type.
  {
    PromText p = Scrape(admin);
    const std::vector<std::pair<std::string, std::string>> families = {
        {"ssebridge_streams", "gauge"},
        {"ssebridge_streams_opened_total", "counter"},
        {"ssebridge_streams_closed_total", "counter"},
        {"ssebridge_stream_bytes_written_total", "counter"},
        {"ssebridge_stream_queued_bytes", "gauge"},
        {"ssebridge_channel_subscribers", "gauge"},
        {"ssebridge_events_published_total", "counter"},
        {"ssebridge_events_delivered_total", "counter"},
        {"ssebridge_events_dropped_total", "counter"},
        {"ssebridge_slow_consumer_disconnects_total", "counter"},
        {"ssebridge_resumes_total", "counter"},
        {"ssebridge_publish_latency_seconds", "histogram"},
        {"ssebridge_broker_ready", "gauge"}};
    for (const auto& [name, type] : families) EXPECT_EQ(p.Type(name), type) << name;
    for (const char* reason :
         {"client_closed", "slow_consumer", "write_error", "shutdown", "disconnected_by_admin",
          "auth_expired", "broker_unavailable", "replaced"}) {
      EXPECT_EQ(Closed(p, reason), 0) << reason;
    }
    EXPECT_EQ(Get(p, "ssebridge_broker_ready", {{"broker", "memory"}}), 1);
    EXPECT_EQ(p.Series("ssebridge_channel_subscribers").size(), 0u);
  }

  // A. The slow reader.
  SseClientOptions slow_options;
  slow_options.rcvbuf_bytes = 4096;
  slow_options.keep_raw = false;
  SseClient slow;
  ASSERT_TRUE(slow.Open(port, "/v1/events?channel=m.slow", slow_options)) << slow.Describe();
  ASSERT_TRUE(WaitForMetric(admin, "ssebridge_subscriptions", {}, 1));
  int published_a = 0;
  const std::string big(60 * 1024, 'x');
  for (int i = 0; i < 300; ++i) {
    v1::PublishResponse resp = grpc.MustPublish("m.slow", big);
    ASSERT_FALSE(resp.id().empty());
    ++published_a;
    if (resp.subscribers() == 0) break;
  }
  ASSERT_TRUE(WaitForMetric(admin, "ssebridge_streams", {}, 0));
  slow.Close();
  {
    PromText p = Scrape(admin);
    EXPECT_EQ(Closed(p, "slow_consumer"), 1);
    EXPECT_EQ(Get(p, "ssebridge_slow_consumer_disconnects_total"), 1);
    EXPECT_EQ(Get(p, "ssebridge_streams_opened_total"), 1);
    EXPECT_EQ(Get(p, "ssebridge_events_published_total"), published_a);
    EXPECT_EQ(Get(p, "ssebridge_stream_queued_bytes"), 0);
  }

  // B. Four readers, nine publishes.
  std::vector<std::unique_ptr<SseClient>> readers;
  for (const char* target : {"/v1/events?channel=m.a", "/v1/events?channel=m.a",
                             "/v1/events?channel=m.a", "/v1/events?channel=m.b"}) {
    readers.push_back(std::make_unique<SseClient>());
    ASSERT_TRUE(readers.back()->Open(port, target)) << readers.back()->Describe();
  }
  ASSERT_TRUE(WaitForMetric(admin, "ssebridge_subscriptions", {}, 4));
  const double delivered_before = Get(Scrape(admin), "ssebridge_events_delivered_total");
  std::vector<std::string> ids_a;
  for (int i = 0; i < 4; ++i) {
    ids_a.push_back(grpc.MustPublish("m.a", absl::StrCat("g", i)).id());
  }
  for (int i = 0; i < 3; ++i) {
    HttpResponse r = HttpPostJson(port, "/v1/publish",
                                  absl::StrCat("{\"channel\":\"m.a\",\"data\":\"h", i, "\"}"));
    ASSERT_EQ(r.status, 200) << r.body;
  }
  grpc.MustPublish("m.b", "b0");
  grpc.MustPublish("m.b", "b1");
  for (size_t i = 0; i < readers.size(); ++i) {
    ASSERT_TRUE(readers[i]->WaitForEvents(i < 3 ? 7 : 2, absl::Seconds(10)))
        << readers[i]->Describe();
  }
  {
    PromText p = Scrape(admin);
    EXPECT_EQ(Get(p, "ssebridge_streams"), 4);
    EXPECT_EQ(Get(p, "ssebridge_streams_opened_total"), 5);
    EXPECT_EQ(Get(p, "ssebridge_events_published_total"), published_a + 9);
    EXPECT_EQ(Get(p, "ssebridge_events_delivered_total") - delivered_before, 7 * 3 + 2);
    EXPECT_EQ(Get(p, "ssebridge_events_dropped_total"), 0);
    // --metrics_channels=m.* opts both in; --metrics_top_channels=1: m.a
    // keeps its series, m.b goes to _other.
    EXPECT_EQ(Get(p, "ssebridge_channel_subscribers", {{"channel", "m.a"}}), 3);
    EXPECT_EQ(Get(p, "ssebridge_channel_subscribers", {{"channel", "_other"}}), 1);
    EXPECT_EQ(p.Series("ssebridge_channel_subscribers").size(), 2u);
    EXPECT_EQ(Get(p, "ssebridge_publish_latency_seconds_count", {{"door", "grpc"}}),
              published_a + 6);
    EXPECT_EQ(Get(p, "ssebridge_publish_latency_seconds_count", {{"door", "http"}}), 3);
    EXPECT_EQ(Get(p, "ssebridge_publish_latency_seconds_count", {{"door", "grpc_stream"}}), 0);
    EXPECT_GT(Get(p, "ssebridge_publish_latency_seconds_sum", {{"door", "http"}}), 0);
    EXPECT_EQ(Get(p, "ssebridge_resumes_total", {{"outcome", "fresh"}}), 5);
  }

  // C. One resume honoured, one reset.
  SseClient replayed, reset;
  ASSERT_TRUE(replayed.Open(port, "/v1/events?channel=m.a&lastEventId=" + ids_a[1]))
      << replayed.Describe();
  SseClientOptions foreign;
  foreign.headers = {{"Last-Event-ID", "0badc0de-1"}};  // another epoch
  ASSERT_TRUE(reset.Open(port, "/v1/events?channel=m.a", foreign)) << reset.Describe();
  ASSERT_TRUE(replayed.WaitForEvents(5, absl::Seconds(10))) << replayed.Describe();
  ASSERT_TRUE(reset.WaitForEvents(1, absl::Seconds(10))) << reset.Describe();
  EXPECT_EQ(reset.events()[0].event, "ssebridge.reset");
  {
    PromText p = Scrape(admin);
    EXPECT_EQ(Get(p, "ssebridge_resumes_total", {{"outcome", "replayed"}}), 1);
    EXPECT_EQ(Get(p, "ssebridge_resumes_total", {{"outcome", "reset"}}), 1);
    EXPECT_EQ(Get(p, "ssebridge_resumes_total", {{"outcome", "fresh"}}), 5);
  }

  // D. Everyone hangs up.
  uint64_t read_bytes = 0;
  for (auto& r : readers) {
    read_bytes += r->raw_head().size() + r->body_bytes();
    r->Close();
  }
  read_bytes += replayed.raw_head().size() + replayed.body_bytes();
  read_bytes += reset.raw_head().size() + reset.body_bytes();
  replayed.Close();
  reset.Close();
  ASSERT_TRUE(WaitForMetric(admin, "ssebridge_streams", {}, 0));
  {
    PromText p = Scrape(admin);
    EXPECT_EQ(Closed(p, "client_closed"), 6);
    EXPECT_EQ(Closed(p, "slow_consumer"), 1);
    EXPECT_EQ(Closed(p, "write_error") + Closed(p, "shutdown") +
                  Closed(p, "disconnected_by_admin") + Closed(p, "auth_expired") +
                  Closed(p, "broker_unavailable") + Closed(p, "replaced"),
              0);
    EXPECT_EQ(Get(p, "ssebridge_streams_opened_total"), 7);
    EXPECT_EQ(Get(p, "ssebridge_stream_queued_bytes"), 0);
    // The slow reader's share was written but never read: more, not less.
    EXPECT_GT(Get(p, "ssebridge_stream_bytes_written_total"), double(read_bytes));
  }

  // The access log: an open and a close line per stream.
  int opens = 0, client_closes = 0, slow_closes = 0;
  bool cursor_logged = false;
  for (const std::string& line : bridge->LogLines()) {
    if (absl::StrContains(line, "\"msg\":\"stream_open\"")) {
      ++opens;
      if (absl::StrContains(line, "\"cursor\":\"" + ids_a[1] + "\"")) cursor_logged = true;
    }
    if (absl::StrContains(line, "\"msg\":\"stream_close\"")) {
      if (absl::StrContains(line, "\"reason\":\"client_closed\"")) ++client_closes;
      if (absl::StrContains(line, "\"reason\":\"slow_consumer\"")) {
        ++slow_closes;
        EXPECT_TRUE(absl::StrContains(line, "\"channels\":\"m.slow\"")) << line;
        EXPECT_TRUE(absl::StrContains(line, "\"client_ip\":\"127.0.0.1\"")) << line;
      }
      if (absl::StrContains(line, "\"channels\":\"m.b\"")) {
        // Two events written in full to the m.b reader.
        EXPECT_TRUE(absl::StrContains(line, "\"events\":2,")) << line;
      }
    }
  }
  EXPECT_EQ(opens, 7);
  EXPECT_EQ(client_closes, 6);
  EXPECT_EQ(slow_closes, 1);
  EXPECT_TRUE(cursor_logged);
}

TEST(MetricsTest, AccessLogCanBeTurnedOff) {
  auto bridge = StartBridge({"--access_log=false"});
  ASSERT_NE(bridge, nullptr);
  SseClient reader;
  ASSERT_TRUE(reader.Open(bridge->http_port(), "/v1/events?channel=quiet")) << reader.Describe();
  reader.Close();
  ASSERT_TRUE(WaitForMetric(bridge->admin_port(), "ssebridge_streams_closed_total",
                            {{"reason", "client_closed"}}, 1));
  for (const std::string& line : bridge->LogLines()) {
    EXPECT_FALSE(absl::StrContains(line, "stream_open")) << line;
    EXPECT_FALSE(absl::StrContains(line, "stream_close")) << line;
  }
}

}  // namespace
}  // namespace ssebridge_it
