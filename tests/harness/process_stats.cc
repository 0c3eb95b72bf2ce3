#include "tests/harness/process_stats.h"

#include <dirent.h>
#include <unistd.h>

#include <fstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"

namespace ssebridge_it {
namespace {

// "VmRSS:	  12345 kB" -> 12345 for `key` "VmRSS".
bool StatusField(const std::string& line, absl::string_view key, int64_t* value) {
  absl::string_view rest = line;
  if (!absl::ConsumePrefix(&rest, key) || !absl::ConsumePrefix(&rest, ":")) {
    return false;
  }
  rest = absl::StripAsciiWhitespace(rest);
  absl::ConsumeSuffix(&rest, "kB");
  return absl::SimpleAtoi(absl::StripAsciiWhitespace(rest), value);
}

}  // namespace

std::string ProcessStats::Describe() const {
  return absl::StrCat("rss=", rss_kib, "KiB peak=", rss_peak_kib, "KiB fds=", open_fds,
                      " threads=", threads);
}

ProcessStats ReadProcessStats(pid_t pid) {
  ProcessStats stats;
  {
    std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
    std::string line;
    while (std::getline(status, line)) {
      int64_t v = 0;
      if (StatusField(line, "VmRSS", &v)) stats.rss_kib = v;
      if (StatusField(line, "VmHWM", &v)) stats.rss_peak_kib = v;
      if (StatusField(line, "Threads", &v)) stats.threads = v;
    }
  }  // closed first: when pid is this process, it is not counted
  stats.open_fds = CountOpenFds(pid);
  return stats;
}

int64_t ReadRssKib(pid_t pid) { return ReadProcessStats(pid).rss_kib; }

int64_t CountOpenFds(pid_t pid) {
  DIR* dir = ::opendir(absl::StrCat("/proc/", pid, "/fd").c_str());
  if (dir == nullptr) return -1;
  // When pid is this process, the listing holds the directory's own fd.
  const std::string self = absl::StrCat(::dirfd(dir));
  const bool own = pid == ::getpid();
  int64_t count = 0;
  while (const dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] == '.' || (own && self == entry->d_name)) continue;
    ++count;
  }
  ::closedir(dir);
  return count;
}

}  // namespace ssebridge_it
