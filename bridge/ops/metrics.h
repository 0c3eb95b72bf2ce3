// MetricsRegistry: metric families rendered in the Prometheus text exposition
// format 0.0.4 (served at GET /metrics). Values are read through callbacks at
// scrape time, so hot paths keep their own relaxed atomics and pay nothing
// for being observed.
//
// Promises of Render(): one HELP and one TYPE line per family, in
// registration order; label values escaped (\\, \", \n); counters printed as
// exact integers; a histogram as cumulative _bucket{le=...} series ending in
// le="+Inf", then _sum and _count. Names are checked when registered
// (Prometheus syntax; counters must end in _total): a bad name is a
// programming error and aborts at start-up, not at the first scrape.
//
// Registration happens during wiring, before the first scrape; the readers
// must stay valid as long as the registry may render.
#ifndef SSEBRIDGE_OPS_METRICS_H_
#define SSEBRIDGE_OPS_METRICS_H_

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"

namespace ssebridge {

using MetricLabels = std::vector<std::pair<std::string, std::string>>;

struct CounterSample {
  MetricLabels labels;
  uint64_t value = 0;
};

struct GaugeSample {
  MetricLabels labels;
  double value = 0;
};

struct HistogramSample {
  MetricLabels labels;
  std::vector<double> upper_bounds;  // ascending, without +Inf
  // Per bucket, not cumulative; one more than upper_bounds (the +Inf one).
  std::vector<uint64_t> counts;
  double sum = 0;
};

class MetricsRegistry {
 public:
  using CountReader = std::function<uint64_t()>;
  using GaugeReader = std::function<double()>;

  void Counter(std::string name, std::string help, CountReader read);
  void Gauge(std::string name, std::string help, GaugeReader read);
  void Counters(std::string name, std::string help,
                std::function<std::vector<CounterSample>()> read);
  void Gauges(std::string name, std::string help, std::function<std::vector<GaugeSample>()> read);
  void Histograms(std::string name, std::string help,
                  std::function<std::vector<HistogramSample>()> read);
  // A counter whose value is not a whole number (process_cpu_seconds_total).
  void FloatCounters(std::string name, std::string help,
                     std::function<std::vector<GaugeSample>()> read);

  std::string Render() const;

  // The sum of a counter or gauge family's samples whose labels include
  // `label` (when given as name=value); nullopt when no such family is
  // registered. Reads the family as a scrape would: other readers of the
  // same numbers (the status page) then agree with /metrics.
  std::optional<double> Sum(absl::string_view name,
                            std::pair<absl::string_view, absl::string_view> label = {}) const;

 private:
  enum class Type { kCounter, kGauge, kHistogram };
  struct Family {
    std::string name, help;
    Type type;
    std::function<std::vector<CounterSample>()> counters;
    std::function<std::vector<GaugeSample>()> gauges;
    std::function<std::vector<HistogramSample>()> histograms;
  };
  void Add(Family family);

  mutable std::mutex mu_;
  std::vector<Family> families_ ABSL_GUARDED_BY(mu_);
};

// Text-format helpers, exposed for tests.
std::string EscapeLabelValue(absl::string_view value);
// Shortest text that reads back as `value`; NaN, +Inf, -Inf as Prometheus
// spells them.
std::string FormatMetricValue(double value);
bool IsValidMetricName(absl::string_view name);

}  // namespace ssebridge

#endif  // SSEBRIDGE_OPS_METRICS_H_
