// process_stats reads the figures the fault and churn tests compare.
#include "tests/harness/process_stats.h"

#include <fcntl.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace ssebridge_it {
namespace {

TEST(ProcessStatsTest, SeesOwnFdsAndMemoryGrow) {
  const ProcessStats before = ReadProcessStats(::getpid());
  ASSERT_GT(before.rss_kib, 0) << before.Describe();
  ASSERT_GE(before.rss_peak_kib, before.rss_kib) << before.Describe();
  ASSERT_GE(before.open_fds, 3) << before.Describe();
  ASSERT_GE(before.threads, 1) << before.Describe();

  std::vector<int> fds;
  for (int i = 0; i < 10; ++i) fds.push_back(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  // 64 MiB touched: RSS must show it.
  std::string ballast(64 << 20, 'x');
  const ProcessStats after = ReadProcessStats(::getpid());
  EXPECT_EQ(after.open_fds, before.open_fds + 10) << after.Describe();
  EXPECT_GE(after.rss_kib, before.rss_kib + 60 * 1024) << after.Describe();
  for (int fd : fds) ::close(fd);
  EXPECT_EQ(CountOpenFds(::getpid()), before.open_fds);
  EXPECT_EQ(ReadRssKib(999999999), -1);
  EXPECT_EQ(CountOpenFds(999999999), -1);
  EXPECT_EQ(ballast.back(), 'x');
}

}  // namespace
}  // namespace ssebridge_it
