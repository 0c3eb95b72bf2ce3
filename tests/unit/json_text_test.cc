// JsonQuote: JSON string literals for the bridge's own small documents.
#include "bridge/core/json_text.h"

#include <string>

#include "gtest/gtest.h"

namespace ssebridge {
namespace {

TEST(JsonQuoteTest, Escapes) {
  EXPECT_EQ(JsonQuote(""), "\"\"");
  EXPECT_EQ(JsonQuote("plain"), "\"plain\"");
  EXPECT_EQ(JsonQuote("a\"b"), "\"a\\\"b\"");
  EXPECT_EQ(JsonQuote("a\\b"), "\"a\\\\b\"");
  EXPECT_EQ(JsonQuote("l1\nl2\r\t"), "\"l1\\nl2\\r\\t\"");
  EXPECT_EQ(JsonQuote(std::string("\x01\x1f", 2)), "\"\\u0001\\u001f\"");
  EXPECT_EQ(JsonQuote(std::string("\0", 1)), "\"\\u0000\"");
  EXPECT_EQ(JsonQuote("\xC3\xA9"), "\"\xC3\xA9\"");  // UTF-8 passes through
}

TEST(JsonQuoteTest, ValidUtf8PassesThrough) {
  EXPECT_EQ(JsonQuote("\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80"),
            "\"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\"");
  EXPECT_EQ(JsonQuote("\x7F"), "\"\x7F\"");
}

TEST(JsonQuoteTest, InvalidUtf8BecomesReplacementCharacters) {
  EXPECT_EQ(JsonQuote("a\xFF"
                      "b"),
            "\"a\\ufffdb\"");
  EXPECT_EQ(JsonQuote("\x80"), "\"\\ufffd\"");
  EXPECT_EQ(JsonQuote("\xC0\x80"), "\"\\ufffd\\ufffd\"");             // overlong
  EXPECT_EQ(JsonQuote("\xED\xA0\x80"), "\"\\ufffd\\ufffd\\ufffd\"");  // surrogate
  EXPECT_EQ(JsonQuote("x\xE2\x82"), "\"x\\ufffd\\ufffd\"");           // truncated
  EXPECT_EQ(JsonQuote("\xE2\x82\xAC\xE2"), "\"\xE2\x82\xAC\\ufffd\"");
}

}  // namespace
}  // namespace ssebridge
