// StatusFeed's snapshot JSON: the totals it reads from the metrics registry
// (the same numbers /metrics shows), label-filtered sums, families left out
// when the registry lacks them, and the timestamp the page turns totals into
// rates with. MetricsRegistry::Sum underneath.
#include "bridge/http/status_feed.h"

#include <atomic>
#include <string>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "bridge/ops/metrics.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace ssebridge {
namespace {

TEST(MetricsRegistrySumTest, SumsCountersAndGaugesWithALabelFilter) {
  MetricsRegistry m;
  m.Counters("x_resumes_total", "Resumes.", [] {
    return std::vector<CounterSample>{{{{"outcome", "fresh"}}, 5}, {{{"outcome", "reset"}}, 2}};
  });
  m.Gauge("x_users", "Users.", [] { return 7.5; });
  m.Histograms("x_latency_seconds", "Latency.", [] { return std::vector<HistogramSample>{}; });
  EXPECT_EQ(m.Sum("x_resumes_total"), 7);
  EXPECT_EQ(m.Sum("x_resumes_total", {"outcome", "reset"}), 2);
  EXPECT_EQ(m.Sum("x_resumes_total", {"outcome", "nope"}), 0);
  EXPECT_EQ(m.Sum("x_users"), 7.5);
  EXPECT_FALSE(m.Sum("x_missing").has_value());
  EXPECT_FALSE(m.Sum("x_latency_seconds").has_value());
}

class StatusFeedTest : public ::testing::Test {
 protected:
  StatusFeed::Sources Sources(const MetricsRegistry* metrics) {
    return {[] { return uint64_t{3}; },
            [] { return uint64_t{10}; },
            [] { return uint64_t{30}; },
            [] { return uint64_t{1}; },
            [] { return true; },
            "memory",
            metrics};
  }
  Hub hub_{1};
};

TEST_F(StatusFeedTest, SnapshotCarriesTheRegistrysTotals) {
  MetricsRegistry m;
  std::atomic<uint64_t> refused_401{4};
  m.Counter("ssebridge_streams_refused_unauthenticated_total", "401.",
            [&refused_401] { return refused_401.load(); });
  m.Counter("ssebridge_streams_refused_forbidden_total", "403.", [] { return uint64_t{1}; });
  m.Counter("ssebridge_streams_refused_limited_total", "429.", [] { return uint64_t{2}; });
  m.Counters("ssebridge_resumes_total", "Resumes.", [] {
    return std::vector<CounterSample>{{{{"outcome", "fresh"}}, 50}, {{{"outcome", "reset"}}, 6}};
  });
  m.Counter("ssebridge_slow_consumer_disconnects_total", "Slow.", [] { return uint64_t{8}; });
  m.Gauge("ssebridge_connected_users", "Users.", [] { return 12.0; });
  StatusFeed feed({}, Sources(&m), &hub_);

  const double before_ms = double(absl::ToUnixMillis(absl::Now()));
  nlohmann::json s = nlohmann::json::parse(feed.SnapshotJson());
  EXPECT_GE(s["unix_ms"].get<double>(), before_ms);
  EXPECT_LE(s["unix_ms"].get<double>(), double(absl::ToUnixMillis(absl::Now())));
  const nlohmann::json& t = s["totals"];
  EXPECT_EQ(t["refused_401"], 4);
  EXPECT_EQ(t["refused_403"], 1);
  EXPECT_EQ(t["refused_429"], 2);
  EXPECT_EQ(t["resets"], 6);  // only outcome="reset"
  EXPECT_EQ(t["slow_consumer_disconnects"], 8);
  EXPECT_EQ(t["connected_users"], 12);
  // Not registered here: left out, so the page says "not counted".
  EXPECT_FALSE(t.contains("refused_503"));
  EXPECT_FALSE(t.contains("broker_reconnects"));
  EXPECT_EQ(s["streams"], 3);

  refused_401 = 9;  // read at each snapshot, not once
  EXPECT_EQ(nlohmann::json::parse(feed.SnapshotJson())["totals"]["refused_401"], 9);
}

TEST_F(StatusFeedTest, WithoutARegistryTotalsIsEmpty) {
  StatusFeed feed({}, Sources(nullptr), &hub_);
  nlohmann::json s = nlohmann::json::parse(feed.SnapshotJson());
  EXPECT_TRUE(s["totals"].is_object());
  EXPECT_TRUE(s["totals"].empty());
}

}  // namespace
}  // namespace ssebridge
