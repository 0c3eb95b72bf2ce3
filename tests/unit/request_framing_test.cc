#include "bridge/http/request_framing.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace ssebridge {
namespace {

using FramingState = RequestFraming::State;

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
  FramingState s = FramingState::kNeedMore;
  for (char c : req) {
    seen.push_back(c);
    s = f.Scan(seen);
    if (s != FramingState::kNeedMore) break;
  }
  ASSERT_EQ(s, FramingState::kHeadComplete);
  EXPECT_EQ(f.head_bytes(), req.find("\r\n\r\n") + 4);
  EXPECT_EQ(seen.size(), f.head_bytes());
  EXPECT_EQ(f.content_length(), 12u);
  EXPECT_FALSE(f.chunked());
}

TEST(RequestFramingTest, Chunked) {
  RequestFraming f(Small());
  EXPECT_EQ(f.Scan("POST / HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n"),
            FramingState::kHeadComplete);
  EXPECT_TRUE(f.chunked());
  EXPECT_EQ(f.body(), RequestFraming::Body::kChunked);
}

TEST(RequestFramingTest, RecordsTheHead) {
  RequestFraming f(Small());
  ASSERT_EQ(f.Scan("GET /v1/events?channel=a HTTP/1.0\r\nHost:  x \r\nX-A:\r\n\r\n"),
            FramingState::kHeadComplete);
  EXPECT_EQ(f.head().method, "GET");
  EXPECT_EQ(f.head().target, "/v1/events?channel=a");
  EXPECT_EQ(f.head().version, "HTTP/1.0");
  EXPECT_EQ(f.head().Header("host"), "x");
  EXPECT_EQ(f.head().Header("X-A"), "");
  EXPECT_EQ(f.head().headers.size(), 2u);
  EXPECT_EQ(f.body(), RequestFraming::Body::kNone);
}

// RFC 9112 2.2: a bare CR inside a line is read as a space, so it can
// neither end a line nor start a header of its own.
TEST(RequestFramingTest, BareCrIsReadAsASpace) {
  RequestFraming f(Small());
  ASSERT_EQ(f.Scan("GET / HTTP/1.1\r\nX-A: 1\rX-B: 2\r\n\r\n"), FramingState::kHeadComplete);
  ASSERT_EQ(f.head().headers.size(), 1u);
  EXPECT_EQ(f.head().Header("X-A"), "1 X-B: 2");
}

TEST(RequestFramingTest, ExpectContinue) {
  RequestFraming f(Small());
  EXPECT_EQ(f.Scan("POST / HTTP/1.1\r\nContent-Length: 10\r\nExpect: 100-Continue\r\n\r\n"),
            FramingState::kHeadComplete);
  EXPECT_TRUE(f.expect_continue());
}

TEST(RequestFramingTest, LongRequestLineIs414BeforeItEnds) {
  RequestFraming f(Small());
  EXPECT_EQ(f.Scan(std::string(100, 'a')), FramingState::kNeedMore);
  EXPECT_EQ(f.Scan(std::string(101, 'a')), FramingState::kRejected);
  EXPECT_EQ(f.reject_status(), 414);
  EXPECT_NE(f.reject_message().find("request line"), std::string::npos);
}

TEST(RequestFramingTest, HeaderLimitsAre431) {
  {
    RequestFraming f(Small());
    EXPECT_EQ(f.Scan(absl::StrCat("GET / HTTP/1.1\r\nA: ", std::string(300, 'x'))),
              FramingState::kRejected);
    EXPECT_EQ(f.reject_status(), 431);
    EXPECT_NE(f.reject_message().find("--max_header_bytes"), std::string::npos);
  }
  {
    RequestFraming f(Small());
    EXPECT_EQ(f.Scan("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n"),
              FramingState::kRejected);
    EXPECT_EQ(f.reject_status(), 431);
    EXPECT_NE(f.reject_message().find("--max_header_count"), std::string::npos);
  }
  {
    RequestLimits big = Small();
    big.max_header_bytes = 100000;
    RequestFraming f(big);
    EXPECT_EQ(
        f.Scan(absl::StrCat("GET / HTTP/1.1\r\nCookie: ", std::string(kMaxHeaderLineBytes, 'c'))),
        FramingState::kRejected);
    EXPECT_EQ(f.reject_status(), 431);
  }
  {
    RequestFraming f(Small());  // exactly at the count limit is fine
    EXPECT_EQ(f.Scan("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n"),
              FramingState::kHeadComplete);
  }
}

