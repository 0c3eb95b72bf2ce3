// process_stats: what /proc says about another process (the bridge under
// test): resident memory and open file descriptors. Linux only; a value that
// cannot be read is reported as -1 so a test can assert on it.
#ifndef SSEBRIDGE_TESTS_HARNESS_PROCESS_STATS_H_
#define SSEBRIDGE_TESTS_HARNESS_PROCESS_STATS_H_

#include <sys/types.h>

#include <cstdint>
#include <string>

namespace ssebridge_it {

struct ProcessStats {
  int64_t rss_kib = -1;       // VmRSS of /proc/<pid>/status
  int64_t rss_peak_kib = -1;  // VmHWM: the largest RSS so far
  int64_t open_fds = -1;      // entries of /proc/<pid>/fd
  int64_t threads = -1;       // Threads of /proc/<pid>/status

  std::string Describe() const;
};

// Reads all of ProcessStats for `pid` at once.
ProcessStats ReadProcessStats(pid_t pid);

// The single figures, -1 when unreadable.
int64_t ReadRssKib(pid_t pid);
int64_t CountOpenFds(pid_t pid);

}  // namespace ssebridge_it

#endif  // SSEBRIDGE_TESTS_HARNESS_PROCESS_STATS_H_
