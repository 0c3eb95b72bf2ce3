#include "bridge/ops/metrics.h"

#include "absl/strings/str_cat.h"

namespace ssebridge {

void MetricsRegistry::Counter(std::string name, std::string help, Reader read) {
  std::lock_guard<std::mutex> lock(mu_);
  metrics_.push_back({std::move(name), std::move(help), "counter", std::move(read)});
}

void MetricsRegistry::Gauge(std::string name, std::string help, Reader read) {
  std::lock_guard<std::mutex> lock(mu_);
  metrics_.push_back({std::move(name), std::move(help), "gauge", std::move(read)});
}

std::string MetricsRegistry::Render() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  for (const Metric& m : metrics_) {
    absl::StrAppend(&out, "# HELP ", m.name, " ", m.help, "\n# TYPE ", m.name,
                    " ", m.type, "\n", m.name, " ", m.read(), "\n");
  }
  return out;
}

}  // namespace ssebridge
