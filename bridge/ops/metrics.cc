#include "bridge/ops/metrics.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace ssebridge {
namespace {

bool IsValidLabelName(absl::string_view name) {
  if (name.empty() || absl::ascii_isdigit(name[0])) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(c) && c != '_') return false;
  }
  return !absl::StartsWith(name, "__");
}

std::string EscapeHelp(absl::string_view help) {
  std::string out;
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

void AppendLabels(std::string* out, const MetricLabels& labels, absl::string_view extra_name = "",
                  absl::string_view extra_value = "") {
  if (labels.empty() && extra_name.empty()) return;
  out->push_back('{');
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!first) out->push_back(',');
    first = false;
    absl::StrAppend(out, k, "=\"", EscapeLabelValue(v), "\"");
  }
  if (!extra_name.empty()) {
    if (!first) out->push_back(',');
    absl::StrAppend(out, extra_name, "=\"", extra_value, "\"");
  }
  out->push_back('}');
}

void CheckLabels(absl::string_view family, const MetricLabels& labels) {
  for (const auto& [k, v] : labels) {
    if (!IsValidLabelName(k) || k == "le") {
      (void)std::fprintf(stderr, "metric %.*s: bad label name '%s'\n",
                         static_cast<int>(family.size()), family.data(), k.c_str());
      std::abort();
    }
  }
}

}  // namespace

std::string EscapeLabelValue(absl::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string FormatMetricValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  // Integers (the usual gauge) print without exponent or decimals.
  if (value == std::floor(value) && std::fabs(value) < 9007199254740992.0) {
    return absl::StrCat(static_cast<int64_t>(value));
  }
  char buf[32];
  for (int precision = 6; precision <= 17; ++precision) {
    (void)std::snprintf(buf, sizeof(buf), "%.*g", precision, value);
    if (std::strtod(buf, nullptr) == value) break;
  }
  return buf;
}

bool IsValidMetricName(absl::string_view name) {
  if (name.empty() || absl::ascii_isdigit(name[0])) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(c) && c != '_' && c != ':') return false;
  }
  return true;
}

void MetricsRegistry::Add(Family family) {
  const bool counter = family.type == Type::kCounter;
  if (!IsValidMetricName(family.name) || counter != absl::EndsWith(family.name, "_total")) {
    (void)std::fprintf(stderr, "metric name '%s' is not a valid %s name\n", family.name.c_str(),
                       counter ? "counter (..._total)" : "metric");
    std::abort();
  }
  std::lock_guard<std::mutex> lock(mu_);
  for (const Family& f : families_) {
    if (f.name == family.name) {
      (void)std::fprintf(stderr, "metric '%s' registered twice\n", f.name.c_str());
      std::abort();
    }
  }
  families_.push_back(std::move(family));
}

void MetricsRegistry::Counter(std::string name, std::string help, CountReader read) {
  Counters(std::move(name), std::move(help), [read = std::move(read)] {
    return std::vector<CounterSample>{{{}, read()}};
  });
}

void MetricsRegistry::Gauge(std::string name, std::string help, GaugeReader read) {
  Gauges(std::move(name), std::move(help), [read = std::move(read)] {
    return std::vector<GaugeSample>{{{}, read()}};
  });
}

void MetricsRegistry::Counters(std::string name, std::string help,
                               std::function<std::vector<CounterSample>()> read) {
  Family f{std::move(name), std::move(help), Type::kCounter, {}, {}, {}};
  f.counters = std::move(read);
  Add(std::move(f));
}

void MetricsRegistry::Gauges(std::string name, std::string help,
                             std::function<std::vector<GaugeSample>()> read) {
  Family f{std::move(name), std::move(help), Type::kGauge, {}, {}, {}};
  f.gauges = std::move(read);
  Add(std::move(f));
}

void MetricsRegistry::Histograms(std::string name, std::string help,
                                 std::function<std::vector<HistogramSample>()> read) {
  Family f{std::move(name), std::move(help), Type::kHistogram, {}, {}, {}};
  f.histograms = std::move(read);
  Add(std::move(f));
}

void MetricsRegistry::FloatCounters(std::string name, std::string help,
                                    std::function<std::vector<GaugeSample>()> read) {
  // Rendered like a gauge (shortest exact text), typed as a counter.
  Family f{std::move(name), std::move(help), Type::kCounter, {}, {}, {}};
  f.gauges = std::move(read);
  Add(std::move(f));
}

std::optional<double> MetricsRegistry::Sum(
    absl::string_view name, std::pair<absl::string_view, absl::string_view> label) const {
  auto matches = [&label](const MetricLabels& labels) {
    if (label.first.empty()) return true;
    for (const auto& [k, v] : labels) {
      if (k == label.first && v == label.second) return true;
    }
    return false;
  };
  std::lock_guard<std::mutex> lock(mu_);
  for (const Family& f : families_) {
    if (f.name != name) continue;
    double sum = 0;
    if (f.counters) {
      for (const CounterSample& s : f.counters()) {
        if (matches(s.labels)) sum += double(s.value);
      }
    } else if (f.gauges) {
      for (const GaugeSample& s : f.gauges()) {
        if (matches(s.labels)) sum += s.value;
      }
    } else {
      return std::nullopt;  // a histogram has no one sum to give
    }
    return sum;
  }
  return std::nullopt;
}

std::string MetricsRegistry::Render() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  for (const Family& f : families_) {
    absl::string_view type = f.type == Type::kCounter ? "counter"
                             : f.type == Type::kGauge ? "gauge"
                                                      : "histogram";
    absl::StrAppend(&out, "# HELP ", f.name, " ", EscapeHelp(f.help), "\n# TYPE ", f.name, " ",
                    type, "\n");
    if (f.counters) {
      for (const CounterSample& s : f.counters()) {
        CheckLabels(f.name, s.labels);
        out += f.name;
        AppendLabels(&out, s.labels);
        absl::StrAppend(&out, " ", s.value, "\n");
      }
    } else if (f.gauges) {
      for (const GaugeSample& s : f.gauges()) {
        CheckLabels(f.name, s.labels);
        out += f.name;
        AppendLabels(&out, s.labels);
        absl::StrAppend(&out, " ", FormatMetricValue(s.value), "\n");
      }
    } else {
      for (const HistogramSample& s : f.histograms()) {
        CheckLabels(f.name, s.labels);
        uint64_t cumulative = 0;
        for (size_t i = 0; i < s.counts.size(); ++i) {
          cumulative += s.counts[i];
          const std::string le =
              i < s.upper_bounds.size() ? FormatMetricValue(s.upper_bounds[i]) : "+Inf";
          absl::StrAppend(&out, f.name, "_bucket");
          AppendLabels(&out, s.labels, "le", le);
          absl::StrAppend(&out, " ", cumulative, "\n");
        }
        absl::StrAppend(&out, f.name, "_sum");
        AppendLabels(&out, s.labels);
        absl::StrAppend(&out, " ", FormatMetricValue(s.sum), "\n", f.name, "_count");
        AppendLabels(&out, s.labels);
        absl::StrAppend(&out, " ", cumulative, "\n");
      }
    }
  }
  return out;
}

}  // namespace ssebridge
