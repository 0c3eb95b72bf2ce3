// process_* metrics: /proc/<pid>/stat and /proc/stat parsing (command names
// with spaces and parentheses, short or garbled lines), and the families
// rendered from a real /proc and from a fake proc root with a file missing.
#include "bridge/ops/process_metrics.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace ssebridge {
namespace {

// Fields 3..24 of a stat line: utime 250, stime 150, starttime 1000,
// vsize 123456789, rss 300.
constexpr char kStatTail[] =
    " S 1 1 1 0 -1 4194560 100 0 0 0 250 150 0 0 20 0 5 0 1000 123456789 300 "
    "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0";

TEST(ProcessMetricsTest, ParsesStatInMetricUnits) {
  auto s = ParseProcStat(std::string("42 (ssebridge)") + kStatTail, 100, 4096);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_DOUBLE_EQ(s->cpu_seconds, 4.0);
  EXPECT_DOUBLE_EQ(s->start_seconds_after_boot, 10.0);
  EXPECT_DOUBLE_EQ(s->virtual_bytes, 123456789.0);
  EXPECT_DOUBLE_EQ(s->resident_bytes, 300.0 * 4096);
}

TEST(ProcessMetricsTest, CommandNameWithSpacesAndParenthesesDoesNotShiftFields) {
  auto s = ParseProcStat(std::string("42 (a) b (c d)") + kStatTail, 100, 4096);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_DOUBLE_EQ(s->cpu_seconds, 4.0);
  EXPECT_DOUBLE_EQ(s->resident_bytes, 300.0 * 4096);
}

TEST(ProcessMetricsTest, RefusesShortOrGarbledStat) {
  EXPECT_FALSE(ParseProcStat("42 ssebridge S 1 2 3", 100, 4096).ok());
  EXPECT_FALSE(ParseProcStat("42 (x) S 1 1 1", 100, 4096).ok());
  std::string garbled = std::string("42 (x)") + kStatTail;
  garbled.replace(garbled.find(" 250 "), 5, " 2x0 ");
  EXPECT_FALSE(ParseProcStat(garbled, 100, 4096).ok());
  EXPECT_FALSE(ParseProcStat(std::string("42 (x)") + kStatTail, 0, 4096).ok());
}

TEST(ProcessMetricsTest, ParsesBootTime) {
  auto boot = ParseBootTime("cpu  1 2 3\nintr 5\nbtime 1700000000\nprocesses 9\n");
  ASSERT_TRUE(boot.ok());
  EXPECT_DOUBLE_EQ(*boot, 1700000000.0);
  EXPECT_FALSE(ParseBootTime("cpu 1 2 3\n").ok());
}

// The value of the one unlabelled sample of `name`, or -1 when it has none.
double SampleOf(const std::string& text, const std::string& name) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::ConsumePrefix(&line, name + " ")) {
      double v;
      if (absl::SimpleAtod(line, &v)) return v;
    }
  }
  return -1;
}

TEST(ProcessMetricsTest, RendersThisProcessFromRealProc) {
  MetricsRegistry m;
  RegisterProcessMetrics(m);
  const std::string text = m.Render();
  EXPECT_TRUE(absl::StrContains(text, "# TYPE process_cpu_seconds_total counter\n"));
  EXPECT_TRUE(absl::StrContains(text, "# TYPE process_open_fds gauge\n"));
  EXPECT_GE(SampleOf(text, "process_cpu_seconds_total"), 0);
  EXPECT_GT(SampleOf(text, "process_resident_memory_bytes"), 1 << 20);
  EXPECT_GE(SampleOf(text, "process_virtual_memory_bytes"),
            SampleOf(text, "process_resident_memory_bytes"));
  const double now = absl::ToUnixSeconds(absl::Now());
  const double start = SampleOf(text, "process_start_time_seconds");
  EXPECT_GT(start, now - 3600);
  EXPECT_LE(start, now + 1);

  // Opening a file is seen by the next scrape.
  const double fds = SampleOf(text, "process_open_fds");
  EXPECT_GE(fds, 3);
  FILE* f = std::fopen("/proc/self/stat", "r");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(SampleOf(m.Render(), "process_open_fds"), fds + 1);
  std::fclose(f);
  EXPECT_GE(SampleOf(text, "process_max_fds"), SampleOf(text, "process_open_fds"));
}

TEST(ProcessMetricsTest, UnreadableSourceRendersNoSample) {
  char dir[] = "/tmp/proc-metrics-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  MetricsRegistry m;
  RegisterProcessMetrics(m, dir);  // no self/stat, no stat, no self/fd
  const std::string text = m.Render();
  EXPECT_TRUE(absl::StrContains(text, "# HELP process_cpu_seconds_total "));
  EXPECT_EQ(SampleOf(text, "process_cpu_seconds_total"), -1);
  EXPECT_EQ(SampleOf(text, "process_resident_memory_bytes"), -1);
  EXPECT_EQ(SampleOf(text, "process_start_time_seconds"), -1);
  EXPECT_EQ(SampleOf(text, "process_open_fds"), -1);
  rmdir(dir);
}

}  // namespace
}  // namespace ssebridge
