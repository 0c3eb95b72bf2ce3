#include "bridge/sse/request_framing.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace ssebridge {
namespace {

using State = RequestFraming::State;

RequestLimits Small() {
  RequestLimits l;
  l.max_request_line_bytes = 100;
  l.max_header_bytes = 200;
  l.max_header_count = 3;
  l.max_body_bytes = 1000;
  return l;
}

TEST(RequestFramingTest, CompleteHeadFedByteByByte) {
  const std::string req =
      "POST /v1/publish HTTP/1.1\r\nHost: x\r\nContent-Length: 12\r\n\r\n{\"a\":\"b\"}xyz";
  RequestFraming f(Small());
  std::string seen;
  State s = State::kNeedMore;
  for (char c : req) {
    seen.push_back(c);
    s = f.Scan(seen);
    if (s != State::kNeedMore) break;
  }
  ASSERT_EQ(s, State::kHeadComplete);
  EXPECT_EQ(f.head_bytes(), req.find("\r\n\r\n") + 4);
  EXPECT_EQ(seen.size(), f.head_bytes());
  EXPECT_EQ(f.content_length(), 12u);
  EXPECT_FALSE(f.chunked());
}

TEST(RequestFramingTest, BareLfLinesAndChunked) {
  RequestFraming f(Small());
  EXPECT_EQ(f.Scan("GET / HTTP/1.1\nTransfer-Encoding: chunked\n\n"), State::kHeadComplete);
  EXPECT_TRUE(f.chunked());
}

TEST(RequestFramingTest, ExpectContinue) {
  RequestFraming f(Small());
  EXPECT_EQ(f.Scan("POST / HTTP/1.1\r\nContent-Length: 10\r\nExpect: 100-Continue\r\n\r\n"),
            State::kHeadComplete);
  EXPECT_TRUE(f.expect_continue());
}

TEST(RequestFramingTest, LongRequestLineIs414BeforeItEnds) {
  RequestFraming f(Small());
  EXPECT_EQ(f.Scan(std::string(100, 'a')), State::kNeedMore);
  EXPECT_EQ(f.Scan(std::string(101, 'a')), State::kRejected);
  EXPECT_EQ(f.reject_status(), 414);
  EXPECT_NE(f.reject_message().find("request line"), std::string::npos);
}

TEST(RequestFramingTest, HeaderLimitsAre431) {
  {
    RequestFraming f(Small());
    EXPECT_EQ(f.Scan(absl::StrCat("GET / HTTP/1.1\r\nA: ", std::string(300, 'x'))),
              State::kRejected);
    EXPECT_EQ(f.reject_status(), 431);
    EXPECT_NE(f.reject_message().find("--max_header_bytes"), std::string::npos);
  }
  {
    RequestFraming f(Small());
    EXPECT_EQ(f.Scan("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n"), State::kRejected);
    EXPECT_EQ(f.reject_status(), 431);
    EXPECT_NE(f.reject_message().find("--max_header_count"), std::string::npos);
  }
  {
    RequestLimits big = Small();
    big.max_header_bytes = 100000;
    RequestFraming f(big);
    EXPECT_EQ(f.Scan(absl::StrCat("GET / HTTP/1.1\r\nCookie: ",
                                  std::string(kMaxHeaderLineBytes, 'c'))),
              State::kRejected);
    EXPECT_EQ(f.reject_status(), 431);
  }
  {
    RequestFraming f(Small());  // exactly at the count limit is fine
    EXPECT_EQ(f.Scan("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n"), State::kHeadComplete);
  }
}

TEST(RequestFramingTest, ContentLengthOverLimitIs413) {
  RequestFraming f(Small());
  EXPECT_EQ(f.Scan("POST / HTTP/1.1\r\ncontent-length: 1001\r\n"), State::kRejected);
  EXPECT_EQ(f.reject_status(), 413);
  RequestFraming ok(Small());
  EXPECT_EQ(ok.Scan("POST / HTTP/1.1\r\nContent-Length: 1000\r\n\r\n"), State::kHeadComplete);
  RequestFraming junk(Small());  // left to cpp-httplib's 400
  EXPECT_EQ(junk.Scan("POST / HTTP/1.1\r\nContent-Length: -5\r\n\r\n"), State::kHeadComplete);
  EXPECT_EQ(junk.content_length(), 0u);
}

}  // namespace
}  // namespace ssebridge
