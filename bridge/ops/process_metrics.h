// The process_* families every Prometheus client library exports, read from
// /proc at scrape time (Linux only; the bridge's only platform):
//
//   process_cpu_seconds_total          counter user + system CPU time
//   process_resident_memory_bytes      gauge   resident set size
//   process_virtual_memory_bytes       gauge   virtual memory size
//   process_start_time_seconds         gauge   start, Unix seconds
//   process_open_fds                   gauge   open file descriptors
//   process_max_fds                    gauge   soft RLIMIT_NOFILE
//
// Names and meanings are the client libraries' own, so dashboards and alerts
// built for any Prometheus-instrumented process work unchanged. A family
// whose source cannot be read renders with no sample rather than a made-up
// value. Nothing here runs except during a scrape.
#ifndef SSEBRIDGE_OPS_PROCESS_METRICS_H_
#define SSEBRIDGE_OPS_PROCESS_METRICS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "bridge/ops/metrics.h"

namespace ssebridge {

// What /proc/<pid>/stat says, in the units the metrics use.
struct ProcStat {
  double cpu_seconds = 0;     // utime + stime
  double resident_bytes = 0;  // rss pages * page size
  double virtual_bytes = 0;   // vsize
  double start_seconds_after_boot = 0;
};

// Parses the text of /proc/<pid>/stat. The command name (field 2) may hold
// spaces and parentheses, so fields are counted from its last ')'.
absl::StatusOr<ProcStat> ParseProcStat(absl::string_view text, long ticks_per_second,
                                       long page_size);

// The "btime" line of /proc/stat: boot time in Unix seconds.
absl::StatusOr<double> ParseBootTime(absl::string_view proc_stat_text);

// Registers the families above, read from proc_root (/proc; tests pass a
// copy of their own) for this process ("self").
void RegisterProcessMetrics(MetricsRegistry& m, const std::string& proc_root = "/proc");

}  // namespace ssebridge

#endif  // SSEBRIDGE_OPS_PROCESS_METRICS_H_
