// Hostile HTTP clients against the real binary: request framing (issue 16,
// findings 3 and 10). Malformed or ambiguous framing (a bad Content-Length,
// a Transfer-Encoding other than exactly "chunked", both together, two
// different lengths, a bad chunk) gets 400 with a JSON body at once and the
// connection closed: nothing after it is read as another request. What is
// well-formed (chunks with extensions and trailers, Expect: 100-continue,
// pipelining) is served.
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/harness/bridge_process.h"
#include "tests/harness/hostile_wire.h"
#include "tests/harness/http_request.h"
#include "tests/harness/json_util.h"
#include "tests/harness/sse_client.h"
#include "tests/harness/test_helpers.h"

namespace ssebridge_it {
namespace {

struct BadFraming {
  std::string name;
  std::string raw;
  std::string names_what;  // a word the message must contain
};

const char kBody[] = R"({"channel":"frame","data":"smuggled"})";

std::vector<BadFraming> BadFramings() {
  const std::string body = kBody;
  const std::string len = absl::StrCat(body.size());
  // What would be read as a second request if the first one's end were
  // taken from the other header.
  const std::string next = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  const std::string chunked_body =
      absl::StrCat(absl::Hex(body.size()), "\r\n", body, "\r\n0\r\n\r\n");
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
      {"space before the colon", head("Transfer-Encoding : chunked\r\n") + chunked_body, "header"},
      {"gzip", head("Transfer-Encoding: gzip, chunked\r\n") + chunked_body, "Transfer-Encoding"},
      {"two Transfer-Encoding headers",
       head("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n") + chunked_body,
       "Transfer-Encoding"},
      {"folded header line", head("X-Folded: a\r\n b\r\nContent-Length: " + len + "\r\n") + body,
       "header"},
      {"bare LF",
       absl::StrCat("POST /v1/publish HTTP/1.1\r\nHost: x\nContent-Length: ", len, "\r\n\r\n",
                    body),
       "LF"},
      {"chunked in HTTP/1.0",
       absl::StrCat("POST /v1/publish HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
                    chunked_body),
       "Transfer-Encoding"},
      {"chunk size not hex", head("Transfer-Encoding: chunked\r\n") + "zz\r\n" + body, "chunk"},
      {"chunk size overflows",
       head("Transfer-Encoding: chunked\r\n") + "100000000000000000000000000000\r\n" + body,
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
  const std::string chunked =
      absl::StrCat(kPublishHead, "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
                   "5;ext=1\r\n", one.substr(0, 5), "\r\n", absl::Hex(one.size() - 5), "\r\n",
                   one.substr(5), "\r\n0\r\nX-Trailer: t\r\n\r\n");
  bool closed = false;
  std::string error;
  std::string got = SendRawHttp(port, chunked, kWait, &closed, &error);
  EXPECT_EQ(FirstResponse(got).status, 200) << got;
  ASSERT_TRUE(sse.WaitForData("one", kWait)) << sse.Describe();

  const std::string two = R"({"channel":"frame","data":"two"})";
  got = SendRawHttp(
      port,
      absl::StrCat(kPublishHead, "Content-Length: ", two.size(), "\r\nContent-Length: ", two.size(),
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

}  // namespace
}  // namespace ssebridge_it
