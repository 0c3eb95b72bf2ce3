// Slow consumers: a client that stops reading (small SO_RCVBUF set before
// connect) while 60 KB events pile up against --queue_bytes=65536.
//   disconnect (default): the stream is closed; what was buffered is an
//                         in-order prefix, then EOF; others are unaffected.
//   latest-only / drop-oldest: the stream stays open; once it reads, the
//                         newest value arrives last, older ones were dropped.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/harness/bridge_process.h"
#include "tests/harness/grpc_client.h"
#include "tests/harness/sse_client.h"
#include "tests/harness/test_helpers.h"

namespace ssebridge_it {
namespace {

constexpr size_t kPayloadBytes = 60 * 1024;
constexpr int kMaxPublishes = 300;
constexpr int kSlowRcvbuf = 4096;

std::string Payload(int i, size_t bytes = kPayloadBytes) {
  std::string head = absl::StrCat("#", i, ":");
  return head + std::string(bytes - head.size(), 'x');
}

// "#17:" -> 17, or -1.
int PayloadIndex(const std::string& data) {
  size_t colon = data.find(':');
  if (data.empty() || data[0] != '#' || colon == std::string::npos) return -1;
  int i = -1;
  if (!absl::SimpleAtoi(data.substr(1, colon - 1), &i)) return -1;
  return i;
}

struct Published {
  std::vector<std::string> ids;
  std::vector<uint32_t> subscribers;
  bool saw_zero_subscribers = false;
};

// Publishes up to `count` payloads of `bytes` (bounded to 90 s); stops
// early once a publish reports the slow stream gone when `stop_at_zero`.
// When `fast` is given, each publish waits until `fast` has read the one
// before: a reader that keeps up holds at most one event in the bridge's
// queue, however late the writer thread gets a CPU on a busy machine.
// (Draining only what had arrived let a starved writer pile several 60 KB
// events into the fast stream's queue, which then closed it as slow.)
Published PublishPile(GrpcClient* grpc, const std::string& channel, const std::string& event,
                      bool stop_at_zero, SseClient* fast, int count = kMaxPublishes,
                      size_t bytes = kPayloadBytes) {
  Published out;
  absl::Time deadline = absl::Now() + absl::Seconds(90);
  for (int i = 0; i < count && absl::Now() < deadline; ++i) {
    v1::PublishResponse resp = grpc->MustPublish(MakePublish(channel, Payload(i, bytes), event));
    if (resp.id().empty()) break;  // the failure is already recorded
    out.ids.push_back(resp.id());
    out.subscribers.push_back(resp.subscribers());
    if (fast != nullptr && !fast->WaitForEvents(out.ids.size(), kWait)) {
      ADD_FAILURE() << "the fast reader did not get event #" << i << "; " << fast->Describe();
      break;
    }
    if (resp.subscribers() == 0 || (fast != nullptr && resp.subscribers() == 1)) {
      out.saw_zero_subscribers = true;  // (the fast reader is the one left)
      if (stop_at_zero) break;
    }
  }
  return out;
}

SseClientOptions SlowOptions() {
  SseClientOptions o;
  o.rcvbuf_bytes = kSlowRcvbuf;
  o.keep_raw = false;
  return o;
}

TEST(SlowConsumerTest, DisconnectPolicyClosesSlowStreamAfterInOrderPrefix) {
  // Room for a few events, so the fast reader (which reads between
  // publishes) never trips the limit on a loaded machine; the slow one,
  // which never reads, still does.
  auto bridge = StartBridge({"--queue_bytes=262144"});
  ASSERT_NE(bridge, nullptr);
  GrpcClient grpc(bridge->grpc_port());
  SseClient slow;
  ASSERT_TRUE(slow.Open(bridge->http_port(), EventsTarget({"bulk"}), SlowOptions()))
      << slow.error();
  SseClientOptions fast_options;
  fast_options.keep_raw = false;
  SseClient fast;
  ASSERT_TRUE(fast.Open(bridge->http_port(), EventsTarget({"bulk"}), fast_options)) << fast.error();

  // `slow` is not read from here on.
  Published pub = PublishPile(&grpc, "bulk", "", /*stop_at_zero=*/true, &fast);
  ASSERT_FALSE(pub.ids.empty());
  EXPECT_EQ(pub.subscribers.front(), 2u);
  EXPECT_TRUE(pub.saw_zero_subscribers)
      << "the slow stream was still subscribed after " << pub.ids.size() << " events of "
      << kPayloadBytes << " bytes";

  // Now read what was buffered: an in-order prefix, then the end.
  ASSERT_TRUE(slow.WaitForClose(kWait)) << "slow stream not closed; " << slow.Describe();
  EXPECT_TRUE(slow.eof()) << "expected a clean EOF, got a reset; " << slow.Describe();
  const auto& got = slow.events();
  EXPECT_LT(got.size(), pub.ids.size());
  for (size_t k = 0; k < got.size() && k < pub.ids.size(); ++k) {
    if (got[k].id != pub.ids[k] || got[k].data != Payload(static_cast<int>(k))) {
      ADD_FAILURE() << "event #" << k << " is id " << got[k].id << " payload #"
                    << PayloadIndex(got[k].data) << ", expected id " << pub.ids[k] << " payload #"
                    << k;
      break;
    }
  }

  // The fast reader got everything, in order, and is still connected.
  ASSERT_TRUE(fast.WaitForEvents(pub.ids.size(), kWait)) << fast.Describe();
  EXPECT_FALSE(fast.closed()) << fast.Describe();
  EXPECT_EQ(EventIds(fast.events()), pub.ids);

  // The closed slow stream's subscription is gone.
  EXPECT_EQ(grpc.MustPublish("bulk", "after").subscribers(), 1u);
}

// Stays connected and, once read, ends with the newest value; the read
// events are an increasing subsequence of what was published, with gaps.
// `bytes` per event, `count` events: enough to fill the kernel's socket
// buffers (a few MB on loopback) and then the 64 KiB queue many times over.
void ExpectKeepsNewest(const std::string& policy_flag, const std::string& channel,
                       size_t bytes = kPayloadBytes, int count = kMaxPublishes) {
  auto bridge = StartBridge({"--queue_bytes=65536", policy_flag});
  ASSERT_NE(bridge, nullptr);
  GrpcClient grpc(bridge->grpc_port());
  SseClient slow;
  ASSERT_TRUE(slow.Open(bridge->http_port(), EventsTarget({channel}), SlowOptions()))
      << slow.error();

  Published pub =
      PublishPile(&grpc, channel, "value", /*stop_at_zero=*/false, nullptr, count, bytes);
  ASSERT_EQ(pub.ids.size(), static_cast<size_t>(count));
  EXPECT_FALSE(pub.saw_zero_subscribers) << "the slow stream was dropped";
  const std::string last_id = pub.ids.back();

  ASSERT_TRUE(
      slow.ReadUntil([&] { return !slow.events().empty() && slow.events().back().id == last_id; },
                     absl::Seconds(60)))
      << "the newest value never arrived; " << slow.Describe();
  EXPECT_FALSE(slow.closed()) << slow.Describe();
  // The gaps are marked: ssebridge.dropped notices count every event that
  // was dropped or replaced, so delivered + counted = published.
  std::vector<SseEvent> got;
  uint64_t counted = 0;
  for (const SseEvent& e : slow.events()) {
    if (e.event != "ssebridge.dropped") {
      got.push_back(e);
      continue;
    }
    EXPECT_FALSE(e.had_id_field) << "a notice must not move the cursor";
    const size_t at = e.data.find("\"dropped\":");
    ASSERT_NE(at, std::string::npos) << e.data;
    uint64_t n = 0;
    ASSERT_TRUE(absl::SimpleAtoi(e.data.substr(at + 10, e.data.find(',', at) - at - 10), &n))
        << e.data;
    EXPECT_NE(e.data.find(absl::StrCat("\"", channel, "\":")), std::string::npos) << e.data;
    counted += n;
  }
  EXPECT_LT(got.size(), pub.ids.size()) << "nothing was dropped";
  EXPECT_EQ(got.size() + counted, pub.ids.size()) << "a gap without a notice";
  EXPECT_EQ(got.back().data, Payload(count - 1, bytes));
  std::vector<std::string> ids = EventIds(got);
  EXPECT_EQ(CheckIdsIncreasing(ids), "") << Summarize(ids);
  for (const auto& e : got) {
    int i = PayloadIndex(e.data);
    ASSERT_GE(i, 0) << "unexpected data " << e.data.substr(0, 40);
    ASSERT_LT(i, count);
    EXPECT_EQ(e.id, pub.ids[i]) << "payload #" << i << " arrived with another id";
  }

  // Still live afterwards.
  std::string after = grpc.MustPublish(MakePublish(channel, "after", "value")).id();
  ASSERT_TRUE(slow.WaitForData("after", kWait)) << slow.Describe();
  EXPECT_EQ(slow.events().back().id, after);
}

// Readers that keep up get every event of a latest-only channel, however
// fast they come: coalescing is for readers that are behind (issue 21).
TEST(SlowConsumerTest, LatestOnlyDeliversABurstToReadersThatKeepUp) {
  auto bridge = StartBridge({"--channel_policies=dash.*=latest-only"});
  ASSERT_NE(bridge, nullptr);
  constexpr int kReaders = 10;
  constexpr int kBurst = 9;
  std::vector<std::unique_ptr<SseClient>> readers;
  for (int i = 0; i < kReaders; ++i) {
    readers.push_back(std::make_unique<SseClient>());
    ASSERT_TRUE(readers.back()->Open(bridge->http_port(), EventsTarget({"dash.cpu"})))
        << readers.back()->error();
  }
  GrpcClient grpc(bridge->grpc_port());
  ASSERT_EQ(grpc.MustPublish(MakePublish("dash.cpu", "warm", "value")).subscribers(),
            static_cast<uint32_t>(kReaders));
  for (auto& r : readers) ASSERT_TRUE(r->WaitForData("warm", kWait)) << r->Describe();
  std::vector<v1::PublishRequest> burst;
  for (int i = 0; i < kBurst; ++i) {
    burst.push_back(MakePublish("dash.cpu", absl::StrCat("v", i), "value"));
  }
  grpc::Status status;
  std::vector<v1::PublishResponse> resps = PublishAllOnOneStream(grpc.publisher(), burst, &status);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(resps.size(), burst.size());
  const std::string last = absl::StrCat("v", kBurst - 1);
  for (auto& r : readers) {
    ASSERT_TRUE(r->WaitForData(last, kWait)) << r->Describe();
    std::vector<std::string> data;
    for (const SseEvent& e : r->events()) data.push_back(e.data);
    std::vector<std::string> want = {"warm"};
    for (int i = 0; i < kBurst; ++i) want.push_back(absl::StrCat("v", i));
    EXPECT_EQ(data, want) << "a reader that keeps up lost values";
  }
}

// Small events (4 KiB against a 64 KiB queue).
TEST(SlowConsumerTest, LatestOnlyPolicyKeepsSlowStreamWithNewestValue) {
  ExpectKeepsNewest("--channel_policies=dash.*=latest-only", "dash.cpu", 4096, 2000);
}

TEST(SlowConsumerTest, DropOldestPolicyKeepsSlowStreamWithNewestValue) {
  ExpectKeepsNewest("--channel_policies=drop.*=drop-oldest", "drop.feed", 4096, 2000);
}

TEST(SlowConsumerTest, ExactAndWildcardPatternsSelectPolicies) {
  // "exact" names one channel; "*" covers the rest.
  ExpectKeepsNewest("--channel_policies=ticker=disconnect,*=latest-only", "anything", 4096, 2000);
}

// Large events (60 KiB against a 64 KiB queue): an event that fits the
// queue on its own must not turn latest-only / drop-oldest into disconnect.
TEST(SlowConsumerTest, LatestOnlyKeepsSlowStreamWithEventsNearQueueSize) {
  ExpectKeepsNewest("--channel_policies=dash.*=latest-only", "dash.cpu");
}

TEST(SlowConsumerTest, DropOldestKeepsSlowStreamWithEventsNearQueueSize) {
  ExpectKeepsNewest("--channel_policies=drop.*=drop-oldest", "drop.feed");
}

TEST(SlowConsumerTest, ExactPatternOverridesWildcardToDisconnect) {
  auto bridge =
      StartBridge({"--queue_bytes=65536", "--channel_policies=ticker=disconnect,*=latest-only"});
  ASSERT_NE(bridge, nullptr);
  GrpcClient grpc(bridge->grpc_port());
  SseClient slow;
  ASSERT_TRUE(slow.Open(bridge->http_port(), EventsTarget({"ticker"}), SlowOptions()))
      << slow.error();
  Published pub = PublishPile(&grpc, "ticker", "", /*stop_at_zero=*/true, nullptr);
  EXPECT_TRUE(pub.saw_zero_subscribers) << "ticker should use disconnect";
  EXPECT_TRUE(slow.WaitForClose(kWait)) << slow.Describe();
}

}  // namespace
}  // namespace ssebridge_it
