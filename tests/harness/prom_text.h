// PromText: a strict reader of the Prometheus text exposition format 0.0.4,
// for tests of GET /metrics. Parse() refuses what a lenient scraper would let
// through: a sample before its family's TYPE, a family split in two, HELP or
// TYPE twice, a bad name or label, an escape other than \\ \" \n, a
// duplicate series or label, a counter not named *_total or not a whole
// non-negative number, histogram buckets that are not cumulative, lack
// le="+Inf" or disagree with _count.
#ifndef SSEBRIDGE_TESTS_HARNESS_PROM_TEXT_H_
#define SSEBRIDGE_TESTS_HARNESS_PROM_TEXT_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ssebridge_it {

using PromLabels = std::map<std::string, std::string>;

struct PromSample {
  std::string name;  // as written (with _bucket/_sum/_count)
  PromLabels labels;
  double value = 0;
};

class PromText {
 public:
  static absl::StatusOr<PromText> Parse(absl::string_view text);

  // The value of the series `name{labels}` (labels exactly), if present.
  std::optional<double> Value(const std::string& name, const PromLabels& labels = {}) const;
  // "counter", "gauge", "histogram", ... or "" when not declared.
  std::string Type(const std::string& family) const;
  const std::vector<PromSample>& samples() const { return samples_; }
  // Every sample of `name`.
  std::vector<PromSample> Series(const std::string& name) const;

 private:
  std::map<std::string, std::string> types_;
  std::vector<PromSample> samples_;
};

}  // namespace ssebridge_it

#endif  // SSEBRIDGE_TESTS_HARNESS_PROM_TEXT_H_
