#include "bridge/http/http2_preface.h"

#include <string>

#include "gtest/gtest.h"

namespace ssebridge {
namespace {

TEST(GuessProtocolTest, WholePrefaceIsHttp2) {
  const std::string preface(kHttp2ClientPreface);
  EXPECT_EQ(GuessProtocol(preface), ProtocolGuess::kHttp2);
  // What follows it (the client's SETTINGS frame) does not matter.
  EXPECT_EQ(GuessProtocol(preface + std::string("\0\0\0\4\0\0\0\0\0", 9)), ProtocolGuess::kHttp2);
}

TEST(GuessProtocolTest, EveryProperStartIsUndecided) {
  const std::string preface(kHttp2ClientPreface);
  EXPECT_EQ(GuessProtocol(""), ProtocolGuess::kUndecided);
  for (size_t n = 1; n < preface.size(); ++n) {
    EXPECT_EQ(GuessProtocol(preface.substr(0, n)), ProtocolGuess::kUndecided) << n;
  }
}

TEST(GuessProtocolTest, Http1RequestsAreHttp1) {
  for (const char* request : {"GET /metrics HTTP/1.1\r\n", "POST /v1/publish HTTP/1.1\r\n",
                              "PUT / HTTP/1.1\r\n", "PATCH / HTTP/1.1\r\n", "PRI / HTTP/1.1\r\n",
                              "PRI * HTTP/1.1\r\n\r\n", "PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n"}) {
    EXPECT_EQ(GuessProtocol(request), ProtocolGuess::kHttp1) << request;
  }
  // A mismatch decides at once, however short.
  EXPECT_EQ(GuessProtocol("G"), ProtocolGuess::kHttp1);
  EXPECT_EQ(GuessProtocol("PU"), ProtocolGuess::kHttp1);
}

}  // namespace
}  // namespace ssebridge
