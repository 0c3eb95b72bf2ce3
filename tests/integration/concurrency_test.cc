// Many streams at once: 1,000 concurrent SSE streams on one channel, many
// channels side by side, and concurrent publishers.
#include <sys/resource.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/harness/bridge_process.h"
#include "tests/harness/grpc_client.h"
#include "tests/harness/sse_client.h"
#include "tests/harness/test_helpers.h"

namespace ssebridge_it {
namespace {

void RaiseFileLimit(rlim_t want) {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
  if (rl.rlim_cur >= want) return;
  rl.rlim_cur = std::min(want, rl.rlim_max);
  ::setrlimit(RLIMIT_NOFILE, &rl);
}

absl::Duration Remaining(absl::Time deadline) {
  return std::max(absl::ZeroDuration(), deadline - absl::Now());
}

// Connects every client first (requests in flight together), then waits for
// each one's head and opening bytes. All within one overall deadline.
void OpenAll(int port, const std::vector<std::string>& targets,
             std::vector<std::unique_ptr<SseClient>>* clients, absl::Time deadline) {
  SseClientOptions options;
  options.keep_raw = false;
  for (const auto& target : targets) {
    clients->push_back(std::make_unique<SseClient>());
    ASSERT_TRUE(clients->back()->Connect(port, target, options))
        << "client #" << clients->size() - 1 << ": " << clients->back()->error();
  }
  for (size_t i = 0; i < clients->size(); ++i) {
    SseClient& c = *(*clients)[i];
    ASSERT_TRUE(c.ReadHead(Remaining(deadline))) << "client #" << i << ": " << c.error();
    ASSERT_EQ(c.status(), 200) << "client #" << i;
    ASSERT_TRUE(c.ReadUntil([&] { return !c.comments().empty() && !c.retries().empty(); },
                            Remaining(deadline)))
        << "client #" << i << ": " << c.Describe();
  }
}

TEST(ConcurrencyTest, ThousandStreamsOnOneChannelAllGetTheEvent) {
  constexpr int kStreams = 1000;
  RaiseFileLimit(kStreams + 1024);
  auto bridge = StartBridge();
  ASSERT_NE(bridge, nullptr);
  GrpcClient grpc(bridge->grpc_port());
  absl::Time deadline = absl::Now() + absl::Seconds(180);

  std::vector<std::unique_ptr<SseClient>> clients;
  OpenAll(bridge->http_port(), std::vector<std::string>(kStreams, EventsTarget({"crowd"})),
          &clients, deadline);
  if (HasFatalFailure()) return;

  v1::PublishResponse resp = grpc.MustPublish(MakePublish("crowd", "to all", "hello"));
  EXPECT_EQ(resp.subscribers(), static_cast<uint32_t>(kStreams));
  int missing = 0;
  for (int i = 0; i < kStreams; ++i) {
    SseClient& c = *clients[i];
    if (!c.WaitForEvents(1, std::min(kWait, Remaining(deadline)))) {
      if (++missing <= 5) ADD_FAILURE() << "client #" << i << ": " << c.Describe();
      continue;
    }
    EXPECT_EQ(c.events()[0].id, resp.id()) << "client #" << i;
    EXPECT_EQ(c.events()[0].data, "to all") << "client #" << i;
    EXPECT_EQ(c.events()[0].event, "hello") << "client #" << i;
  }
  EXPECT_EQ(missing, 0) << "streams without the event";
  EXPECT_TRUE(bridge->Running());
}

TEST(ConcurrencyTest, ManyChannelsSideBySideStayIsolated) {
  constexpr int kChannels = 200;
  RaiseFileLimit(kChannels + 1024);
  auto bridge = StartBridge();
  ASSERT_NE(bridge, nullptr);
  GrpcClient grpc(bridge->grpc_port());
  absl::Time deadline = absl::Now() + absl::Seconds(120);
  std::vector<std::string> targets;
  for (int i = 0; i < kChannels; ++i) targets.push_back(EventsTarget({absl::StrCat("room", i)}));
  std::vector<std::unique_ptr<SseClient>> clients;
  OpenAll(bridge->http_port(), targets, &clients, deadline);
  if (HasFatalFailure()) return;

  std::vector<std::string> ids;
  for (int i = 0; i < kChannels; ++i) {
    v1::PublishResponse r = grpc.MustPublish(absl::StrCat("room", i), absl::StrCat("for room", i));
    EXPECT_EQ(r.subscribers(), 1u) << "room" << i;
    ids.push_back(r.id());
  }
  for (int i = 0; i < kChannels; ++i) {
    SseClient& c = *clients[i];
    ASSERT_TRUE(c.WaitForEvents(1, std::min(kWait, Remaining(deadline)))) << c.Describe();
    if (i == 0) {
      c.ReadFor(absl::Milliseconds(300));
    } else {
      c.Drain();
    }
    ASSERT_EQ(c.events().size(), 1u) << "room" << i << ": " << Summarize(EventDatas(c.events()));
    EXPECT_EQ(c.events()[0].data, absl::StrCat("for room", i));
    EXPECT_EQ(c.events()[0].id, ids[i]);
  }
}

TEST(ConcurrencyTest, ConcurrentPublishersReachEveryStreamInIdOrder) {
  constexpr int kStreams = 20;
  constexpr int kPublishers = 4;
  constexpr int kPerPublisher = 100;
  auto bridge = StartBridge();
  ASSERT_NE(bridge, nullptr);
  absl::Time deadline = absl::Now() + absl::Seconds(120);
  std::vector<std::unique_ptr<SseClient>> clients;
  OpenAll(bridge->http_port(), std::vector<std::string>(kStreams, EventsTarget({"fan"})), &clients,
          deadline);
  if (HasFatalFailure()) return;

  std::mutex mu;
  std::vector<std::string> all_ids;
  int failures = 0;
  std::vector<std::thread> publishers;
  for (int p = 0; p < kPublishers; ++p) {
    publishers.emplace_back([&, p] {
      GrpcClient grpc(bridge->grpc_port());
      std::vector<std::string> mine;
      for (int i = 0; i < kPerPublisher; ++i) {
        v1::PublishResponse r;
        grpc::Status s = grpc.Publish(MakePublish("fan", absl::StrCat("p", p, "-", i)), &r);
        if (s.ok()) mine.push_back(r.id());
      }
      std::lock_guard<std::mutex> lock(mu);
      failures += kPerPublisher - static_cast<int>(mine.size());
      if (!CheckIdsIncreasing(mine).empty()) failures += 1000;
      all_ids.insert(all_ids.end(), mine.begin(), mine.end());
    });
  }
  for (auto& t : publishers) t.join();
  ASSERT_EQ(failures, 0) << "failed publishes (or out-of-order ids in one publisher)";
  ASSERT_EQ(all_ids.size(), static_cast<size_t>(kPublishers * kPerPublisher));
  std::sort(all_ids.begin(), all_ids.end(), [](const std::string& a, const std::string& b) {
    ParsedId pa, pb;
    ParseEventId(a, &pa);
    ParseEventId(b, &pb);
    return pa.seq < pb.seq;
  });
  for (int i = 0; i < kStreams; ++i) {
    SseClient& c = *clients[i];
    ASSERT_TRUE(c.WaitForEvents(all_ids.size(), std::min(kWait, Remaining(deadline))))
        << "client #" << i << ": " << c.Describe();
    std::vector<std::string> got = EventIds(c.events());
    EXPECT_EQ(got, all_ids) << "client #" << i << " got " << Summarize(got);
  }
}

}  // namespace
}  // namespace ssebridge_it
