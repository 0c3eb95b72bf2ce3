#include "bridge/ops/build_info.h"

#include "absl/strings/str_cat.h"
#include "build_info_values.h"

namespace ssebridge {

const BuildInfo& GetBuildInfo() {
  static constexpr BuildInfo kInfo{SSEBRIDGE_BUILD_VERSION, SSEBRIDGE_BUILD_COMMIT,
                                   SSEBRIDGE_BUILD_TYPE};
  return kInfo;
}

std::string VersionText() {
  const BuildInfo& info = GetBuildInfo();
  return absl::StrCat("ssebridge ", info.version, " (commit ", info.commit, ", ", info.build_type,
                      ")\n");
}

void RegisterBuildInfoMetric(MetricsRegistry& metrics) {
  metrics.Gauges("ssebridge_build_info",
                 "Always 1; the labels say which build of the bridge this is.", [] {
                   const BuildInfo& info = GetBuildInfo();
                   return std::vector<GaugeSample>{{{{"version", std::string(info.version)},
                                                     {"commit", std::string(info.commit)},
                                                     {"build_type", std::string(info.build_type)}},
                                                    1}};
                 });
}

}  // namespace ssebridge
