#include "service_calls.h"

#include <algorithm>
#include <cstdio>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace ssebridge_cli {
namespace {

constexpr size_t kMaxBatch = 1000;  // the bridge's limit per PublishBatch

int Fail(const absl::Status& s, const std::string& prefix = "") {
  std::fprintf(stderr, "ssebridge-publish: %s%s: %s\n", prefix.c_str(),
               absl::StatusCodeToString(s.code()).c_str(), std::string(s.message()).c_str());
  return 1;
}

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", t, absl::UTCTimeZone());
}

nlohmann::json ReplicaJson(const ssebridge::ReplicaStats& r) {
  nlohmann::json j;
  j["replica"] = r.replica;
  j["connections"] = r.connections;
  j["grpc_subscribers"] = r.grpc_subscribers;
  j["channels"] = r.channels;
  j["users"] = r.users;
  j["published"] = r.published;
  // The total has no time of its own; leave the key out rather than print
  // a made-up one.
  if (r.reported_at != absl::InfinitePast()) j["reported_at"] = Rfc3339(r.reported_at);
  return j;
}

}  // namespace

int IssueTicket(ssebridge::Publisher& publisher, const std::string& user_id,
                const std::vector<std::string>& channels, absl::Duration ttl) {
  absl::StatusOr<ssebridge::Ticket> t = publisher.IssueTicket(user_id, channels, ttl);
  if (!t.ok()) return Fail(t.status());
  nlohmann::json j;
  j["ticket"] = t->ticket;
  if (t->expires_at != absl::InfinitePast()) j["expires_at"] = Rfc3339(t->expires_at);
  std::printf("%s\n", j.dump().c_str());
  return 0;
}

int PrintStats(ssebridge::Publisher& publisher, int max_channels, bool fleet) {
  ssebridge::StatsOptions options;
  options.max_channels = static_cast<uint32_t>(std::max(0, max_channels));
  options.fleet = fleet;
  absl::StatusOr<ssebridge::Stats> s = publisher.GetStats(options);
  if (!s.ok()) return Fail(s.status());
  nlohmann::json j;
  j["connections"] = s->connections;
  j["grpc_subscribers"] = s->grpc_subscribers;
  j["channels"] = s->channels;
  j["users"] = s->users;
  j["published"] = s->published;
  j["channel_stats"] = nlohmann::json::array();
  for (const auto& c : s->channel_stats) {
    j["channel_stats"].push_back({{"channel", c.channel}, {"subscribers", c.subscribers}});
  }
  j["replica"] = s->replica;
  if (s->fleet.has_value()) {
    nlohmann::json replicas = nlohmann::json::array();
    for (const auto& r : s->fleet->replicas) replicas.push_back(ReplicaJson(r));
    j["fleet"] = {{"replicas", std::move(replicas)},
                  {"total", ReplicaJson(s->fleet->total)},
                  {"error", s->fleet->error}};
  }
  std::printf("%s\n", j.dump().c_str());
  return 0;
}

int DisconnectUser(ssebridge::Publisher& publisher, const std::string& user_id) {
  absl::StatusOr<uint32_t> n = publisher.DisconnectUser(user_id);
  if (!n.ok()) return Fail(n.status());
  std::printf("%s\n", nlohmann::json{{"disconnected", *n}}.dump().c_str());
  return 0;
}

int PublishBatches(ssebridge::Publisher& publisher, const std::vector<ssebridge::Event>& events,
                   const std::vector<int>& lines) {
  int exit_code = 0;
  for (size_t start = 0; start < events.size(); start += kMaxBatch) {
    const size_t end = std::min(events.size(), start + kMaxBatch);
    std::vector<ssebridge::Event> chunk(events.begin() + start, events.begin() + end);
    auto results = publisher.PublishBatch(chunk);
    if (!results.ok()) {
      // The whole call failed: none of this chunk or the rest is known to
      // be published (DEADLINE_EXCEEDED: unknown), so stop here.
      return Fail(results.status(),
                  absl::StrCat("lines ", lines[start], "-", lines[end - 1], ": "));
    }
    for (size_t i = 0; i < results->size(); ++i) {
      const int line = lines[start + i];
      const absl::StatusOr<ssebridge::Ack>& r = (*results)[i];
      if (!r.ok()) {
        Fail(r.status(), absl::StrCat("line ", line, ": "));
        exit_code = 1;
        continue;
      }
      nlohmann::json j;
      j["line"] = line;
      j["id"] = r->id;
      j["subscribers"] = r->subscribers;
      j["replayed"] = r->replayed;
      std::printf("%s\n", j.dump().c_str());
    }
  }
  return exit_code;
}

}  // namespace ssebridge_cli
