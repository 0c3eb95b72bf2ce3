// Publisher flood (issue 8): a PublishStream and unary Publish callers
// offering several times --publish_rate_limit. The excess is refused with
// RESOURCE_EXHAUSTED naming the limit; the bridge keeps answering /healthz
// and delivering to a subscriber during the flood; the subscriber receives
// every accepted event exactly once, in order, and none of the refused ones.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/harness/bridge_process.h"
#include "tests/harness/grpc_client.h"
#include "tests/harness/http_request.h"
#include "tests/harness/redis_fixture.h"
#include "tests/harness/sse_client.h"
#include "tests/harness/test_helpers.h"

namespace ssebridge_it {
namespace {

constexpr double kLimit = 200;  // events/s, the anonymous publisher's bucket
constexpr double kBurst = 50;

// What the flood got back: accepted (id, data), refusals, when each answer
// came, and the first refusal that was not the expected one.
struct Outcome {
  std::mutex mu;
  std::vector<std::pair<std::string, std::string>> accepted;
  std::set<std::string> refused;
  std::vector<absl::Time> answered;
  std::string unexpected;
  void Accept(const std::string& id, const std::string& data) {
    std::lock_guard<std::mutex> lock(mu);
    accepted.emplace_back(id, data);
    answered.push_back(absl::Now());
  }
  void Refuse(const std::string& data, int code, const std::string& message) {
    std::lock_guard<std::mutex> lock(mu);
    refused.insert(data);
    answered.push_back(absl::Now());
    if (unexpected.empty() && (code != grpc::StatusCode::RESOURCE_EXHAUSTED ||
                               !absl::StrContains(message, "--publish_rate_limit"))) {
      unexpected = absl::StrCat(data, ": code ", code, " \"", message, "\"");
    }
  }
};

TEST(FloodSlowTest, FloodAboveTheRateLimitIsRefusedAndAcceptedEventsArriveOnce) {
  const absl::Duration kFlood = absl::Seconds(4);
  auto bridge =
      StartBridge({absl::StrCat("--publish_rate_limit=", kLimit),
                   absl::StrCat("--publish_rate_burst=", kBurst), "--queue_bytes=33554432"});
  ASSERT_NE(bridge, nullptr);
  const int port = bridge->http_port();
  GrpcClient grpc(bridge->grpc_port());

  // The subscriber reads on its own thread; the predicate (run after every
  // read) timestamps the deliveries so we can see some during the flood.
  SseClient sub;
  ASSERT_TRUE(OpenAttached(&sub, port, EventsTarget({"flood"})));
  std::atomic<size_t> delivered{0};
  std::atomic<bool> end_seen{false};
  std::thread reader = ReadInBackground(
      &sub,
      [&] {
        delivered.store(sub.events().size());
        bool end = !sub.events().empty() && sub.events().back().data == "END";
        end_seen.store(end);
        return end;
      },
      kFlood + absl::Seconds(60));

  Outcome out;
  std::atomic<bool> stop{false};
  std::atomic<long> offered{0};
  const absl::Time start = absl::Now();
  const absl::Time end = start + kFlood;

  // PublishStream: write-ahead by up to 64 requests so the stream offers
  // far more than the limit.
  std::thread streamer([&] {
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(end + absl::Seconds(60)));
    auto stream = grpc.publisher()->PublishStream(&ctx);
    std::deque<std::string> in_flight;
    long sent = 0;
    while (absl::Now() < end && sent < 200000) {
      while (in_flight.size() < 64 && absl::Now() < end) {
        std::string data = absl::StrCat("s", sent++);
        if (!stream->Write(MakePublish("flood", data))) break;
        offered.fetch_add(1);
        in_flight.push_back(data);
      }
      v1::PublishResponse r;
      if (in_flight.empty() || !stream->Read(&r)) break;
      if (r.has_error()) {
        out.Refuse(in_flight.front(), r.error().code(), r.error().message());
      } else {
        out.Accept(r.id(), in_flight.front());
      }
      in_flight.pop_front();
    }
    stream->WritesDone();
    v1::PublishResponse r;
    while (!in_flight.empty() && stream->Read(&r)) {
      if (r.has_error()) {
        out.Refuse(in_flight.front(), r.error().code(), r.error().message());
      } else {
        out.Accept(r.id(), in_flight.front());
      }
      in_flight.pop_front();
    }
    grpc::Status s = stream->Finish();
    EXPECT_TRUE(s.ok()) << s.error_message();
    EXPECT_TRUE(in_flight.empty()) << in_flight.size() << " requests never answered";
  });
  // Unary callers.
  std::vector<std::thread> unary;
  for (int t = 0; t < 3; ++t) {
    unary.emplace_back([&, t] {
      for (long i = 0; absl::Now() < end && i < 100000; ++i) {
        std::string data = absl::StrCat("u", t, "-", i);
        v1::PublishResponse r;
        offered.fetch_add(1);
        grpc::Status s = grpc.Publish(MakePublish("flood", data), &r);
        if (s.ok()) {
          out.Accept(r.id(), data);
        } else {
          out.Refuse(data, s.error_code(), s.error_message());
        }
      }
    });
  }
  // Health probes during the flood.
  absl::Duration worst_health;
  int health_failures = 0;
  int probes = 0;
  size_t delivered_mid_flood = 0;
  while (absl::Now() < end) {
    absl::Time asked = absl::Now();
    HttpResponse h = HttpGet(port, "/healthz");
    worst_health = std::max(worst_health, absl::Now() - asked);
    if (!h.ok() || h.status != 200) ++health_failures;
    ++probes;
    if (absl::Now() - start < kFlood * 3 / 4) delivered_mid_flood = delivered.load();
    absl::SleepFor(absl::Milliseconds(50));
  }
  streamer.join();
  for (auto& t : unary) t.join();
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);

