// Hostile HTTP clients against the real binary: request framing (issue 16,
// findings 1, 2, 3 and 10).
//  - Malformed or ambiguous framing (a bad Content-Length, a Transfer-Encoding
//    other than exactly "chunked", both together, two different lengths, a
//    bad chunk) gets 400 with a JSON body at once and the connection closed:
//    nothing after it is read as another request.
//  - A chunked body is refused with 413 as soon as it passes --max_body_bytes,
//    and the bridge's RSS stays where it was.
//  - POST /v1/publish without a valid credential is refused from its head,
//    before any body byte is sent.
//  - Clients that send a head and then no body hold no request thread.
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/integration/auth_fixture.h"
#include "tests/integration/bridge_process.h"
#include "tests/integration/http_request.h"
#include "tests/integration/json_util.h"
#include "tests/integration/process_stats.h"
#include "tests/integration/sse_client.h"
#include "tests/integration/test_helpers.h"

namespace ssebridge_it {
namespace {

// A refusal must come at once, not at a deadline (the header and body
// timeouts are 10 s by default).
constexpr absl::Duration kPrompt = absl::Seconds(3);

size_t CountOf(const std::string& text, const std::string& needle) {
  size_t count = 0;
  for (size_t p = text.find(needle); p != std::string::npos; p = text.find(needle, p + 1)) {
    ++count;
  }
  return count;
}

// The first response in `bytes` (head and the rest as body).
HttpResponse FirstResponse(const std::string& bytes) {
  HttpResponse r;
  const size_t head_end = bytes.find("\r\n\r\n");
  if (head_end == std::string::npos) {
    r.error = absl::StrCat("no response head in: \"", bytes.substr(0, 200), "\"");
    return r;
  }
  if (!ParseResponseHead(absl::string_view(bytes).substr(0, head_end), &r.status,
                         &r.headers)) {
    r.error = "unparsable response head";
  }
  r.body = bytes.substr(head_end + 4);
  return r;
}

long long MetricValue(int port, const std::string& name) {
  HttpResponse r = HttpGet(port, "/metrics");
  for (absl::string_view line : absl::StrSplit(r.body, '\n')) {
    if (absl::StartsWith(line, name + " ")) {
      long long v = -1;
      if (absl::SimpleAtoi(line.substr(name.size() + 1), &v)) return v;
    }
  }
  return -1;
}

// True while the bridge has neither answered nor closed `fd`.
bool StillWaiting(int fd) {
  char c;
  const ssize_t n = ::recv(fd, &c, 1, MSG_DONTWAIT | MSG_PEEK);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

int Connect(int port) {
  std::string error;
  const int fd = ConnectLoopback(port, 0, absl::Seconds(5), &error);
  EXPECT_GE(fd, 0) << error;
  return fd;
}

// Reads until the bridge closes `fd` (or `timeout`); true when it closed.
bool ReadToClose(int fd, absl::Duration timeout, std::string* got) {
  const absl::Time end = absl::Now() + timeout;
  std::string error;
  RecvResult r = RecvResult::kData;
  while (r == RecvResult::kData) r = RecvSome(fd, end, got, &error);
  return r == RecvResult::kEof || r == RecvResult::kReset;
}

struct BadFraming {
  std::string name;
  std::string raw;
  std::string names_what;  // a word the message must contain
};

const char kPublishHead[] =
    "POST /v1/publish HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n";
const char kBody[] = R"({"channel":"frame","data":"smuggled"})";

std::vector<BadFraming> BadFramings() {
  const std::string body = kBody;
  const std::string len = absl::StrCat(body.size());
  // What would be read as a second request if the first one's end were
  // taken from the other header.
  const std::string next = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  const std::string chunked_body = absl::StrCat(absl::Hex(body.size()), "\r\n", body, "\r\n0\r\n\r\n");
  auto head = [](const std::string& headers) {
    return absl::StrCat(kPublishHead, headers, "\r\n");
  };
  return {
      {"negative Content-Length", head("Content-Length: -1\r\n") + body, "Content-Length"},
      {"overflowing Content-Length", head("Content-Length: 99999999999999999999999\r\n") + body,
       "Content-Length"},
      {"Content-Length with a sign", head("Content-Length: +" + len + "\r\n") + body,
       "Content-Length"},
      {"Content-Length list", head("Content-Length: " + len + ", " + len + "\r\n") + body,
       "Content-Length"},
      {"two different Content-Lengths",
       head("Content-Length: " + len + "\r\nContent-Length: 5\r\n") + body + next,
       "Content-Length"},
      {"Content-Length and Transfer-Encoding",
       head("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n") + chunked_body + next,
       "Transfer-Encoding"},
      {"Transfer-Encoding and Content-Length",
       head("Transfer-Encoding: chunked\r\nContent-Length: " + len + "\r\n") + chunked_body,
       "Transfer-Encoding"},
      {"chunked, identity", head("Transfer-Encoding: chunked, identity\r\n") + chunked_body,
       "Transfer-Encoding"},
      {"space before the colon", head("Transfer-Encoding : chunked\r\n") + chunked_body,
       "header"},
      {"gzip", head("Transfer-Encoding: gzip, chunked\r\n") + chunked_body, "Transfer-Encoding"},
      {"two Transfer-Encoding headers",
       head("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n") + chunked_body,
       "Transfer-Encoding"},
      {"folded header line", head("X-Folded: a\r\n b\r\nContent-Length: " + len + "\r\n") + body,
       "header"},
      {"bare LF", absl::StrCat("POST /v1/publish HTTP/1.1\r\nHost: x\nContent-Length: ", len,
                               "\r\n\r\n", body),
       "LF"},
      {"chunked in HTTP/1.0",
       absl::StrCat("POST /v1/publish HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
                    chunked_body),
       "Transfer-Encoding"},
      {"chunk size not hex", head("Transfer-Encoding: chunked\r\n") + "zz\r\n" + body, "chunk"},
      {"chunk size overflows", head("Transfer-Encoding: chunked\r\n") +
                                   "100000000000000000000000000000\r\n" + body,
       "chunk"},
      {"chunk without its CRLF",
       head("Transfer-Encoding: chunked\r\n") +
           absl::StrCat(absl::Hex(body.size()), "\r\n", body, "XY0\r\n\r\n"),
       "chunk"},
  };
}

TEST(HostileHttpFramingTest, MalformedFramingIs400WithJsonAtOnceAndClosed) {
  auto bridge = StartBridge();
  ASSERT_NE(bridge, nullptr);
  const int port = bridge->http_port();
  SseClient sse;
  ASSERT_TRUE(sse.Open(port, EventsTarget({"frame"}))) << sse.error();
  for (const BadFraming& c : BadFramings()) {
    SCOPED_TRACE(c.name);
    bool closed = false;
    std::string error;
    const absl::Time t0 = absl::Now();
    const std::string got = SendRawHttp(port, c.raw, absl::Seconds(12), &closed, &error);
    const absl::Duration took = absl::Now() - t0;
    EXPECT_TRUE(closed) << "the connection was left open: " << error;
    EXPECT_LT(took, kPrompt) << "answered or closed only at a deadline";
    const HttpResponse r = FirstResponse(got);
    ASSERT_TRUE(r.ok()) << r.error;
    EXPECT_EQ(r.status, 400) << got;
    EXPECT_EQ(CountOf(got, "HTTP/1.1 "), 1u) << "more than one response: " << got;
    EXPECT_TRUE(absl::StartsWith(r.Header("Content-Type").value_or(""), "application/json"));
    EXPECT_EQ(r.Header("Connection").value_or(""), "close");
    google::protobuf::Struct json;
    ASSERT_TRUE(ParseJsonObject(r.body, &json)) << "not a JSON object: " << r.body;
    EXPECT_EQ(JsonString(json, "error"), "bad_request") << r.body;
    EXPECT_TRUE(absl::StrContains(JsonString(json, "message"), c.names_what)) << r.body;
  }
  // None of them published anything.
  sse.ReadFor(absl::Milliseconds(200));
  EXPECT_TRUE(sse.events().empty()) << Summarize(EventDatas(sse.events()));
  EXPECT_EQ(HttpGet(port, "/healthz").status, 200);
}

// What the bridge does accept: a chunked body (with an extension and a
// trailer), Expect: 100-continue, a repeated identical Content-Length, and
// two requests pipelined on one connection.
TEST(HostileHttpFramingTest, WellFormedBodiesAreServed) {
  auto bridge = StartBridge();
  ASSERT_NE(bridge, nullptr);
  const int port = bridge->http_port();
  SseClient sse;
  ASSERT_TRUE(sse.Open(port, EventsTarget({"frame"}))) << sse.error();

  const std::string one = R"({"channel":"frame","data":"one"})";
  const std::string chunked = absl::StrCat(
      kPublishHead, "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n", "5;ext=1\r\n",
      one.substr(0, 5), "\r\n", absl::Hex(one.size() - 5), "\r\n", one.substr(5),
      "\r\n0\r\nX-Trailer: t\r\n\r\n");
  bool closed = false;
  std::string error;
  std::string got = SendRawHttp(port, chunked, kWait, &closed, &error);
  EXPECT_EQ(FirstResponse(got).status, 200) << got;
  ASSERT_TRUE(sse.WaitForData("one", kWait)) << sse.Describe();

  const std::string two = R"({"channel":"frame","data":"two"})";
  got = SendRawHttp(port,
                    absl::StrCat(kPublishHead, "Content-Length: ", two.size(),
                                 "\r\nContent-Length: ", two.size(),
                                 "\r\nConnection: close\r\n\r\n", two),
                    kWait, &closed, &error);
  EXPECT_EQ(FirstResponse(got).status, 200) << got;
  ASSERT_TRUE(sse.WaitForData("two", kWait)) << sse.Describe();

  // Expect: 100-continue: the interim answer comes before any body byte.
  const std::string three = R"({"channel":"frame","data":"three"})";
  int fd = Connect(port);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(SendAll(fd,
                      absl::StrCat(kPublishHead, "Content-Length: ", three.size(),
                                   "\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n"),
                      absl::Now() + kWait, &error));
  std::string interim;
  const absl::Time end = absl::Now() + kWait;
  while (interim.find("\r\n\r\n") == std::string::npos &&
         RecvSome(fd, end, &interim, &error) == RecvResult::kData) {
  }
  EXPECT_TRUE(absl::StartsWith(interim, "HTTP/1.1 100 Continue\r\n")) << interim;
  ASSERT_TRUE(SendAll(fd, three, absl::Now() + kWait, &error));
  got.clear();
  EXPECT_TRUE(ReadToClose(fd, kWait, &got));
  ::close(fd);
  EXPECT_EQ(CountOf(interim + got, "100 Continue"), 1u) << interim << got;
  EXPECT_TRUE(absl::StrContains(got, "HTTP/1.1 200")) << got;
  ASSERT_TRUE(sse.WaitForData("three", kWait)) << sse.Describe();

  // Pipelined: a chunked publish and a GET in one write, both answered.
  const std::string four = R"({"channel":"frame","data":"four"})";
  got = SendRawHttp(port,
                    absl::StrCat(kPublishHead, "Transfer-Encoding: chunked\r\n\r\n",
                                 absl::Hex(four.size()), "\r\n", four, "\r\n0\r\n\r\n",
                                 "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
                    kWait, &closed, &error);
  EXPECT_EQ(CountOf(got, "HTTP/1.1 200"), 2u) << got;
  EXPECT_TRUE(absl::StrContains(got, "{\"status\":\"ok\"}")) << got;
  ASSERT_TRUE(sse.WaitForData("four", kWait)) << sse.Describe();
}

// Sends a chunked body in 64 KiB chunks until the bridge answers, the
// connection breaks, or `cap` bytes went out. Returns the bytes read.
std::string SendChunkedUntilRefused(int port, const std::string& head, size_t cap,
                                    size_t* sent) {
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
  const std::string head =
      absl::StrCat(kPublishHead, "Transfer-Encoding: chunked\r\n\r\n");
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
  std::printf("3 chunked bodies: %s -> %s\n", before.Describe().c_str(),
              after.Describe().c_str());
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
  };
  const std::string subscriber_jwt = keys.UserToken("alice", {"frame"});
  const std::vector<Case> cases = {
      {"no credential, Content-Length", "Content-Length: 400000\r\n", 401, "unauthenticated"},
      {"no credential, chunked", "Transfer-Encoding: chunked\r\n", 401, "unauthenticated"},
      {"unknown key", "Authorization: Bearer not-a-key\r\nContent-Length: 400000\r\n", 401,
       "unauthenticated"},
      {"subscriber JWT", absl::StrCat("Authorization: Bearer ", subscriber_jwt,
                                      "\r\nTransfer-Encoding: chunked\r\n"),
       403, "permission_denied"},
      {"no credential, Expect: 100-continue",
       "Content-Length: 400000\r\nExpect: 100-continue\r\n", 401, "unauthenticated"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const int fd = Connect(port);
    ASSERT_GE(fd, 0);
    std::string error;
    // Only the head: the answer must not wait for a body.
    ASSERT_TRUE(SendAll(fd, absl::StrCat(kPublishHead, c.headers, "\r\n"),
                        absl::Now() + kWait, &error));
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
  auto bridge = StartBridge({absl::StrCat("--http_threads=", kThreads),
                             absl::StrCat("--http_body_timeout=",
                                          absl::FormatDuration(kBodyTimeout))});
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
  EXPECT_GE(MetricValue(port, "ssebridge_http_waiting_connections"),
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

}  // namespace
}  // namespace ssebridge_it