TEST(RequestFramingTest, ContentLengthOverLimitIs413) {
  RequestFraming f(Small());
  EXPECT_EQ(f.Scan("POST / HTTP/1.1\r\ncontent-length: 1001\r\n"), FramingState::kRejected);
  EXPECT_EQ(f.reject_status(), 413);
  RequestFraming ok(Small());
  EXPECT_EQ(ok.Scan("POST / HTTP/1.1\r\nContent-Length: 1000\r\n\r\n"),
            FramingState::kHeadComplete);
  RequestFraming same(Small());  // a repeated identical length is one length
  EXPECT_EQ(same.Scan("POST / HTTP/1.1\r\nContent-Length: 7\r\nContent-Length: 7\r\n\r\n"),
            FramingState::kHeadComplete);
  EXPECT_EQ(same.content_length(), 7u);
}

// Every framing RFC 9112 calls an error, or that two parsers could read
// differently, is a 400 naming the header, decided from the head alone.
TEST(RequestFramingTest, AmbiguousOrMalformedFramingIs400) {
  struct Case {
    const char* name;
    std::string head;
    const char* names_what;
  };
  const std::vector<Case> cases = {
      {"negative length", "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", "Content-Length"},
      {"overflowing length", "POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n",
       "Content-Length"},
      {"signed length", "POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\n", "Content-Length"},
      {"empty length", "POST / HTTP/1.1\r\nContent-Length: \r\n\r\n", "Content-Length"},
      {"hex length", "POST / HTTP/1.1\r\nContent-Length: 0x5\r\n\r\n", "Content-Length"},
      {"length list", "POST / HTTP/1.1\r\nContent-Length: 5, 5\r\n\r\n", "Content-Length"},
      {"two lengths", "POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
       "two different"},
      {"length and chunked",
       "POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
       "Transfer-Encoding together with Content-Length"},
      {"chunked and length",
       "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
       "Transfer-Encoding together with Content-Length"},
      {"chunked, identity", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked, identity\r\n\r\n",
       "Transfer-Encoding"},
      {"gzip, chunked", "POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
       "Transfer-Encoding"},
      {"identity", "POST / HTTP/1.1\r\nTransfer-Encoding: identity\r\n\r\n", "Transfer-Encoding"},
      {"two codings headers",
       "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
       "Transfer-Encoding"},
      {"chunked in 1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", "HTTP/1.0"},
      {"space before colon", "POST / HTTP/1.1\r\nTransfer-Encoding : chunked\r\n\r\n", "header"},
      {"folded line", "POST / HTTP/1.1\r\nX-A: 1\r\n chunked\r\n\r\n", "header"},
      {"no colon", "POST / HTTP/1.1\r\nX-A\r\n\r\n", "header"},
      {"empty name", "POST / HTTP/1.1\r\n: v\r\n\r\n", "header"},
      {"NUL in a value", std::string("POST / HTTP/1.1\r\nX-A: a") + '\0' + "b\r\n\r\n", "X-A"},
      {"bare LF", "POST / HTTP/1.1\r\nX-A: 1\n\r\n", "LF"},
      {"bare LF blank line", "POST / HTTP/1.1\r\nX-A: 1\r\n\n", "LF"},
      {"bare CR in the request line", "POST /\rx HTTP/1.1\r\n\r\n", "request line"},
      {"bare CR hiding a length", "POST / HTTP/1.1\r\nContent-Length: 1\r2\r\n\r\n",
       "Content-Length"},
      {"request line of two parts", "POST /\r\n\r\n", "request line"},
      {"double space", "POST  / HTTP/1.1\r\n\r\n", "request line"},
      {"version", "POST / HTTP/2.0\r\n\r\n", "version"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    RequestFraming f(Small());
    EXPECT_EQ(f.Scan(c.head), FramingState::kRejected);
    EXPECT_EQ(f.reject_status(), 400);
    EXPECT_NE(f.reject_message().find(c.names_what), std::string::npos) << f.reject_message();
  }
}

}  // namespace
}  // namespace ssebridge
