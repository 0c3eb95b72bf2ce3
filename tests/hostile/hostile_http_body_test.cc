// Hostile HTTP clients against the real binary: request bodies (issue 16,
// findings 1 and 2).
//  - A chunked body is refused with 413 as soon as it passes
//    --max_body_bytes, and the bridge's RSS stays where it was.
//  - POST /v1/publish without a valid credential is refused from its head,
//    before any body byte is sent.
//  - Clients that send a head and then no body hold no request thread, and
//    the bodies being received share --http_body_buffer_bytes.
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/harness/auth_fixture.h"
#include "tests/harness/bridge_process.h"
#include "tests/harness/hostile_wire.h"
#include "tests/harness/http_request.h"
#include "tests/harness/json_util.h"
#include "tests/harness/process_stats.h"
#include "tests/harness/sse_client.h"
#include "tests/harness/test_helpers.h"

namespace ssebridge_it {
namespace {

// Sends a chunked body in 64 KiB chunks until the bridge answers, the
// connection breaks, or `cap` bytes went out. Returns the bytes read.
std::string SendChunkedUntilRefused(int port, const std::string& head, size_t cap, size_t* sent) {
  *sent = 0;
  const int fd = Connect(port);
  if (fd < 0) return "";
  std::string error;
  std::string got;
  const absl::Time end = absl::Now() + absl::Seconds(60);
  if (!SendAll(fd, head, end, &error)) {
    ::close(fd);
    return got;
  }
  const std::string chunk =
      absl::StrCat(absl::Hex(64 * 1024), "\r\n", std::string(64 * 1024, 'z'), "\r\n");
  while (*sent < cap && absl::Now() < end && got.find("\r\n\r\n") == std::string::npos) {
    if (!SendAll(fd, chunk, std::min(end, absl::Now() + absl::Seconds(2)), &error)) {
      break;  // refused: the bridge stopped reading, or reset
    }
    *sent += chunk.size();
    char buf[4096];
    const ssize_t n = ::recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
    if (n > 0) got.append(buf, static_cast<size_t>(n));
    if (n == 0) break;
  }
  ReadToClose(fd, absl::Seconds(5), &got);
  ::close(fd);
  return got;
}

TEST(HostileHttpBodyTest, ChunkedBodyIs413AtTheLimitAndRssStaysBounded) {
  constexpr size_t kLimit = 64 * 1024;
  constexpr size_t kCap = 256u << 20;  // what the outside review sent
  auto bridge = StartBridge({absl::StrCat("--max_body_bytes=", kLimit)});
  ASSERT_NE(bridge, nullptr);
  const int port = bridge->http_port();
  ASSERT_EQ(HttpGet(port, "/healthz").status, 200);
  const ProcessStats before = ReadProcessStats(bridge->pid());
  ASSERT_GT(before.rss_kib, 0);
  const std::string head = absl::StrCat(kPublishHead, "Transfer-Encoding: chunked\r\n\r\n");
  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE(absl::StrCat("round ", round));
    size_t sent = 0;
    const absl::Time t0 = absl::Now();
    const std::string got = SendChunkedUntilRefused(port, head, kCap, &sent);
    const HttpResponse r = FirstResponse(got);
    std::printf("chunked body: refused after %zu bytes sent, in %s\n", sent,
                absl::FormatDuration(absl::Now() - t0).c_str());
    ASSERT_TRUE(r.ok()) << r.error << " after " << sent << " bytes";
    ExpectJsonError(r, 413, "payload_too_large", "--max_body_bytes");
    // The answer came near the limit: what was sent past it is what the
    // socket buffers held when the bridge stopped reading.
    EXPECT_LT(sent, size_t{32} << 20);
  }
  const ProcessStats after = ReadProcessStats(bridge->pid());
  std::printf("3 chunked bodies: %s -> %s\n", before.Describe().c_str(), after.Describe().c_str());
  EXPECT_LE(after.rss_peak_kib - before.rss_kib, 16 * 1024)
      << before.Describe() << " -> " << after.Describe();
  EXPECT_EQ(HttpGet(port, "/healthz").status, 200);
}

TEST(HostileHttpBodyTest, PublishCredentialIsCheckedFromTheHeadBeforeTheBody) {
  const AuthKeys& keys = AuthKeys::Get();
  auto bridge = StartBridge(keys.Flags());
  ASSERT_NE(bridge, nullptr);
  const int port = bridge->http_port();
  struct Case {
    std::string name;
    std::string headers;
    int status;
    std::string error;
    std::string head = kPublishHead;  // the request line and Host
  };
  const std::string subscriber_jwt = keys.UserToken("alice", {"frame"});
  const std::vector<Case> cases = {
      {"no credential, Content-Length", "Content-Length: 400000\r\n", 401, "unauthenticated"},
      // A fragment is cut before routing: it must not hide the publish.
      {"no credential, target with a fragment", "Content-Length: 400000\r\n", 401,
       "unauthenticated", "POST /v1/publish#frag HTTP/1.1\r\nHost: 127.0.0.1\r\n"},
      {"no credential, chunked", "Transfer-Encoding: chunked\r\n", 401, "unauthenticated"},
      {"unknown key", "Authorization: Bearer not-a-key\r\nContent-Length: 400000\r\n", 401,
       "unauthenticated"},
      {"subscriber JWT",
       absl::StrCat("Authorization: Bearer ", subscriber_jwt, "\r\nTransfer-Encoding: chunked\r\n"),
       403, "permission_denied"},
      {"no credential, Expect: 100-continue", "Content-Length: 400000\r\nExpect: 100-continue\r\n",
       401, "unauthenticated"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const int fd = Connect(port);
    ASSERT_GE(fd, 0);
    std::string error;
    // Only the head: the answer must not wait for a body.
    ASSERT_TRUE(SendAll(fd, absl::StrCat(c.head, c.headers, "\r\n"), absl::Now() + kWait, &error));
    const absl::Time t0 = absl::Now();
    std::string got;
    const bool closed = ReadToClose(fd, absl::Seconds(12), &got);
    const absl::Duration took = absl::Now() - t0;
    ::close(fd);
    EXPECT_TRUE(closed);
    EXPECT_LT(took, kPrompt) << got;
    EXPECT_FALSE(absl::StrContains(got, "100 Continue")) << got;
    const HttpResponse r = FirstResponse(got);
    ExpectJsonError(r, c.status, c.error, "authorization");
    if (c.status == 401) {
      EXPECT_TRUE(absl::StartsWith(r.Header("WWW-Authenticate").value_or(""), "Bearer"));
    }
  }
  // With its key, the same publish (sent with Expect) is served.
  const std::string body = R"({"channel":"frame","data":"with key"})";
  const int fd = Connect(port);
  ASSERT_GE(fd, 0);
  std::string error;
  ASSERT_TRUE(SendAll(fd,
                      absl::StrCat(kPublishHead, "Authorization: Bearer ", keys.backend_key,
                                   "\r\nContent-Length: ", body.size(),
                                   "\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n"),
                      absl::Now() + kWait, &error));
  std::string got;
  const absl::Time end = absl::Now() + kWait;
  while (got.find("\r\n\r\n") == std::string::npos &&
         RecvSome(fd, end, &got, &error) == RecvResult::kData) {
  }
  EXPECT_TRUE(absl::StartsWith(got, "HTTP/1.1 100 Continue")) << got;
  ASSERT_TRUE(SendAll(fd, body, absl::Now() + kWait, &error));
  EXPECT_TRUE(ReadToClose(fd, kWait, &got));
  ::close(fd);
  EXPECT_TRUE(absl::StrContains(got, "HTTP/1.1 200")) << got;
}

TEST(HostileHttpBodyTest, SilentBodySendersHoldNoRequestThread) {
  constexpr int kThreads = 2;
  constexpr int kSilent = 8;  // each kind
  constexpr absl::Duration kBodyTimeout = absl::Seconds(4);
  auto bridge =
      StartBridge({absl::StrCat("--http_threads=", kThreads),
                   absl::StrCat("--http_body_timeout=", absl::FormatDuration(kBodyTimeout))});
  ASSERT_NE(bridge, nullptr);
  const int port = bridge->http_port();
  std::vector<int> fds;
  const std::vector<std::string> heads = {
      absl::StrCat(kPublishHead, "Content-Length: 100000\r\n\r\n"),
      absl::StrCat(kPublishHead, "Transfer-Encoding: chunked\r\n\r\n"),
      // Part of a chunk, then nothing.
      absl::StrCat(kPublishHead, "Transfer-Encoding: chunked\r\n\r\n100\r\nabc"),
  };
  const absl::Time connected = absl::Now();
  for (int i = 0; i < kSilent; ++i) {
    for (const std::string& head : heads) {
      const int fd = Connect(port);
      ASSERT_GE(fd, 0);
      std::string error;
      ASSERT_TRUE(SendAll(fd, head, absl::Now() + kWait, &error)) << error;
      fds.push_back(fd);
    }
  }
  const absl::Time t0 = absl::Now();
  const HttpResponse health = HttpRequest(port, "GET", "/healthz", "", {}, kPrompt);
  const absl::Duration health_took = absl::Now() - t0;
  std::printf("healthz with %zu silent body senders: %s\n", fds.size(),
              absl::FormatDuration(health_took).c_str());
  EXPECT_EQ(health.status, 200) << health.error;
  EXPECT_LT(health_took, kPrompt);
  const HttpResponse pub =
      HttpRequest(port, "POST", "/v1/publish", R"({"channel":"frame","data":"fine"})",
                  {{"Content-Type", "application/json"}}, kPrompt);
  EXPECT_EQ(pub.status, 200) << pub.error << pub.body;
  // The healthz answer came while every silent sender was still connected.
  for (int fd : fds) EXPECT_TRUE(StillWaiting(fd));
  EXPECT_GE(MetricValue(bridge->admin_port(), "ssebridge_http_waiting_connections"),
            static_cast<long long>(fds.size()));

  // Each is cut at --http_body_timeout with a 408 that names it.
  for (int fd : fds) {
    std::string got;
    EXPECT_TRUE(ReadToClose(fd, kBodyTimeout + absl::Seconds(10), &got));
    ::close(fd);
    EXPECT_TRUE(absl::StartsWith(got, "HTTP/1.1 408")) << got;
    EXPECT_TRUE(absl::StrContains(got, "--http_body_timeout")) << got;
  }
  EXPECT_GE(absl::Now() - connected, kBodyTimeout - absl::Milliseconds(200));
}

// Bodies being received are held by the reader, not by threads; their sum
// over all connections is bounded by --http_body_buffer_bytes, and the
// request that would pass it is refused at once with 503 naming the flag.
TEST(HostileHttpBodyTest, BodiesBeingReceivedShareOneBudget) {
  constexpr size_t kBody = 128 * 1024;
  constexpr size_t kBudget = 256 * 1024;
  auto bridge = StartBridge({absl::StrCat("--max_body_bytes=", kBody),
                             absl::StrCat("--http_body_buffer_bytes=", kBudget)});
  ASSERT_NE(bridge, nullptr);
  const int port = bridge->http_port();
  const std::string head = absl::StrCat(kPublishHead, "Content-Length: ", kBody, "\r\n\r\n");
  const std::string most(kBody - 8 * 1024, 'b');  // 120 KiB of each body, never the rest
  std::vector<int> held;
  std::string error;
  for (int i = 0; i < 2; ++i) {
    const int fd = Connect(port);
    ASSERT_GE(fd, 0);
    ASSERT_TRUE(SendAll(fd, head + most, absl::Now() + kWait, &error)) << error;
    held.push_back(fd);
  }
  // Both partial bodies are in the reader's buffers.
  const absl::Time end = absl::Now() + kWait;
  long long receiving = 0;
  while (absl::Now() < end &&
         (receiving = MetricValue(bridge->admin_port(), "ssebridge_http_receiving_bytes")) <
             static_cast<long long>(2 * most.size())) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  ASSERT_GE(receiving, static_cast<long long>(2 * most.size()));
  EXPECT_LE(receiving, static_cast<long long>(kBudget));

  // A third would pass the budget: refused at once, the others kept.
  const int third = Connect(port);
  ASSERT_GE(third, 0);
  ASSERT_TRUE(SendAll(third, head + std::string(32 * 1024, 'c'), absl::Now() + kWait, &error));
  std::string got;
  const absl::Time t0 = absl::Now();
  EXPECT_TRUE(ReadToClose(third, absl::Seconds(12), &got));
  EXPECT_LT(absl::Now() - t0, kPrompt);
  ::close(third);
  ExpectJsonError(FirstResponse(got), 503, "unavailable", "--http_body_buffer_bytes");
  for (int fd : held) EXPECT_TRUE(StillWaiting(fd));

  // A small publish still fits; the held bodies, once finished, are served.
  const HttpResponse pub =
      HttpRequest(port, "POST", "/v1/publish", R"({"channel":"frame","data":"small"})",
                  {{"Content-Type", "application/json"}}, kPrompt);
  EXPECT_EQ(pub.status, 200) << pub.error << pub.body;
  for (int fd : held) {
    ASSERT_TRUE(SendAll(fd, std::string(kBody - most.size(), 'b'), absl::Now() + kWait, &error));
    got.clear();
    const absl::Time until = absl::Now() + kWait;
    while (got.find("}\n") == std::string::npos &&
           RecvSome(fd, until, &got, &error) == RecvResult::kData) {
    }
    ::close(fd);
    // Not JSON of a PublishRequest, but read whole and answered by the route.
    EXPECT_TRUE(absl::StartsWith(got, "HTTP/1.1 400")) << got.substr(0, 300);
    EXPECT_TRUE(absl::StrContains(got, "invalid_json")) << got.substr(0, 300);
  }
  EXPECT_EQ(MetricValue(bridge->admin_port(), "ssebridge_http_receiving_bytes"), 0);
}

}  // namespace
}  // namespace ssebridge_it
