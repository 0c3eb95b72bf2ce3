// MetricsRegistry: the Prometheus text format it renders (HELP/TYPE, label
// escaping, exact counters, histogram series), LatencyHistogram's buckets
// and TopChannels' folding.
#include "bridge/ops/metrics.h"

#include <atomic>
#include <cmath>
#include <limits>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "bridge/ops/latency_histogram.h"
#include "bridge/ops/top_channels.h"
#include "gtest/gtest.h"

namespace ssebridge {
namespace {

TEST(MetricsRegistryTest, RendersHelpTypeAndExactCounters) {
  MetricsRegistry m;
  m.Counter("x_events_total", "Events.\nSecond line with a \\ backslash.",
            [] { return uint64_t{12345678901234567}; });
  m.Gauge("x_open", "Open things.", [] { return 1e6; });
  m.Gauge("x_ratio", "A ratio.", [] { return 0.1; });
  EXPECT_EQ(m.Render(),
            "# HELP x_events_total Events.\\nSecond line with a \\\\ backslash.\n"
            "# TYPE x_events_total counter\n"
            "x_events_total 12345678901234567\n"
            "# HELP x_open Open things.\n"
            "# TYPE x_open gauge\n"
            "x_open 1000000\n"
            "# HELP x_ratio A ratio.\n"
            "# TYPE x_ratio gauge\n"
            "x_ratio 0.1\n");
}

TEST(MetricsRegistryTest, EscapesLabelValues) {
  MetricsRegistry m;
  m.Gauges("x_by_channel", "Per channel.", [] {
    return std::vector<GaugeSample>{{{{"channel", "a\"b\\c\nd"}}, 2},
                                    {{{"channel", "plain"}, {"kind", "k"}}, 3}};
  });
  EXPECT_EQ(m.Render(),
            "# HELP x_by_channel Per channel.\n"
            "# TYPE x_by_channel gauge\n"
            "x_by_channel{channel=\"a\\\"b\\\\c\\nd\"} 2\n"
            "x_by_channel{channel=\"plain\",kind=\"k\"} 3\n");
}

TEST(MetricsRegistryTest, RendersHistogramCumulatively) {
  MetricsRegistry m;
  m.Histograms("x_seconds", "Latency.", [] {
    HistogramSample s;
    s.labels = {{"door", "http"}};
    s.upper_bounds = {0.001, 0.01};
    s.counts = {2, 0, 1};
    s.sum = 0.5;
    return std::vector<HistogramSample>{s};
  });
  EXPECT_EQ(m.Render(),
            "# HELP x_seconds Latency.\n"
            "# TYPE x_seconds histogram\n"
            "x_seconds_bucket{door=\"http\",le=\"0.001\"} 2\n"
            "x_seconds_bucket{door=\"http\",le=\"0.01\"} 2\n"
            "x_seconds_bucket{door=\"http\",le=\"+Inf\"} 3\n"
            "x_seconds_sum{door=\"http\"} 0.5\n"
            "x_seconds_count{door=\"http\"} 3\n");
}

TEST(MetricsRegistryTest, FormatsValues) {
  EXPECT_EQ(FormatMetricValue(0), "0");
  EXPECT_EQ(FormatMetricValue(-3), "-3");
  EXPECT_EQ(FormatMetricValue(0.00025), "0.00025");
  EXPECT_EQ(FormatMetricValue(1.0 / 3), "0.3333333333333333");
  EXPECT_EQ(FormatMetricValue(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(FormatMetricValue(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(FormatMetricValue(std::nan("")), "NaN");
  EXPECT_EQ(FormatMetricValue(1e300), "1e+300");
  EXPECT_EQ(FormatMetricValue(123.456), "123.456");
}

TEST(MetricsRegistryTest, ChecksNames) {
  EXPECT_TRUE(IsValidMetricName("ssebridge_streams"));
  EXPECT_TRUE(IsValidMetricName("a:b_c9"));
  EXPECT_FALSE(IsValidMetricName("9lives"));
  EXPECT_FALSE(IsValidMetricName("has-dash"));
  EXPECT_FALSE(IsValidMetricName(""));
  EXPECT_DEATH(
      {
        MetricsRegistry m;
        m.Counter("x_events", "No _total.", [] { return uint64_t{0}; });
      },
      "not a valid counter");
  EXPECT_DEATH(
      {
        MetricsRegistry m;
        m.Gauge("x_open", "", [] { return 0.0; });
        m.Gauge("x_open", "", [] { return 0.0; });
      },
      "registered twice");
}

TEST(LatencyHistogramTest, CountsIntoBucketsByUpperBound) {
  LatencyHistogram h;
  h.Observe(absl::Microseconds(50));    // le 0.00005 (inclusive)
  h.Observe(absl::Microseconds(51));    // le 0.0001
  h.Observe(absl::Milliseconds(3));     // le 0.005
  h.Observe(absl::Seconds(60));         // +Inf
  h.Observe(absl::Milliseconds(1), 4);  // le 0.001, four times
  HistogramSample s = h.Read({{"door", "grpc"}});
  ASSERT_EQ(s.counts.size(), LatencyHistogram::kBuckets);
  ASSERT_EQ(s.upper_bounds.size(), LatencyHistogram::kBounds.size());
  std::vector<uint64_t> want(LatencyHistogram::kBuckets, 0);
  want[0] = 1;  // 0.00005
  want[1] = 1;  // 0.0001
  want[4] = 4;  // 0.001
  want[6] = 1;  // 0.005
  want.back() = 1;
  EXPECT_EQ(s.counts, want);
  EXPECT_NEAR(s.sum, 0.00005 + 0.000051 + 0.003 + 60 + 0.004, 1e-9);
  EXPECT_EQ(s.labels.size(), 1u);
}

TEST(LatencyHistogramTest, ConcurrentObservesAreAllCounted) {
  LatencyHistogram h;
  constexpr int kThreads = 8, kEach = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&h] {
      for (int i = 0; i < kEach; ++i) h.Observe(absl::Microseconds(200));
    });
  }
  for (auto& t : threads) t.join();
  HistogramSample s = h.Read({});
  uint64_t total = 0;
  for (uint64_t c : s.counts) total += c;
  EXPECT_EQ(total, uint64_t{kThreads} * kEach);
  EXPECT_EQ(s.counts[2], uint64_t{kThreads} * kEach);  // le 0.00025
  EXPECT_NEAR(s.sum, kThreads * kEach * 0.0002, 1e-6);
}

TEST(TopChannelsTest, KeepsTheBusiestAndFoldsTheRest) {
  std::vector<std::pair<std::string, uint32_t>> counts = {
      {"c", 5}, {"a", 7}, {"b", 5}, {"d", 1}, {"e", 2}};
  auto top = TopChannels(counts, 3);
  std::vector<std::pair<std::string, uint64_t>> want = {
      {"a", 7}, {"b", 5}, {"c", 5}, {"_other", 3}};
  EXPECT_EQ(top, want);
}

TEST(TopChannelsTest, NoOtherSeriesWhenEverythingFits) {
  auto top = TopChannels({{"x", 1}, {"y", 2}}, 2);
  std::vector<std::pair<std::string, uint64_t>> want = {{"y", 2}, {"x", 1}};
  EXPECT_EQ(top, want);
  auto none = TopChannels({{"x", 1}, {"y", 2}}, 0);
  std::vector<std::pair<std::string, uint64_t>> all_other = {{"_other", 3}};
  EXPECT_EQ(none, all_other);
  EXPECT_TRUE(TopChannels({}, 20).empty());
}

}  // namespace
}  // namespace ssebridge