  // Once the bucket refills, END goes through.
  v1::PublishResponse end_response;
  const absl::Time refill = absl::Now() + kWait;
  while (!grpc.Publish(MakePublish("flood", "END"), &end_response).ok() && absl::Now() < refill) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  ASSERT_FALSE(end_response.id().empty()) << "END never accepted";
  out.Accept(end_response.id(), "END");
  reader.join();
  ASSERT_TRUE(end_seen.load()) << sub.Describe();

  std::printf(
      "flood: offered %ld in %.1f s (%.0f/s against a limit of %.0f/s), "
      "accepted %zu, refused %zu; /healthz worst %s over %d probes; "
      "%zu delivered by 3/4 of the flood\n",
      offered.load(), seconds, offered.load() / seconds, kLimit, out.accepted.size(),
      out.refused.size(), absl::FormatDuration(worst_health).c_str(), probes, delivered_mid_flood);

  EXPECT_GE(offered.load() / seconds, 3 * kLimit) << "the flood was not a flood";
  EXPECT_EQ(out.unexpected, "") << "a refusal other than the rate limit";
  EXPECT_FALSE(out.refused.empty());
  // The bucket: burst + limit x elapsed (+ END, + one token of rounding).
  EXPECT_LE(static_cast<double>(out.accepted.size()), kBurst + kLimit * seconds + 2);
  // The other side: the bucket grants its rate wherever the flood kept
  // coming. A busy machine can stall the publishers or the bridge for longer
  // than the burst lasts (kBurst / kLimit), and tokens not taken then are
  // gone, so the rate is owed only over the time the answers kept coming:
  // each gap between answers counts up to the burst's length.
  std::vector<absl::Time> answered = out.answered;
  std::sort(answered.begin(), answered.end());
  absl::Duration flowing;
  for (size_t i = 1; i < answered.size(); ++i) {
    flowing += std::min(answered[i] - answered[i - 1], absl::Seconds(kBurst / kLimit));
  }
  EXPECT_GE(static_cast<double>(out.accepted.size()), kLimit * absl::ToDoubleSeconds(flowing) * 0.5)
      << "the limit is far from what was let through while the flood flowed ("
      << absl::FormatDuration(flowing) << " of " << seconds << " s)";
  EXPECT_EQ(health_failures, 0);
  EXPECT_LE(worst_health, BridgeIsSanitized() ? absl::Seconds(2) : absl::Milliseconds(500));
  EXPECT_GT(delivered_mid_flood, 0u) << "no delivery while the flood ran";

  // Exactly the accepted events, each once, in id order (the broker's order).
  std::vector<std::pair<std::string, std::string>> want = out.accepted;
  std::sort(want.begin(), want.end(), [](const auto& a, const auto& b) {
    ParsedId x, y;
    ParseEventId(a.first, &x);
    ParseEventId(b.first, &y);
    return x.seq < y.seq;
  });
  std::vector<std::string> want_ids, want_datas;
  for (const auto& [id, data] : want) {
    want_ids.push_back(id);
    want_datas.push_back(data);
  }
  EXPECT_EQ(CheckIdsIncreasing(want_ids), "") << "duplicate ids handed out";
  EXPECT_EQ(EventIds(sub.events()), want_ids) << Summarize(EventIds(sub.events()));
  EXPECT_EQ(EventDatas(sub.events()), want_datas);
  for (const auto& e : sub.events()) {
    EXPECT_EQ(out.refused.count(e.data), 0u) << "refused event " << e.data << " delivered";
  }
}

}  // namespace
}  // namespace ssebridge_it
