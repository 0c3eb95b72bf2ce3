#include "bridge/ops/process_metrics.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace ssebridge {
namespace {

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path);
  if (!in) return false;
  std::ostringstream text;
  text << in.rdbuf();
  *out = text.str();
  return true;
}

// One sample, or none when the source could not be read.
std::vector<GaugeSample> OneOrNone(const absl::StatusOr<double>& v) {
  if (!v.ok()) return {};
  return {GaugeSample{{}, *v}};
}

int CountOpenFds(const std::string& fd_dir) {
  DIR* dir = opendir(fd_dir.c_str());
  if (dir == nullptr) return -1;
  int n = 0;
  while (const dirent* e = readdir(dir)) {
    if (e->d_name[0] != '.') ++n;
  }
  closedir(dir);
  // The descriptor opendir itself holds is not one of the process's own.
  return n - 1;
}

}  // namespace

absl::StatusOr<ProcStat> ParseProcStat(absl::string_view text, long ticks_per_second,
                                       long page_size) {
  const size_t close = text.rfind(')');
  if (close == absl::string_view::npos || ticks_per_second <= 0 || page_size <= 0) {
    return absl::InvalidArgumentError("stat: no ')' after the command name");
  }
  // After ") " come fields 3 (state) onwards; index i here is field i + 3.
  std::vector<absl::string_view> f = absl::StrSplit(text.substr(close + 1), ' ', absl::SkipEmpty());
  constexpr size_t kUtime = 14 - 3, kStime = 15 - 3, kStart = 22 - 3, kVsize = 23 - 3,
                   kRss = 24 - 3;
  if (f.size() <= kRss) {
    return absl::InvalidArgumentError(absl::StrCat("stat: ", f.size() + 2, " fields, want 24+"));
  }
  double utime, stime, start, vsize, rss;
  if (!absl::SimpleAtod(f[kUtime], &utime) || !absl::SimpleAtod(f[kStime], &stime) ||
      !absl::SimpleAtod(f[kStart], &start) || !absl::SimpleAtod(f[kVsize], &vsize) ||
      !absl::SimpleAtod(f[kRss], &rss)) {
    return absl::InvalidArgumentError("stat: a field is not a number");
  }
  ProcStat s;
  s.cpu_seconds = (utime + stime) / double(ticks_per_second);
  s.start_seconds_after_boot = start / double(ticks_per_second);
  s.virtual_bytes = vsize;
  s.resident_bytes = rss * double(page_size);
  return s;
}

absl::StatusOr<double> ParseBootTime(absl::string_view proc_stat_text) {
  for (absl::string_view line : absl::StrSplit(proc_stat_text, '\n')) {
    if (absl::ConsumePrefix(&line, "btime ")) {
      double v;
      if (absl::SimpleAtod(line, &v)) return v;
    }
  }
  return absl::NotFoundError("/proc/stat: no btime line");
}

void RegisterProcessMetrics(MetricsRegistry& m, const std::string& proc_root) {
  const long ticks = sysconf(_SC_CLK_TCK);
  const long page = sysconf(_SC_PAGESIZE);
  const std::string stat_path = proc_root + "/self/stat";
  auto read_stat = [stat_path, ticks, page]() -> absl::StatusOr<ProcStat> {
    std::string text;
    if (!ReadFile(stat_path, &text)) return absl::UnavailableError(stat_path);
    return ParseProcStat(text, ticks, page);
  };
  // Start time is fixed for the life of the process: read it once here.
  absl::StatusOr<double> start = absl::UnavailableError("unread");
  std::string boot_text;
  if (ReadFile(proc_root + "/stat", &boot_text)) {
    absl::StatusOr<double> boot = ParseBootTime(boot_text);
    absl::StatusOr<ProcStat> stat = read_stat();
    if (boot.ok() && stat.ok()) start = *boot + stat->start_seconds_after_boot;
  }

  m.FloatCounters("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
                  [read_stat] {
                    absl::StatusOr<ProcStat> s = read_stat();
                    return OneOrNone(s.ok() ? absl::StatusOr<double>(s->cpu_seconds) : s.status());
                  });
  m.Gauges("process_resident_memory_bytes", "Resident memory size in bytes.", [read_stat] {
    absl::StatusOr<ProcStat> s = read_stat();
    return OneOrNone(s.ok() ? absl::StatusOr<double>(s->resident_bytes) : s.status());
  });
  m.Gauges("process_virtual_memory_bytes", "Virtual memory size in bytes.", [read_stat] {
    absl::StatusOr<ProcStat> s = read_stat();
    return OneOrNone(s.ok() ? absl::StatusOr<double>(s->virtual_bytes) : s.status());
  });
  m.Gauges("process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
           [start] { return OneOrNone(start); });
  m.Gauges("process_open_fds", "Number of open file descriptors.",
           [fd_dir = proc_root + "/self/fd"] {
             const int n = CountOpenFds(fd_dir);
             return OneOrNone(n < 0 ? absl::StatusOr<double>(absl::UnavailableError(fd_dir))
                                    : absl::StatusOr<double>(n));
           });
  m.Gauges("process_max_fds", "Maximum number of open file descriptors.", [] {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) {
      return std::vector<GaugeSample>{};
    }
    return std::vector<GaugeSample>{{{}, double(limit.rlim_cur)}};
  });
}

}  // namespace ssebridge
