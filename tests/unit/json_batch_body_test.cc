// SplitBatchBody: a batch POST /v1/publish body (JSON array or NDJSON) into
// its events' object text: the shapes it accepts, the bodies it refuses as a
// whole, and the count limit checked while scanning.
#include "bridge/publish/json_batch_body.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace ssebridge {
namespace {

using Views = std::vector<absl::string_view>;

absl::Status Split(absl::string_view body, BatchFormat format, Views* out, size_t max = 1000) {
  return SplitBatchBody(body, format, max, out);
}

std::vector<std::string> Strings(const Views& v) { return {v.begin(), v.end()}; }

TEST(JsonBatchBodyTest, ArrayGivesEachObjectsTextInOrder) {
  Views v;
  const std::string body =
      " \r\n[ {\"channel\":\"a\",\"data\":\"1\"} ,\n{\"channel\":\"b\",\"data\":\"[\\\"],}\"},"
      "{\"userIds\":[\"u1\",\"u2\"],\"retain\":true,\"x\":{\"n\":-1.5e+3,\"z\":null}} ]\n ";
  ASSERT_TRUE(Split(body, BatchFormat::kJsonArray, &v).ok());
  EXPECT_EQ(Strings(v),
            (std::vector<std::string>{
                R"({"channel":"a","data":"1"})", R"({"channel":"b","data":"[\"],}"})",
                R"({"userIds":["u1","u2"],"retain":true,"x":{"n":-1.5e+3,"z":null}})"}));
  // The views point into the body: nothing was copied.
  EXPECT_GE(v[0].data(), body.data());
  EXPECT_LT(v[2].data(), body.data() + body.size());
}

TEST(JsonBatchBodyTest, NdjsonIgnoresBlankLinesAndCarriageReturns) {
  Views v;
  const std::string body =
      "\n{\"channel\":\"a\",\"data\":\"1\"}\r\n   \r\n\t{\"channel\":\"b\",\"data\":\"2\"}  \n"
      "{\"channel\":\"c\",\"data\":\"3\"}";  // no final newline
  ASSERT_TRUE(Split(body, BatchFormat::kNdjson, &v).ok());
  EXPECT_EQ(Strings(v), (std::vector<std::string>{R"({"channel":"a","data":"1"})",
                                                  R"({"channel":"b","data":"2"})",
                                                  R"({"channel":"c","data":"3"})"}));
}

TEST(JsonBatchBodyTest, ArrayThatIsNotJsonIsRefusedWhole) {
  for (const char* body : {
           "",
           "   ",
           "{\"channel\":\"a\"}",
           "[",
           "[{}",
           "[{},]",
           "[{} {}]",
           "[{},,{}]",
           "[1]",
           "[{}, 2]",
           "[\"x\"]",
           "[[{}]]",
           "[null]",
           "[{}] x",
           "[{}][{}]",
           "[{\"a\":}]",
           "[{\"a\" 1}]",
           "[{a:1}]",
           "[{\"a\":1,}]",
           "[{\"a\":tru}]",
           "[{\"a\":01}]",
           "[{\"a\":1.}]",
           "[{\"a\":1e}]",
           "[{\"a\":-}]",
           "[{\"a\":\"x}]",
           "[{\"a\":\"\\x\"}]",
           "[{\"a\":\"\\u12g4\"}]",
           "[{\"a\":\"tab\there\"}]",
           "[{\"a\":\"\\u12\"}]",
           "[{\"a\":[1,]}]",
           "[{\"a\":'x'}]",
       }) {
    Views v;
    absl::Status s = Split(body, BatchFormat::kJsonArray, &v);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << body;
    EXPECT_EQ(s.message().substr(0, 6), "body: ") << body << " -> " << s.message();
  }
}

TEST(JsonBatchBodyTest, NdjsonLineThatIsNotOneObjectNamesTheLine) {
  struct Case {
    const char* body;
    const char* line;
  };
  for (const Case& c : std::vector<Case>{
           {"{}\n[{}]\n", "line 2: "},
           {"{}\n\n{} {}\n", "line 3: "},
           {"{\"a\":1}\n\"x\"", "line 2: "},
           {"{\"a\":\n1}", "line 1: "},  // an object may not span lines
           {"{\"a\":1,}", "line 1: "},
           {"{}\r\n{}x\r\n", "line 2: "},
       }) {
    Views v;
    absl::Status s = Split(c.body, BatchFormat::kNdjson, &v);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.body;
    EXPECT_EQ(s.message().substr(0, std::string(c.line).size()), c.line)
        << c.body << " -> " << s.message();
  }
}

