#include "bridge/http/request_assembler.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace ssebridge {
namespace {

using AssemblerState = RequestAssembler::State;

RequestLimits Limits() {
  RequestLimits l;
  l.max_body_bytes = 100;
  return l;
}

// Feeds `wire` one byte at a time (the worst split) until it is decided.
AssemblerState FeedBytes(RequestAssembler& a, const std::string& wire) {
  for (char c : wire) {
    a.Feed(absl::string_view(&c, 1));
    if (a.state() == AssemblerState::kRejected) break;
  }
  return a.state();
}

TEST(RequestAssemblerTest, ChunkedRequestComesOutWithItsLength) {
  const std::string wire =
      "POST /v1/publish HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
      "Expect: 100-continue\r\nX-Other: 1\r\n\r\n"
      "3\r\nabc\r\n2;e=1\r\nde\r\n0\r\nT: 1\r\n\r\nGET / HTTP/1.1\r\n";
  for (bool bytewise : {false, true}) {
    RequestAssembler a(Limits());
    if (bytewise) {
      FeedBytes(a, wire);
    } else {
      a.Feed(wire);
    }
    ASSERT_EQ(a.state(), AssemblerState::kComplete);
    EXPECT_EQ(a.head().method, "POST");
    EXPECT_EQ(a.TakeRequest(),
              "POST /v1/publish HTTP/1.1\r\nHost: x\r\nX-Other: 1\r\n"
              "Content-Length: 5\r\n\r\nabcde");
    EXPECT_EQ(a.TakeRest(), "GET / HTTP/1.1\r\n");
  }
}

TEST(RequestAssemblerTest, LengthBodyAndNoBody) {
  {
    RequestAssembler a(Limits());
    EXPECT_EQ(a.Feed("POST / HTTP/1.1\r\nContent-Length: 4\r\n\r\nab"), AssemblerState::kNeedBody);
    EXPECT_EQ(a.Feed("cdEF"), AssemblerState::kComplete);
    EXPECT_EQ(a.TakeRequest(), "POST / HTTP/1.1\r\nContent-Length: 4\r\n\r\nabcd");
    EXPECT_EQ(a.TakeRest(), "EF");
  }
  {
    RequestAssembler a(Limits());
    EXPECT_EQ(a.Feed("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"), AssemblerState::kComplete);
    EXPECT_EQ(a.TakeRequest(), "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  }
}

// The parsed head is held while the body is awaited: it counts, at its
// size on the wire, so many heads waiting for bodies are charged for.
TEST(RequestAssemblerTest, AParsedHeadStillCountsAsHeld) {
  RequestAssembler a(Limits());
  const std::string head =
      "POST / HTTP/1.1\r\nX-Padding: " + std::string(1000, 'p') + "\r\nContent-Length: 10\r\n\r\n";
  EXPECT_EQ(a.Feed(head), AssemblerState::kNeedBody);
  EXPECT_GE(a.buffered_bytes(), head.size());
  EXPECT_EQ(a.Feed("0123"), AssemblerState::kNeedBody);
  EXPECT_GE(a.buffered_bytes(), head.size() + 4);
}

TEST(RequestAssemblerTest, AwaitsContinueOnlyBeforeTheBody) {
  RequestAssembler a(Limits());
  a.Feed("POST / HTTP/1.1\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n");
  EXPECT_EQ(a.state(), AssemblerState::kNeedBody);
  EXPECT_TRUE(a.awaits_continue());
  a.Feed("a");
  EXPECT_FALSE(a.awaits_continue());
  RequestAssembler http10(Limits());
  http10.Feed("POST / HTTP/1.0\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n");
  EXPECT_FALSE(http10.awaits_continue());
}

TEST(RequestAssemblerTest, ChunkedBodyOverTheLimitIs413WhileItComes) {
  RequestAssembler a(Limits());
  a.Feed("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
  const std::string chunk = absl::StrCat("32\r\n", std::string(50, 'x'), "\r\n");
  EXPECT_EQ(a.Feed(chunk), AssemblerState::kNeedBody);
  EXPECT_EQ(a.Feed(chunk), AssemblerState::kNeedBody);  // exactly 100
  EXPECT_EQ(a.Feed("1\r\n"), AssemblerState::kRejected);
  EXPECT_EQ(a.reject_status(), 413);
  EXPECT_NE(a.reject_message().find("--max_body_bytes"), std::string::npos);
}

TEST(RequestAssemblerTest, RefusalsOfHeadAndBody) {
  RequestAssembler head(Limits());
  EXPECT_EQ(head.Feed("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"),
            AssemblerState::kRejected);
  EXPECT_EQ(head.reject_status(), 400);
  RequestAssembler body(Limits());
  EXPECT_EQ(FeedBytes(body, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nq\r\n"),
            AssemblerState::kRejected);
  EXPECT_EQ(body.reject_status(), 400);
  EXPECT_NE(body.reject_message().find("chunk"), std::string::npos);
}

}  // namespace
}  // namespace ssebridge
