// Oversized requests: a long request line or query (414), one huge header,
// many headers, a huge cookie (431), a body over the limit (413). Each gets
// its status with a JSON error body and the connection closed; 200 of them
// leave the bridge's RSS where it was; normal clients keep working.
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/harness/bridge_process.h"
#include "tests/harness/grpc_client.h"
#include "tests/harness/http_request.h"
#include "tests/harness/json_util.h"
#include "tests/harness/process_stats.h"
#include "tests/harness/sse_client.h"
#include "tests/harness/test_helpers.h"

namespace ssebridge_it {
namespace {

// RSS may grow by allocator caches and thread stacks touched once; not by
// anything proportional to the ~2 GB of oversized input sent.
constexpr int64_t kRssToleranceKib = 8 * 1024;

struct Oversized {
  std::string name;
  std::string raw;  // the whole request as sent
  int status;
  std::string error;       // the JSON "error" code
  std::string names_what;  // a word the message must contain
};

std::string Get(const std::string& target, const std::string& headers = "") {
  return absl::StrCat("GET ", target, " HTTP/1.1\r\nHost: x\r\n", headers, "\r\n");
}

std::vector<Oversized> Cases() {
  std::string many;
  for (int i = 0; i < 150; ++i) absl::StrAppend(&many, "X-H", i, ": v\r\n");
  std::string three_big;
  for (int i = 0; i < 3; ++i)
    absl::StrAppend(&three_big, "X-Big", i, ": ", std::string(7000, 'b'), "\r\n");
  return {
      {"request line", Get("/v1/events?channel=" + std::string(9000, 'c')), 414, "uri_too_long",
       "request line"},
      {"endless request line", "GET /" + std::string(4 << 20, 'a'), 414, "uri_too_long",
       "request line"},
      {"query", Get("/healthz?q=" + std::string(8200, 'q')), 414, "uri_too_long", "request line"},
      {"one huge header", Get("/healthz", "X-Huge: " + std::string(9000, 'h') + "\r\n"), 431,
       "header_too_large", "header"},
      {"endless header", "GET /healthz HTTP/1.1\r\nX-Endless: " + std::string(4 << 20, 'e'), 431,
       "header_too_large", "header"},
      {"headers over the total", Get("/healthz", three_big), 431, "header_too_large",
       "--max_header_bytes"},
      {"many headers", Get("/healthz", many), 431, "header_too_large", "--max_header_count"},
      {"huge cookie", Get("/v1/events?channel=a", "Cookie: s=" + std::string(20000, 'k') + "\r\n"),
       431, "header_too_large", "header"},
      {"body over the limit",
       absl::StrCat("POST /v1/publish HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    "Content-Length: ",
                    100 << 20, "\r\n\r\n", std::string(64 * 1024, 'z')),
       413, "payload_too_large", "body"},
  };
}

// Sends `raw` while reading: the bridge answers as soon as it has seen
// enough, and a client that keeps sending after the answer only wastes its
// own time. Stops sending once an answer is in; returns it once the bridge
// has closed the connection (error set otherwise).
HttpResponse SendOversized(int port, const std::string& raw) {
  HttpResponse r;
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  int fd = ConnectLoopback(port, 0, absl::Seconds(5), &r.error);
  if (fd < 0) return r;
  std::string bytes;
  size_t sent = 0;
  bool closed = false;
  while (!closed && absl::Now() < deadline) {
    const bool answered = bytes.find("\r\n\r\n") != std::string::npos;
    pollfd p{fd, static_cast<short>(POLLIN | (answered || sent == raw.size() ? 0 : POLLOUT)), 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
      char buf[16384];
      ssize_t n = ::recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
      if (n > 0) {
        bytes.append(buf, static_cast<size_t>(n));
      } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        closed = true;
      }
    } else if (p.revents & POLLOUT) {
      ssize_t n = ::send(fd, raw.data() + sent, std::min<size_t>(raw.size() - sent, 65536),
                         MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) sent += static_cast<size_t>(n);
    }
  }
  ::close(fd);
  if (!closed) r.error = "the bridge left the connection open";
  const size_t head_end = bytes.find("\r\n\r\n");
  if (head_end == std::string::npos) {
    r.error = absl::StrCat("no response head in: ", bytes.substr(0, 200));
    return r;
  }
  if (!ParseResponseHead(absl::string_view(bytes).substr(0, head_end), &r.status, &r.headers)) {
    r.error = "unparsable response head";
  }
  r.body = bytes.substr(head_end + 4);
  return r;
}

void ExpectRefused(const HttpResponse& r, const Oversized& c) {
  SCOPED_TRACE(c.name);
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(r.status, c.status) << r.error << " " << r.body;
  EXPECT_NE(r.Header("Content-Type").value_or("").find("json"), std::string::npos);
  google::protobuf::Struct json;
  ASSERT_TRUE(ParseJsonObject(r.body, &json)) << "not a JSON object: " << r.body;
  EXPECT_EQ(JsonString(json, "error"), c.error) << r.body;
  EXPECT_TRUE(absl::StrContains(JsonString(json, "message"), c.names_what)) << r.body;
}

TEST(FaultOversizeTest, RefusedWithStatusAndJsonAndNoMemoryGrowth) {
  auto bridge = StartBridge({"--max_body_bytes=65536"});
  ASSERT_NE(bridge, nullptr);
  const int port = bridge->http_port();
  GrpcClient grpc(bridge->grpc_port());
  SseClient sse;
  ASSERT_TRUE(sse.Open(port, EventsTarget({"big"}))) << sse.error();
  const std::vector<Oversized> cases = Cases();

  // Warm up: one of each, checked in detail; the allocator settles.
  for (const Oversized& c : cases) ExpectRefused(SendOversized(port, c.raw), c);
  grpc.MustPublish("big", "warm");
  ASSERT_TRUE(sse.WaitForData("warm", kWait)) << sse.Describe();
  const ProcessStats before = ReadProcessStats(bridge->pid());
  ASSERT_GT(before.rss_kib, 0);

  const absl::Time t0 = absl::Now();
  int refused = 0;
  for (int i = 0; i < 200 && absl::Now() < t0 + absl::Seconds(120); ++i) {
    const Oversized& c = cases[static_cast<size_t>(i) % cases.size()];
    HttpResponse r = SendOversized(port, c.raw);
    if (r.status == c.status && r.error.empty()) ++refused;
  }
  EXPECT_EQ(refused, 200);
  const ProcessStats after = ReadProcessStats(bridge->pid());
  std::printf("200 oversized requests in %s: %s -> %s\n",
              absl::FormatDuration(absl::Now() - t0).c_str(), before.Describe().c_str(),
              after.Describe().c_str());
  EXPECT_LE(after.rss_kib - before.rss_kib, kRssToleranceKib)
      << before.Describe() << " -> " << after.Describe();
  // No connection of theirs is left open (a little slack for the lingering
  // close of the last ones).
  EXPECT_LE(after.open_fds, before.open_fds + 2) << before.Describe() << " -> " << after.Describe();

  // Normal clients never noticed.
  EXPECT_EQ(HttpGet(port, "/healthz").status, 200);
  HttpResponse pub = HttpPostJson(port, "/v1/publish", R"({"channel":"big","data":"after"})");
  EXPECT_EQ(pub.status, 200) << pub.error << pub.body;
  ASSERT_TRUE(sse.WaitForData("after", kWait)) << sse.Describe();
  EXPECT_FALSE(sse.closed());
}

// Just under every limit is served.
TEST(FaultOversizeTest, RequestsAtTheLimitsAreServed) {
  auto bridge = StartBridge({"--max_body_bytes=65536", "--max_header_count=20"});
  ASSERT_NE(bridge, nullptr);
  const int port = bridge->http_port();
  // Request line of exactly 8192 bytes with its CRLF.
  std::string target = "/healthz?q=";
  const size_t fixed = std::string("GET  HTTP/1.1\r\n").size();
  target += std::string(8192 - fixed - target.size(), 'q');
  HttpResponse line = HttpGet(port, target);
  EXPECT_EQ(line.status, 200) << line.error << line.body;
  HeaderList headers;
  for (int i = 0; i < 17; ++i) headers.push_back({absl::StrCat("X-H", i), "v"});
  // + Host, Connection: close (the test client's own) = 19 lines.
  HttpResponse many = HttpRequest(port, "GET", "/healthz", "", headers);
  EXPECT_EQ(many.status, 200) << many.error << many.body;
  headers.push_back({"X-One-More", "v"});
  headers.push_back({"X-And-One-More", "v"});
  HttpResponse over = HttpRequest(port, "GET", "/healthz", "", headers);
  EXPECT_EQ(over.status, 431) << over.error << over.body;
  // A body of 60 KiB (invalid: data too large for the default event limit,
  // but read and answered 400, not 413).
  const std::string body =
      absl::StrCat(R"({"channel":"c","data":")", std::string(60 * 1024, 'd'), "\"}");
  HttpResponse post = HttpPostJson(port, "/v1/publish", body);
  EXPECT_EQ(post.status, 200) << post.error << post.body.substr(0, 200);
}

}  // namespace
}  // namespace ssebridge_it
