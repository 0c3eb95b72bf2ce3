// A publisher that pipelines publishes and never reads their answers, with a
// tiny receive window, until its answers fill the bridge's send buffer.
// Small publishes are answered on the HTTP reader thread, which also reads
// every other connection: an answer that finds the socket full must not make
// that thread wait. Another publisher is answered promptly, one request at a
// time, for as long as the flood lasts, and its events are delivered at once;
// the flooding connection is closed at the body deadline of the answer that
// could not be sent (--http_body_timeout).
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/harness/bridge_process.h"
#include "tests/harness/hostile_wire.h"
#include "tests/harness/http_request.h"
#include "tests/harness/http_wire.h"
#include "tests/harness/sse_client.h"
#include "tests/harness/test_helpers.h"

namespace ssebridge_it {
namespace {

// Longer than --http_body_timeout (6 s) plus a busy machine's slack.
constexpr absl::Duration kFloodStill = absl::Seconds(30);

// The bridge ended the connection (FIN or RST), whatever is still unread.
bool PeerEnded(int fd) {
  pollfd p{fd, POLLRDHUP, 0};
  return ::poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

TEST(HostileHttpUnreadAnswersTest, APublisherThatNeverReadsStallsNoOneElse) {
  // One connection may carry the whole flood (by default it is closed after
  // 100 requests, long before its answers could fill anything).
  auto bridge = StartBridge({"--http_body_timeout=6s", "--http_keepalive_requests=1000000"});
  ASSERT_NE(bridge, nullptr);
  const int port = bridge->http_port();
  SseClient calm;
  ASSERT_TRUE(calm.Open(port, EventsTarget({"calm"}))) << calm.error();
  SseClient flood_reader;
  ASSERT_TRUE(flood_reader.Open(port, EventsTarget({"flood"}))) << flood_reader.error();

  // ~4 MB of answers (about 200 bytes each) against a 4 KiB window: more
  // than the bridge's send buffer holds even when loopback's large segments
  // grow it to a megabyte or so.
  constexpr int kPipelined = 20000;
  std::string requests;
  for (int i = 0; i < kPipelined; ++i) {
    const std::string body = absl::StrCat(R"({"channel":"flood","data":"f)", i, "\"}");
    absl::StrAppend(&requests, kPublishHead, "Content-Length: ", body.size(), "\r\n\r\n", body);
  }
  std::string error;
  const int flood = ConnectLoopback(port, 4096, kWait, &error);
  ASSERT_GE(flood, 0) << error;
  // The bridge stops reading once the answers back up, so this send may
  // only end when the connection does (at the latest when Joined below shuts
  // it down); its own deadline is only a backstop.
  std::thread sender([&] {
    std::string send_error;
    (void)SendAll(flood, requests, absl::Now() + kFloodStill * 20, &send_error);
  });
  // On every way out, failed assertions included: the send ends, then the
  // thread.
  struct Joined {
    int fd;
    std::thread* thread;
    ~Joined() {
      ::shutdown(fd, SHUT_RDWR);
      thread->join();
      ::close(fd);
    }
  } joined{flood, &sender};
  ASSERT_TRUE(flood_reader.ReadUntil([&] { return flood_reader.events().size() >= 20; }, kWait))
      << flood_reader.Describe();

  // For as long as the flood lasts: one request at a time on a kept-alive
  // connection, each answered at once (a reader thread stuck on the flood
  // would hold them for seconds).
  const int calm_fd = ConnectLoopback(port, 0, kWait, &error);
  ASSERT_GE(calm_fd, 0) << error;
  std::string calm_buffer;
  int calm_sent = 0;
  // How long the flood takes to back up is how long the bridge needs to
  // answer megabytes of it: seconds on an idle machine, minutes under a
  // sanitizer on a busy one. So the loop is bounded by the flood standing
  // still (no new flood event for kFloodStill before the connection is
  // closed, which comes --http_body_timeout after the flood stops moving)
  // and by the flood running out (every request answered: nothing backed
  // up), never by the flood's length in time.
  size_t flood_seen = 0;
  absl::Time flood_moved = absl::Now();
  while (!PeerEnded(flood) && absl::Now() - flood_moved < kFloodStill &&
         flood_seen < static_cast<size_t>(kPipelined)) {
    flood_reader.Drain();
    ASSERT_FALSE(flood_reader.closed())
        << "the flood's reader was cut, so the flood's progress cannot be seen: "
        << flood_reader.Describe();
    if (flood_reader.events().size() > flood_seen) {
      flood_seen = flood_reader.events().size();
      flood_moved = absl::Now();
    }
    const absl::Time start = absl::Now();
    const std::string body = absl::StrCat(R"({"channel":"calm","data":"c)", calm_sent, "\"}");
    ASSERT_TRUE(SendAll(
        calm_fd, absl::StrCat(kPublishHead, "Content-Length: ", body.size(), "\r\n\r\n", body),
        start + kWait, &error))
        << error;
    HttpResponse r = ReadResponse(calm_fd, start + kWait, &calm_buffer);
    ASSERT_EQ(r.status, 200) << r.error << r.body;
    ++calm_sent;
    ASSERT_TRUE(calm.ReadUntil(
        [&] { return calm.events().size() >= static_cast<size_t>(calm_sent); }, kWait))
        << calm.Describe();
    ASSERT_LT(absl::Now() - start, kPrompt)
        << "publish " << calm_sent << " (answer and delivery) waited on the flood";
  }
  ::close(calm_fd);
  EXPECT_TRUE(PeerEnded(flood)) << "the flooding connection was never closed; " << flood_seen
                                << " of " << kPipelined << " flood events were delivered";

  ASSERT_GT(calm_sent, 0);
  EXPECT_EQ(calm.events().back().data, absl::StrCat("c", calm_sent - 1));
  EXPECT_EQ(HttpGet(port, "/healthz").status, 200);
}

}  // namespace
}  // namespace ssebridge_it
