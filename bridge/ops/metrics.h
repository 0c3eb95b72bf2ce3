// MetricsRegistry: named counters and gauges rendered in the Prometheus text
// format (served at GET /metrics). Values are read through callbacks at
// scrape time, so hot paths keep their own relaxed atomics and pay nothing
// for being observed.
#ifndef SSEBRIDGE_OPS_METRICS_H_
#define SSEBRIDGE_OPS_METRICS_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include <mutex>

namespace ssebridge {

class MetricsRegistry {
 public:
  using Reader = std::function<double()>;

  // Names follow Prometheus rules: ssebridge_<what>[_total].
  void Counter(std::string name, std::string help, Reader read);
  void Gauge(std::string name, std::string help, Reader read);

  std::string Render() const;

 private:
  struct Metric {
    std::string name, help, type;
    Reader read;
  };
  mutable std::mutex mu_;
  std::vector<Metric> metrics_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ssebridge

#endif  // SSEBRIDGE_OPS_METRICS_H_
