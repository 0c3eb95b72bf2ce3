// StatusFeed: what the status page (GET /ui) shows, pushed to it over the
// bridge's own SSE machinery. Viewers are ordinary streams subscribed to the
// internal channel kStatusChannel, which clients cannot name through
// /v1/events ('$' is not a channel-name character). Once a second, while
// anyone views, the feed dispatches an `event: snapshot` there: totals, rates
// since the last snapshot, the busiest channels and the last few published
// events (channel, id, type, size; never payloads). A new viewer gets the
// latest snapshot as its catch-up.
//
// With Sources::metrics, each snapshot also carries "totals": the sums of
// the metric families listed in status_feed.cc (refused streams by status,
// resets, slow-consumer disconnects, broker reconnects, connected users),
// read from the registry /metrics renders, so the page and Prometheus show
// the same numbers. A family the registry lacks is left out (the page shows
// it as not counted); the page turns totals into rates with "unix_ms".
//
// The feed watches published events through Hub::SetObserver (one uncontended
// lock and a pointer copy per event). It owns one thread; Stop() joins it and
// must run before the hub and the sources go away.
#ifndef SSEBRIDGE_HTTP_STATUS_FEED_H_
#define SSEBRIDGE_HTTP_STATUS_FEED_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "bridge/core/event.h"
#include "bridge/core/hub.h"
#include "bridge/ops/metrics.h"

namespace ssebridge {

inline constexpr absl::string_view kStatusChannel = "$ssebridge.status";

class StatusFeed {
 public:
  // Read once per snapshot, from the feed's thread.
  struct Sources {
    std::function<uint64_t()> streams;    // open SSE streams
    std::function<uint64_t()> published;  // events published (total)
    std::function<uint64_t()> delivered;  // events queued to readers
    std::function<uint64_t()> dropped;    // dropped by a policy
    std::function<bool()> broker_ready;
    std::string broker;  // "memory" or "redis"
    // Optional: the registry behind /metrics. Read only during snapshots;
    // must outlive Stop(). Families may be registered after Start().
    const MetricsRegistry* metrics = nullptr;
  };
  struct Options {
    size_t recent_events = 20;
    size_t top_channels = 50;
    absl::Duration every = absl::Seconds(1);
  };

  StatusFeed(Options options, Sources sources, Hub* hub);
  ~StatusFeed();

  // Starts watching the hub and the snapshot thread.
  void Start();
  void Stop();

  // Attaches a viewer's subscription (on kStatusChannel), the latest
  // snapshot first.
  void Attach(std::shared_ptr<Subscription> viewer);

  // The snapshot JSON as it would be sent now (for tests and the first
  // viewer).
  std::string SnapshotJson();

 private:
  void Observe(const EventPtr& event);
  void Run();
  EventPtr SnapshotEvent(const std::string& json) const;
  // Per-second rates since the last sample (kept when the last is recent);
  // copied to rates[3] unless null.
  void UpdateRates(absl::Time now, uint64_t published, uint64_t delivered, uint64_t dropped,
                   double* rates);

  Options options_;
  Sources sources_;
  Hub* hub_;
  std::thread thread_;

  std::mutex recent_mu_;
  std::deque<EventPtr> recent_ ABSL_GUARDED_BY(recent_mu_);

  // Attach and the snapshot dispatch are one order for the status channel.
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  EventPtr latest_ ABSL_GUARDED_BY(mu_);
  struct Totals {
    absl::Time at = absl::InfinitePast();
    uint64_t published = 0, delivered = 0, dropped = 0;
  };
  Totals last_ ABSL_GUARDED_BY(mu_);
  double rates_[3] ABSL_GUARDED_BY(mu_) = {0, 0, 0};  // published, delivered, dropped /s
};

}  // namespace ssebridge

#endif  // SSEBRIDGE_HTTP_STATUS_FEED_H_
