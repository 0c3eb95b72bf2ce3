// BuildInfo: what this binary is. The version comes from the repository's
// VERSION file (the one version of the bridge and its clients), the commit
// and build type from CMake's configure step (cmake/BuildInfo.cmake); all
// three are fixed at build time and never empty ("unknown" for a commit
// built outside git).
//
// Three places report it, from here: `ssebridge --version`
// (VersionText), the ssebridge_build_info gauge (RegisterBuildInfoMetric)
// and the start-up "listening" log line.
#ifndef SSEBRIDGE_OPS_BUILD_INFO_H_
#define SSEBRIDGE_OPS_BUILD_INFO_H_

#include <string>

#include "absl/strings/string_view.h"
#include "bridge/ops/metrics.h"

namespace ssebridge {

struct BuildInfo {
  absl::string_view version;     // "0.1.0"
  absl::string_view commit;      // abbreviated sha, or "unknown"
  absl::string_view build_type;  // CMAKE_BUILD_TYPE, "+address" etc. for sanitizers
};

const BuildInfo& GetBuildInfo();

// "ssebridge 0.1.0 (commit 80a3ce0d1e2f, RelWithDebInfo)\n": what --version
// prints.
std::string VersionText();

// ssebridge_build_info{version,commit,build_type} 1: the Prometheus
// convention for joining build facts to other series.
void RegisterBuildInfoMetric(MetricsRegistry& metrics);

}  // namespace ssebridge

#endif  // SSEBRIDGE_OPS_BUILD_INFO_H_
