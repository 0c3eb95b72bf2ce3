// process_stats: what /proc says about another process (the bridge under
// test): its resident memory and its open file descriptors. Read on demand,
// nothing cached; a vanished process reads as an error, never as zero.
#ifndef SSEBRIDGE_TESTS_INTEGRATION_PROCESS_STATS_H_
#define SSEBRIDGE_TESTS_INTEGRATION_PROCESS_STATS_H_

#include <sys/types.h>

#include <string>

namespace ssebridge_it {

struct ProcessStats {
  long long rss_bytes = -1;  // VmRSS
  int open_fds = -1;         // entries of /proc/<pid>/fd
};

// VmRSS from /proc/<pid>/status, in bytes; -1 (and *error) when unreadable.
long long ReadRssBytes(pid_t pid, std::string* error = nullptr);
// Number of entries in /proc/<pid>/fd; -1 (and *error) when unreadable.
int CountOpenFds(pid_t pid, std::string* error = nullptr);
// Both; false (and *error) when either is unreadable.
bool ReadProcessStats(pid_t pid, ProcessStats* out, std::string* error = nullptr);

}  // namespace ssebridge_it

#endif  // SSEBRIDGE_TESTS_INTEGRATION_PROCESS_STATS_H_
