// LatencyHistogram: durations counted into fixed buckets (50 µs .. 10 s),
// for a Prometheus histogram. Observe() is lock-free and cheap enough for a
// publish path: a few compares and two relaxed atomic adds on a cache line
// of this thread's shard (threads are spread over kShards shards, so
// concurrent publishers rarely share a line). Read() sums the shards; a
// scrape racing an Observe may see its bucket before its sum, never a torn
// count.
#ifndef SSEBRIDGE_OPS_LATENCY_HISTOGRAM_H_
#define SSEBRIDGE_OPS_LATENCY_HISTOGRAM_H_

#include <array>
#include <atomic>
#include <cstdint>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "bridge/ops/metrics.h"

namespace ssebridge {

class LatencyHistogram {
 public:
  // Upper bounds in seconds (Prometheus `le`).
  static constexpr std::array<double, 16> kBounds = {
      0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
      0.025,   0.05,   0.1,     0.25,   0.5,   1,      2.5,   10};
  static constexpr size_t kBuckets = kBounds.size() + 1;  // + the +Inf one
  static constexpr size_t kShards = 8;

  LatencyHistogram();

  // `times` observations of the same duration (a batch answered at once).
  void Observe(absl::Duration elapsed, uint64_t times = 1);

  // Per-bucket (not cumulative) counts and the sum, as one sample.
  HistogramSample Read(MetricLabels labels) const;

 private:
  struct alignas(64) Shard {
    std::array<std::atomic<uint64_t>, kBuckets> buckets{};
    std::atomic<uint64_t> sum_nanos{0};
  };
  std::array<int64_t, kBounds.size()> bound_nanos_;
  std::array<Shard, kShards> shards_;
};

// Times a scope into a histogram (nothing when `histogram` is null).
class ScopedLatency {
 public:
  explicit ScopedLatency(LatencyHistogram* histogram, uint64_t times = 1)
      : histogram_(histogram), times_(times), start_(histogram ? absl::Now() : absl::Time()) {}
  ~ScopedLatency() {
    if (histogram_ != nullptr) histogram_->Observe(absl::Now() - start_, times_);
  }
  ScopedLatency(const ScopedLatency&) = delete;
  ScopedLatency& operator=(const ScopedLatency&) = delete;

 private:
  LatencyHistogram* histogram_;
  uint64_t times_;
  absl::Time start_;
};

}  // namespace ssebridge

#endif  // SSEBRIDGE_OPS_LATENCY_HISTOGRAM_H_