TEST(JsonBatchBodyTest, EmptyBatchIsRefused) {
  for (const auto& [body, format] : std::vector<std::pair<std::string, BatchFormat>>{
           {"[]", BatchFormat::kJsonArray},
           {" [ \n ] ", BatchFormat::kJsonArray},
           {"", BatchFormat::kNdjson},
           {"\n\r\n  \n", BatchFormat::kNdjson},
       }) {
    Views v;
    absl::Status s = Split(body, format, &v);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << body;
    EXPECT_NE(s.message().find("empty batch"), absl::string_view::npos) << s.message();
  }
}

TEST(JsonBatchBodyTest, NestingDeeperThanTheLimitIsRefused) {
  const int ok_depth = kMaxBatchJsonDepth - 1;  // the event object is depth 1
  std::string fits = "[{\"a\":" + std::string(ok_depth, '[') + std::string(ok_depth, ']') + "}]";
  Views v;
  EXPECT_TRUE(Split(fits, BatchFormat::kJsonArray, &v).ok());
  // Far deeper than the limit: refused without recursing that deep.
  std::string deep = "[{\"a\":" + std::string(100000, '[') + std::string(100000, ']') + "}]";
  absl::Status s = Split(deep, BatchFormat::kJsonArray, &v);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("nested too deep"), absl::string_view::npos) << s.message();
}

TEST(JsonBatchBodyTest, CountLimitIsCheckedWhileScanning) {
  auto array_of = [](int n) {
    std::string body = "[";
    for (int i = 0; i < n; ++i) absl::StrAppend(&body, i ? "," : "", "{}");
    return body + "]";
  };
  auto lines_of = [](int n) {
    std::string body;
    for (int i = 0; i < n; ++i) body += "{}\n\n";
    return body;
  };
  Views v;
  EXPECT_TRUE(Split(array_of(10), BatchFormat::kJsonArray, &v, 10).ok());
  EXPECT_EQ(v.size(), 10u);
  EXPECT_TRUE(Split(lines_of(10), BatchFormat::kNdjson, &v, 10).ok());
  EXPECT_EQ(v.size(), 10u);

  absl::Status s = Split(array_of(11), BatchFormat::kJsonArray, &v, 10);
  EXPECT_EQ(s.code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(s.message(), "body: more than 10 events");
  s = Split(lines_of(11), BatchFormat::kNdjson, &v, 10);
  EXPECT_EQ(s.code(), absl::StatusCode::kOutOfRange);

  // The scan stops at the first event past the limit: what follows it
  // (here not even JSON) is never looked at.
  std::string garbage_after = array_of(11);
  garbage_after.back() = '?';
  EXPECT_EQ(Split(garbage_after, BatchFormat::kJsonArray, &v, 10).code(),
            absl::StatusCode::kOutOfRange);
}

TEST(JsonBatchBodyTest, WhichBodiesAreBatches) {
  EXPECT_TRUE(LooksLikeJsonArray("[{}]"));
  EXPECT_TRUE(LooksLikeJsonArray(" \r\n\t["));
  EXPECT_FALSE(LooksLikeJsonArray("{\"channel\":\"a\"}"));
  EXPECT_FALSE(LooksLikeJsonArray(""));
  EXPECT_FALSE(LooksLikeJsonArray("x["));

  EXPECT_TRUE(IsNdjsonContentType("application/x-ndjson"));
  EXPECT_TRUE(IsNdjsonContentType("Application/X-NDJSON; charset=utf-8"));
  EXPECT_TRUE(IsNdjsonContentType(" application/x-ndjson "));
  EXPECT_FALSE(IsNdjsonContentType("application/json"));
  EXPECT_FALSE(IsNdjsonContentType(""));
  EXPECT_FALSE(IsNdjsonContentType("application/x-ndjsonx"));
}

}  // namespace
}  // namespace ssebridge
