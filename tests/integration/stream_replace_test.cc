// ?stream=<key> (issue 15: a page changing its channels holds one stream):
// a new stream of the same user with the same key closes the open one
// (reason "replaced") before it is counted, so the bridge never holds both.
// Another user's stream, or the same user's with another key, stays.
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/harness/auth_fixture.h"
#include "tests/harness/bridge_process.h"
#include "tests/harness/hostile_wire.h"
#include "tests/harness/http_request.h"
#include "tests/harness/sse_client.h"
#include "tests/harness/test_helpers.h"

namespace ssebridge_it {
namespace {

long long Replaced(int admin_port) {
  HttpResponse r = HttpGet(admin_port, "/metrics");
  const std::string needle = "ssebridge_streams_closed_total{reason=\"replaced\"} ";
  const size_t at = r.body.find(needle);
  return at == std::string::npos ? -1 : std::stoll(r.body.substr(at + needle.size()));
}

class StreamReplaceTest : public AuthTest {};

TEST_F(StreamReplaceTest, SameUserAndKeyReplacesTheOpenStream) {
  ASSERT_TRUE(Start());
  const std::string ann = keys().UserToken("ann", {"*"});
  const std::string bo = keys().UserToken("bo", {"*"});
  SseClient first, bos, other_key;
  ASSERT_TRUE(first.Open(http_port(), "/v1/events?channel=a&stream=tab-1", BearerOptions(ann)))
      << first.Describe();
  ASSERT_TRUE(bos.Open(http_port(), "/v1/events?channel=a&stream=tab-1", BearerOptions(bo)))
      << bos.Describe();
  ASSERT_TRUE(other_key.Open(http_port(), "/v1/events?channel=a&stream=tab-2", BearerOptions(ann)))
      << other_key.Describe();
  // Each is live (attached) before the replacement.
  v1::PublishResponse r;
  ASSERT_TRUE(Backend().Publish(MakePublish("a", "before"), &r).ok());
  for (SseClient* c : {&first, &bos, &other_key}) {
    ASSERT_TRUE(c->WaitForData("before", kWait)) << c->Describe();
  }
  EXPECT_EQ(MetricValue(bridge_->admin_port(), "ssebridge_streams"), 3);

  SseClient second;
  ASSERT_TRUE(
      second.Open(http_port(), "/v1/events?channel=a&channel=b&stream=tab-1", BearerOptions(ann)))
      << second.Describe();
  // The gauge never counted four: the old stream was closed before the new
  // one was opened.
  EXPECT_EQ(MetricValue(bridge_->admin_port(), "ssebridge_streams"), 3);
  EXPECT_TRUE(first.WaitForClose(kWait)) << first.Describe();
  EXPECT_EQ(Replaced(bridge_->admin_port()), 1);

  ASSERT_TRUE(Backend().Publish(MakePublish("b", "after"), &r).ok());
  EXPECT_TRUE(second.WaitForData("after", kWait)) << second.Describe();
  ASSERT_TRUE(Backend().Publish(MakePublish("a", "still"), &r).ok());
  EXPECT_TRUE(bos.WaitForData("still", kWait)) << bos.Describe();
  EXPECT_TRUE(other_key.WaitForData("still", kWait)) << other_key.Describe();
  EXPECT_FALSE(bos.closed());
  EXPECT_FALSE(other_key.closed());
}

TEST_F(StreamReplaceTest, AnInvalidKeyIsRefusedNamingTheField) {
  ASSERT_TRUE(StartWith({}));
  for (const std::string& key :
       {std::string(), std::string(65, 'k'), std::string("a%20b"), std::string("tab.1")}) {
    HttpResponse r = HttpGet(http_port(), absl::StrCat("/v1/events?channel=a&stream=", key));
    ExpectJsonError(r, 400, "invalid_argument", "stream:");
  }
}

}  // namespace
}  // namespace ssebridge_it
