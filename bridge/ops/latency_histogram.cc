#include "bridge/ops/latency_histogram.h"

#include <cmath>

#include "absl/time/clock.h"

namespace ssebridge {
namespace {

// Each thread keeps one shard for its life; threads take shards in turn.
size_t ThisThreadShard() {
  static std::atomic<size_t> next{0};
  thread_local const size_t shard =
      next.fetch_add(1, std::memory_order_relaxed) % LatencyHistogram::kShards;
  return shard;
}

}  // namespace

LatencyHistogram::LatencyHistogram() {
  for (size_t i = 0; i < kBounds.size(); ++i) {
    bound_nanos_[i] = std::llround(kBounds[i] * 1e9);
  }
}

void LatencyHistogram::Observe(absl::Duration elapsed, uint64_t times) {
  int64_t nanos = absl::ToInt64Nanoseconds(elapsed);
  if (nanos < 0) nanos = 0;
  size_t bucket = 0;
  while (bucket < bound_nanos_.size() && nanos > bound_nanos_[bucket]) ++bucket;
  Shard& shard = shards_[ThisThreadShard()];
  shard.buckets[bucket].fetch_add(times, std::memory_order_relaxed);
  shard.sum_nanos.fetch_add(static_cast<uint64_t>(nanos) * times, std::memory_order_relaxed);
}

HistogramSample LatencyHistogram::Read(MetricLabels labels) const {
  HistogramSample out;
  out.labels = std::move(labels);
  out.upper_bounds.assign(kBounds.begin(), kBounds.end());
  out.counts.assign(kBuckets, 0);
  uint64_t sum_nanos = 0;
  for (const Shard& shard : shards_) {
    for (size_t i = 0; i < kBuckets; ++i) {
      out.counts[i] += shard.buckets[i].load(std::memory_order_relaxed);
    }
    sum_nanos += shard.sum_nanos.load(std::memory_order_relaxed);
  }
  out.sum = static_cast<double>(sum_nanos) / 1e9;
  return out;
}

}  // namespace ssebridge
