// Retained values (retain=true): the latest event per (channel, event type)
// goes to each new subscriber before live events.
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/integration/bridge_process.h"
#include "tests/integration/grpc_client.h"
#include "tests/integration/http_request.h"
#include "tests/integration/sse_client.h"
#include "tests/integration/test_helpers.h"

namespace ssebridge_it {
namespace {

class RetainedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    bridge_ = StartBridge();
    ASSERT_NE(bridge_, nullptr);
    grpc_ = std::make_unique<GrpcClient>(bridge_->grpc_port());
  }
  int http_port() const { return bridge_->http_port(); }
  std::unique_ptr<BridgeProcess> bridge_;
  std::unique_ptr<GrpcClient> grpc_;
};

TEST_F(RetainedTest, NewSubscriberGetsLatestValuePerEventTypeBeforeLive) {
  grpc_->MustPublish(MakePublish("dash", "cpu=10", "cpu", true));
  std::string cpu_id = grpc_->MustPublish(MakePublish("dash", "cpu=20", "cpu", true)).id();
  std::string mem_id = grpc_->MustPublish(MakePublish("dash", "mem=1G", "mem", true)).id();
  grpc_->MustPublish(MakePublish("other", "elsewhere", "cpu", true));

  SseClient sse;
  ASSERT_TRUE(sse.Open(http_port(), EventsTarget({"dash"}))) << sse.error();
  ASSERT_TRUE(sse.WaitForEvents(2, kWait)) << sse.Describe();
  std::vector<std::string> first_two = {sse.events()[0].data, sse.events()[1].data};
  std::sort(first_two.begin(), first_two.end());
  EXPECT_EQ(first_two, (std::vector<std::string>{"cpu=20", "mem=1G"}));
  for (int i = 0; i < 2; ++i) {
    const SseEvent& e = sse.events()[i];
    if (e.data == "cpu=20") {
      EXPECT_EQ(e.event, "cpu");
      EXPECT_EQ(e.id, cpu_id);
    } else if (e.data == "mem=1G") {
      EXPECT_EQ(e.event, "mem");
      EXPECT_EQ(e.id, mem_id);
    }
  }

  grpc_->MustPublish(MakePublish("dash", "live", "cpu"));
  ASSERT_TRUE(sse.WaitForData("live", kWait)) << sse.Describe();
  EXPECT_EQ(sse.events().size(), 3u) << Summarize(EventDatas(sse.events()));
}

TEST_F(RetainedTest, DefaultEventTypeAndSeveralChannels) {
  grpc_->MustPublish(MakePublish("d1", "one", "", true));
  grpc_->MustPublish(MakePublish("d2", "two", "", true));
  SseClient sse;
  ASSERT_TRUE(sse.Open(http_port(), EventsTarget({"d1", "d2"}))) << sse.error();
  ASSERT_TRUE(sse.WaitForEvents(2, kWait)) << sse.Describe();
  std::vector<std::string> got = EventDatas(sse.events());
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<std::string>{"one", "two"}));
  for (const auto& e : sse.events()) EXPECT_EQ(e.event, "message");
}

TEST_F(RetainedTest, NonRetainedEventsAreNotSentOnConnect) {
  grpc_->MustPublish(MakePublish("plain", "not kept"));
  SseClient sse;
  ASSERT_TRUE(sse.Open(http_port(), EventsTarget({"plain"}))) << sse.error();
  grpc_->MustPublish("plain", "live");
  ASSERT_TRUE(sse.WaitForData("live", kWait)) << sse.Describe();
  EXPECT_EQ(EventDatas(sse.events()), (std::vector<std::string>{"live"}));
}

TEST_F(RetainedTest, ResumingSubscriberGetsReplayNotRetainedAgain) {
  std::string id = grpc_->MustPublish(MakePublish("dash", "v1", "cpu", true)).id();
  SseClient sse;
  ASSERT_TRUE(sse.Open(http_port(), EventsTarget({"dash"}),
                       {{{"Last-Event-ID", id}}}))
      << sse.error();
  grpc_->MustPublish(MakePublish("dash", "v2", "cpu", true));
  ASSERT_TRUE(sse.WaitForData("v2", kWait)) << sse.Describe();
  EXPECT_EQ(EventDatas(sse.events()), (std::vector<std::string>{"v2"}));
}

TEST_F(RetainedTest, RetainOverHttpAndGrpcSubscribe) {
  HttpResponse r = HttpPostJson(
      http_port(), "/v1/publish",
      R"({"channel":"board","event":"score","data":"3-1","retain":true})");
  ASSERT_EQ(r.status, 200) << r.error << r.body;
  GrpcSubscription sub(grpc_.get(), {"board"});
  ASSERT_TRUE(sub.WaitForEvents(1, kWait)) << sub.status().error_message();
  EXPECT_EQ(sub.events()[0].data(), "3-1");
  EXPECT_EQ(sub.events()[0].event(), "score");
  EXPECT_EQ(sub.events()[0].channel(), "board");

  SseClient sse;
  ASSERT_TRUE(sse.Open(http_port(), EventsTarget({"board"}))) << sse.error();
  ASSERT_TRUE(sse.WaitForEvents(1, kWait)) << sse.Describe();
  EXPECT_EQ(sse.events()[0].data, "3-1");
}

}  // namespace
}  // namespace ssebridge_it
