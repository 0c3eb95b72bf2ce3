#include "tests/harness/sentinel_fixture.h"

#include <algorithm>
#include <set>

#include "absl/time/clock.h"
#include "tests/harness/grpc_client.h"
#include "tests/harness/redis_fixture.h"
#include "tests/harness/sse_client.h"
#include "tests/harness/test_helpers.h"

namespace ssebridge_it {

void RedisSentinelTest::SetUp() {
  ASSERT_FALSE(FindRedisSentinel().empty())
      << "redis-sentinel is not installed: run scripts/setup-deps.sh "
         "(apt-get install redis-server redis-sentinel)";
  std::string error;
  ASSERT_TRUE(cluster_.Start(&error)) << error;
}

std::unique_ptr<BridgeProcess> RedisSentinelTest::StartSentinelBridge(
    std::vector<std::string> extra) {
  std::vector<std::string> flags = {
      "--broker=redis",
      "--redis_sentinels=" + cluster_.SentinelsFlag(),
      std::string("--redis_sentinel_master=") + RedisSentinelCluster::kMaster,
      "--redis_sentinel_timeout=500ms",
      "--redis_reconnect_min=50ms",
      "--redis_reconnect_max=300ms",
      "--redis_command_timeout=2s",
      "--queue_bytes=33554432",
      "--history_size=100000"};
  flags.insert(flags.end(), extra.begin(), extra.end());
  auto bridge = StartBridge(flags);
  if (bridge != nullptr && !WaitReady(bridge->http_port(), 200, kWait)) {
    ADD_FAILURE() << "bridge never became ready\n" << bridge->LogText(60);
    return nullptr;
  }
  return bridge;
}

bool RedisSentinelTest::WaitReady(int port, int status, absl::Duration timeout) {
  const absl::Time end = absl::Now() + timeout;
  while (ReadyStatus(port) != status) {
    if (absl::Now() > end) return false;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return true;
}

void FollowingReader::Run(int port, const std::string& channel, const std::string& until,
                          absl::Duration timeout) {
  const absl::Time end = absl::Now() + timeout;
  std::string last;
  while (absl::Now() < end) {
    SseClient c;
    SseClientOptions o;
    if (!last.empty()) o.headers.emplace_back("Last-Event-ID", last);
    if (!OpenAttached(&c, port, EventsTarget({channel}), o)) {
      absl::SleepFor(absl::Milliseconds(50));  // not ready yet: pace retries
      continue;
    }
    {
      std::lock_guard<std::mutex> lock(mu);
      ++connections;
      attached = true;
    }
    auto seen_end = [&] { return Covers(c.events(), until); };
    // In slices, so an end id set after a covering reset arrived is noticed
    // without waiting for another byte.
    while (absl::Now() < end && !c.closed()) {
      if (c.ReadUntil(seen_end, std::min(absl::Milliseconds(250), end - absl::Now()))) break;
    }
    {
      std::lock_guard<std::mutex> lock(mu);
      all.insert(all.end(), c.events().begin(), c.events().end());
    }
    if (!c.parser().last_event_id().empty()) last = c.parser().last_event_id();
    if (seen_end()) return;
  }
}

void FollowingReader::SetEndId(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu);
  end_id_ = id;
}

bool FollowingReader::Covers(const std::vector<SseEvent>& events, const std::string& until) {
  for (const auto& e : events) {
    if (e.data == until) return true;
  }
  std::string end_id;
  {
    std::lock_guard<std::mutex> lock(mu);
    end_id = end_id_;
  }
  ParsedId end;
  if (end_id.empty() || !ParseEventId(end_id, &end)) return false;
  for (const auto& e : events) {
    ParsedId head;
    if (e.event == "ssebridge.reset" && ParseEventId(ResetHead(e.data), &head) &&
        head.epoch == end.epoch && head.seq >= end.seq) {
      return true;
    }
  }
  return false;
}

bool FollowingReader::ReachedEnd(const std::string& until) {
  std::vector<SseEvent> seen;
  {
    std::lock_guard<std::mutex> lock(mu);
    seen = all;
  }
  return Covers(seen, until);
}

bool FollowingReader::WaitAttached(absl::Duration timeout) {
  const absl::Time end = absl::Now() + timeout;
  while (true) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (attached) return true;
    }
    if (absl::Now() >= end) return false;
    absl::SleepFor(absl::Milliseconds(10));
  }
}

DeliveryAudit AuditDelivery(const std::vector<std::pair<std::string, std::string>>& acked,
                            const std::vector<SseEvent>& seen) {
  DeliveryAudit audit;
  std::map<std::string, std::string> by_id;
  for (const auto& [id, data] : acked) {
    EXPECT_TRUE(by_id.emplace(id, data).second) << "id " << id << " handed out twice";
  }
  std::set<std::string> delivered;
  std::vector<ParsedId> reset_heads;
  for (const auto& e : seen) {
    if (e.event == "ssebridge.reset") {
      ParsedId head;
      if (ParseEventId(ResetHead(e.data), &head)) reset_heads.push_back(head);
      continue;
    }
    EXPECT_TRUE(delivered.insert(e.id).second) << "delivered twice: " << e.id;
    auto it = by_id.find(e.id);
    if (it != by_id.end()) {
      EXPECT_EQ(it->second, e.data) << "id " << e.id << " reused for other data";
    }
  }
  for (const auto& [id, data] : acked) {
    if (delivered.count(id)) continue;
    ParsedId p;
    if (!ParseEventId(id, &p)) {
      ADD_FAILURE() << "acknowledged id " << id << " is not <epoch>-<seq>";
      continue;
    }
    bool reset_past = false;
    for (const ParsedId& h : reset_heads) {
      if (h.epoch != p.epoch || p.seq <= h.seq) reset_past = true;
    }
    if (reset_past) {
      ++audit.covered_by_reset;
    } else {
      ++audit.lost;
      ADD_FAILURE() << "acknowledged " << id << " (" << data
                    << ") neither delivered nor covered by a reset";
    }
  }
  audit.delivered = delivered.size();
  audit.resets = reset_heads.size();
  return audit;
}

}  // namespace ssebridge_it
