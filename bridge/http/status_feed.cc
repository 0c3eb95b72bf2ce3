#include "bridge/http/status_feed.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "bridge/core/json_text.h"
#include "bridge/ops/top_channels.h"
#include "bridge/sse/sse_encoder.h"

namespace ssebridge {
namespace {

// What the snapshot's "totals" object holds: its key, the family, and a
// label the samples must carry (empty: all samples).
struct FeedTotal {
  const char* key;
  const char* family;
  const char* label_name;
  const char* label_value;
};
constexpr FeedTotal kTotals[] = {
    {"refused_401", "ssebridge_streams_refused_unauthenticated_total", "", ""},
    {"refused_403", "ssebridge_streams_refused_forbidden_total", "", ""},
    {"refused_429", "ssebridge_streams_refused_limited_total", "", ""},
    // Not counted by the HTTP server yet; shown once a counter has this name.
    {"refused_503", "ssebridge_streams_refused_unavailable_total", "", ""},
    {"resets", "ssebridge_resumes_total", "outcome", "reset"},
    {"slow_consumer_disconnects", "ssebridge_slow_consumer_disconnects_total", "", ""},
    {"broker_reconnects", "ssebridge_broker_store_connection_losses_total", "", ""},
    {"connected_users", "ssebridge_connected_users", "", ""},
    {"queued_bytes", "ssebridge_stream_queued_bytes", "", ""},
};

std::string TotalsJson(const MetricsRegistry* metrics) {
  std::string json = "{";
  if (metrics != nullptr) {
    bool first = true;
    for (const FeedTotal& t : kTotals) {
      std::optional<double> v = metrics->Sum(t.family, {t.label_name, t.label_value});
      if (!v) continue;
      absl::StrAppend(&json, first ? "" : ",", "\"", t.key, "\":", FormatMetricValue(*v));
      first = false;
    }
  }
  return json + "}";
}

}  // namespace

StatusFeed::StatusFeed(Options options, Sources sources, Hub* hub)
    : options_(options), sources_(std::move(sources)), hub_(hub) {}

StatusFeed::~StatusFeed() { Stop(); }

void StatusFeed::Start() {
  hub_->SetObserver([this](const EventPtr& event) { Observe(event); });
  thread_ = std::thread([this] { Run(); });
}

void StatusFeed::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void StatusFeed::Observe(const EventPtr& event) {
  if (options_.recent_events == 0 || event->channel.empty() || event->channel[0] == '$') {
    return;
  }
  std::lock_guard<std::mutex> lock(recent_mu_);
  recent_.push_back(event);
  if (recent_.size() > options_.recent_events) recent_.pop_front();
}

std::string StatusFeed::SnapshotJson() {
  const absl::Time now = absl::Now();
  const uint64_t published = sources_.published();
  const uint64_t delivered = sources_.delivered();
  const uint64_t dropped = sources_.dropped();
  std::vector<std::pair<std::string, uint32_t>> counts = hub_->ChannelCounts();
  uint64_t subscriptions = 0;
  size_t channels = 0;
  for (const auto& [name, n] : counts) {
    if (!name.empty() && name[0] == '$') continue;
    subscriptions += n;
    ++channels;
  }
  counts.erase(std::remove_if(counts.begin(), counts.end(),
                              [](const auto& c) { return !c.first.empty() && c.first[0] == '$'; }),
               counts.end());
  std::vector<std::pair<std::string, uint64_t>> top =
      TopChannels(std::move(counts), options_.top_channels);
  std::vector<EventPtr> recent;
  {
    std::lock_guard<std::mutex> lock(recent_mu_);
    recent.assign(recent_.rbegin(), recent_.rend());  // newest first
  }
  double rates[3];
  UpdateRates(now, published, delivered, dropped, rates);
  std::string json = absl::StrCat(
      "{\"time\":", JsonQuote(absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", now, absl::UTCTimeZone())),
      ",\"unix_ms\":", absl::ToUnixMillis(now), ",\"broker\":", JsonQuote(sources_.broker),
      ",\"broker_ready\":", sources_.broker_ready() ? "true" : "false",
      ",\"streams\":", sources_.streams(), ",\"subscriptions\":", subscriptions,
      ",\"channel_count\":", channels, ",\"published\":", published, ",\"delivered\":", delivered,
      ",\"dropped\":", dropped, ",\"rates\":{\"published\":", rates[0], ",\"delivered\":", rates[1],
      ",\"dropped\":", rates[2], "},\"totals\":", TotalsJson(sources_.metrics), ",\"channels\":[");
  for (size_t i = 0; i < top.size(); ++i) {
    absl::StrAppend(&json, i ? "," : "", "{\"channel\":", JsonQuote(top[i].first),
                    ",\"subscribers\":", top[i].second, "}");
  }
  json += "],\"recent\":[";
  for (size_t i = 0; i < recent.size(); ++i) {
    const Event& e = *recent[i];
    absl::StrAppend(&json, i ? "," : "", "{\"channel\":", JsonQuote(e.channel),
                    ",\"id\":", JsonQuote(e.id), ",\"type\":", JsonQuote(e.type),
                    ",\"size\":", e.data.size(), ",\"users\":", e.user_ids.size(), ",\"time\":",
                    JsonQuote(absl::FormatTime("%H:%M:%E3S", e.published_at, absl::UTCTimeZone())),
                    "}");
  }
  json += "]}";
  return json;
}

void StatusFeed::UpdateRates(absl::Time now, uint64_t published, uint64_t delivered,
                             uint64_t dropped, double* rates) {
  std::lock_guard<std::mutex> lock(mu_);
  // Rates over at least half a second, so a viewer arriving between two
  // ticks does not see a rate over a few milliseconds.
  const bool due = last_.at == absl::InfinitePast() || now - last_.at >= absl::Milliseconds(500);
  if (due && last_.at != absl::InfinitePast()) {
    const double secs = absl::ToDoubleSeconds(now - last_.at);
    rates_[0] = double(published - last_.published) / secs;
    rates_[1] = double(delivered - last_.delivered) / secs;
    rates_[2] = double(dropped - last_.dropped) / secs;
  }
  if (due) last_ = {now, published, delivered, dropped};
  if (rates != nullptr) std::copy(rates_, rates_ + 3, rates);
}

EventPtr StatusFeed::SnapshotEvent(const std::string& json) const {
  auto event = std::make_shared<Event>();
  event->channel = std::string(kStatusChannel);
  event->type = "snapshot";
  event->published_at = absl::Now();
  event->frame = SseNotice("snapshot", json);
  return event;
}

void StatusFeed::Attach(std::shared_ptr<Subscription> viewer) {
  EventPtr first = SnapshotEvent(SnapshotJson());
  std::lock_guard<std::mutex> lock(mu_);
  hub_->Attach(std::move(viewer), {first});
}

void StatusFeed::Run() {
  const Event probe = [] {
    Event e;
    e.channel = std::string(kStatusChannel);
    return e;
  }();
  std::unique_lock<std::mutex> lock(mu_);
  while (
      !cv_.wait_for(lock, absl::ToChronoMilliseconds(options_.every), [this] { return stop_; })) {
    if (hub_->CountRecipients(probe) == 0) {
      // Nobody watching: only the totals, so a first viewer sees rates.
      lock.unlock();
      UpdateRates(absl::Now(), sources_.published(), sources_.delivered(), sources_.dropped(),
                  nullptr);
      lock.lock();
      continue;
    }
    lock.unlock();
    std::string json = SnapshotJson();
    lock.lock();
    if (stop_) break;
    hub_->Dispatch(SnapshotEvent(json));
  }
}

}  // namespace ssebridge
