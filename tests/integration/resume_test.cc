// Resume with Last-Event-ID (header or lastEventId query): replay in order,
// then live, with no gap and no duplicate; ssebridge.reset when the cursor
// cannot be honoured (too old, other epoch, ahead, malformed).
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/harness/bridge_process.h"
#include "tests/harness/grpc_client.h"
#include "tests/harness/json_util.h"
#include "tests/harness/sse_client.h"
#include "tests/harness/test_helpers.h"

namespace ssebridge_it {
namespace {

SseClientOptions WithLastEventId(const std::string& id) {
  SseClientOptions o;
  o.headers.emplace_back("Last-Event-ID", id);
  return o;
}

// Checks that `ev` is a reset with `reason`, carrying `head_id` (when
// non-empty) as its id.
void ExpectReset(const std::string& event_type, const std::string& data, const std::string& id,
                 const std::string& reason, const std::string& head_id) {
  EXPECT_EQ(event_type, "ssebridge.reset");
  google::protobuf::Struct json;
  ASSERT_TRUE(ParseJsonObject(data, &json)) << "reset data is not JSON: " << data;
  EXPECT_EQ(JsonString(json, "reason"), reason) << data;
  ParsedId pid;
  EXPECT_TRUE(ParseEventId(id, &pid)) << "the reset carries an id, got \"" << id << "\"";
  if (!head_id.empty()) {
    EXPECT_EQ(id, head_id) << "the reset id should be the head";
  }
}

class ResumeTest : public ::testing::Test {
 protected:
  void Start(std::vector<std::string> flags = {}) {
    bridge_ = StartBridge(std::move(flags));
    ASSERT_NE(bridge_, nullptr);
    grpc_ = std::make_unique<GrpcClient>(bridge_->grpc_port());
  }
  void SetUp() override { Start(); }
  int http_port() const { return bridge_->http_port(); }

  std::unique_ptr<BridgeProcess> bridge_;
  std::unique_ptr<GrpcClient> grpc_;
};

TEST_F(ResumeTest, ReplaysWhatWasMissedOnSeveralChannelsThenGoesLive) {
  std::string cursor;
  {
    SseClient first;
    ASSERT_TRUE(first.Open(http_port(), EventsTarget({"a", "b"}))) << first.error();
    grpc_->MustPublish("a", "a1");
    grpc_->MustPublish("b", "b1");
    ASSERT_TRUE(first.WaitForEvents(2, kWait)) << first.Describe();
    cursor = first.events().back().id;
    EXPECT_EQ(first.events().back().data, "b1");
  }
  // Published while the client is away; "x" is not subscribed.
  std::vector<std::string> missed_ids = {grpc_->MustPublish("a", "a2").id(),
                                         grpc_->MustPublish("b", "b2").id()};
  grpc_->MustPublish("x", "x1");
  missed_ids.push_back(grpc_->MustPublish("a", "a3").id());

  SseClient again;
  ASSERT_TRUE(again.Open(http_port(), EventsTarget({"a", "b"}), WithLastEventId(cursor)))
      << again.error();
  ASSERT_TRUE(again.WaitForEvents(3, kWait)) << again.Describe();
  EXPECT_EQ(EventDatas(again.events()), (std::vector<std::string>{"a2", "b2", "a3"}));
  EXPECT_EQ(EventIds(again.events()), missed_ids);

  std::string live = grpc_->MustPublish("b", "b3").id();
  ASSERT_TRUE(again.WaitForEvents(4, kWait)) << again.Describe();
  again.ReadFor(absl::Milliseconds(200));
  ASSERT_EQ(again.events().size(), 4u) << Summarize(EventDatas(again.events()));
  EXPECT_EQ(again.events()[3].id, live);
  EXPECT_EQ(again.events()[3].data, "b3");
}

TEST_F(ResumeTest, QueryParameterCursorWorksAndHeaderWinsOverIt) {
  std::vector<std::string> ids;
  for (int i = 1; i <= 3; ++i) ids.push_back(grpc_->MustPublish("q", absl::StrCat("q", i)).id());

  SseClient by_query;
  ASSERT_TRUE(by_query.Open(http_port(), EventsTarget({"q"}, ids[0]))) << by_query.error();
  ASSERT_TRUE(by_query.WaitForEvents(2, kWait)) << by_query.Describe();
  EXPECT_EQ(EventDatas(by_query.events()), (std::vector<std::string>{"q2", "q3"}));

  SseClient both;
  ASSERT_TRUE(both.Open(http_port(), EventsTarget({"q"}, ids[0]), WithLastEventId(ids[1])))
      << both.error();
  grpc_->MustPublish("q", "q4");
  ASSERT_TRUE(both.WaitForData("q4", kWait)) << both.Describe();
  EXPECT_EQ(EventDatas(both.events()), (std::vector<std::string>{"q3", "q4"}));
}

TEST_F(ResumeTest, NoGapNoDuplicateWhenReconnectingWhilePublishing) {
  constexpr int kPublishes = 300;
  auto current = std::make_unique<SseClient>();
  ASSERT_TRUE(current->Open(http_port(), EventsTarget({"a", "b"}))) << current->error();

  std::mutex mu;
  std::vector<std::string> expected_ids;  // a/b events in publish order
  std::atomic<bool> publisher_done{false};
  std::atomic<int> publish_failures{0};
  std::atomic<bool> stop{false};
  std::thread publisher([&] {
    GrpcClient pub(bridge_->grpc_port());
    for (int i = 0; i < kPublishes && !stop; ++i) {
      const char* channel = i % 5 == 4 ? "c" : (i % 2 ? "b" : "a");
      v1::PublishResponse resp;
      grpc::Status s = pub.Publish(MakePublish(channel, absl::StrCat(channel, i)), &resp);
      if (!s.ok()) {
        ++publish_failures;
        continue;
      }
      if (channel[0] != 'c') {
        std::lock_guard<std::mutex> lock(mu);
        expected_ids.push_back(resp.id());
      }
      absl::SleepFor(absl::Milliseconds(3));  // pacing
    }
    publisher_done = true;
  });
  // Joins on every exit path (an ASSERT returns early).
  struct Joiner {
    std::thread* t;
    std::atomic<bool>* stop;
    ~Joiner() {
      *stop = true;
      if (t->joinable()) t->join();
    }
  } joiner{&publisher, &stop};

  std::vector<std::string> got_ids;
  std::vector<std::string> got_data;
  int reconnects = 0;
  absl::Time deadline = absl::Now() + absl::Seconds(90);
  for (int round = 0; round < 1000 && absl::Now() < deadline; ++round) {
    // Read a little on the current connection.
    size_t want = current->events().size() + 15;
    current->ReadUntil([&] { return current->events().size() >= want; }, absl::Milliseconds(150));
    ASSERT_FALSE(current->closed()) << current->Describe();
    if (publisher_done) break;
    if (got_ids.empty() && current->events().empty()) continue;
    // Disconnect and reconnect with the last id seen.
    for (const auto& e : current->events()) {
      got_ids.push_back(e.id);
      got_data.push_back(e.data);
    }
    std::string cursor = got_ids.back();
    current = std::make_unique<SseClient>();
    ASSERT_TRUE(current->Open(http_port(), EventsTarget({"a", "b"}), WithLastEventId(cursor)))
        << current->error();
    ++reconnects;
  }
  publisher.join();
  EXPECT_EQ(publish_failures.load(), 0);
  std::string last_expected;
  {
    std::lock_guard<std::mutex> lock(mu);
    ASSERT_FALSE(expected_ids.empty());
    last_expected = expected_ids.back();
  }
  ASSERT_TRUE(current->ReadUntil(
      [&] {
        const std::string& last = !current->events().empty() ? current->events().back().id
                                  : got_ids.empty()          ? std::string()
                                                             : got_ids.back();
        return last == last_expected;
      },
      kWait))
      << "never saw the last published id " << last_expected << "; " << current->Describe();
  for (const auto& e : current->events()) {
    got_ids.push_back(e.id);
    got_data.push_back(e.data);
  }
  EXPECT_GE(reconnects, 3) << "the publisher finished too fast to test much";
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(got_ids.size(), expected_ids.size())
      << "got " << Summarize(got_ids) << "\nexpected " << Summarize(expected_ids);
  for (size_t i = 0; i < std::min(got_ids.size(), expected_ids.size()); ++i) {
    if (got_ids[i] != expected_ids[i]) {
      ADD_FAILURE() << "first difference at #" << i << ": got " << got_ids[i] << " (" << got_data[i]
                    << "), expected " << expected_ids[i] << "\ngot " << Summarize(got_ids)
                    << "\nexpected " << Summarize(expected_ids);
      break;
    }
  }
}

TEST_F(ResumeTest, GrpcSubscribeResumesFromCursor) {
  std::vector<std::string> ids;
  for (int i = 1; i <= 3; ++i) ids.push_back(grpc_->MustPublish("g", absl::StrCat("g", i)).id());
  GrpcSubscription sub(grpc_.get(), {"g"}, ids[0]);
  ASSERT_TRUE(sub.WaitForEvents(2, kWait));
  std::string live = grpc_->MustPublish("g", "g4").id();
  ASSERT_TRUE(sub.WaitForEvents(3, kWait));
  EXPECT_EQ(EventIds(sub.events()), (std::vector<std::string>{ids[1], ids[2], live}));
}

class ResetTest : public ResumeTest {
 protected:
  void SetUp() override { Start({"--history_size=3"}); }

  // Publishes 10 events on "h"; returns their ids.
  std::vector<std::string> PublishTen() {
    std::vector<std::string> ids;
    for (int i = 1; i <= 10; ++i) {
      ids.push_back(grpc_->MustPublish("h", absl::StrCat("h", i)).id());
    }
    return ids;
  }
};

TEST_F(ResetTest, CursorOlderThanHistoryGetsResetThenResumesCleanly) {
  std::vector<std::string> ids = PublishTen();
  SseClient sse;
  ASSERT_TRUE(sse.Open(http_port(), EventsTarget({"h"}), WithLastEventId(ids[0]))) << sse.error();
  ASSERT_TRUE(sse.WaitForEvents(1, kWait)) << sse.Describe();
  const SseEvent reset = sse.events()[0];
  EXPECT_TRUE(reset.had_id_field);
  ExpectReset(reset.event, reset.data, reset.id, "cursor_too_old", ids[9]);

  std::string live = grpc_->MustPublish("h", "h11").id();
  ASSERT_TRUE(sse.WaitForData("h11", kWait)) << sse.Describe();
  EXPECT_EQ(sse.events().back().id, live);
  // Nothing after the reset goes back behind the cursor it handed out.
  std::vector<std::string> after = {reset.id};
  for (size_t i = 1; i < sse.events().size(); ++i) after.push_back(sse.events()[i].id);
  EXPECT_EQ(CheckIdsIncreasing(after), "") << Summarize(after);

  // Reconnecting with the reset's id resumes without another reset.
  SseClient again;
  ASSERT_TRUE(again.Open(http_port(), EventsTarget({"h"}), WithLastEventId(reset.id)))
      << again.error();
  grpc_->MustPublish("h", "h12");
  ASSERT_TRUE(again.WaitForData("h12", kWait)) << again.Describe();
  for (const auto& e : again.events()) {
    EXPECT_NE(e.event, "ssebridge.reset") << "unexpected second reset: " << e.data;
  }
  EXPECT_EQ(EventDatas(again.events()), (std::vector<std::string>{"h11", "h12"}));
}

TEST_F(ResetTest, CursorFromAnotherEpochGetsUnknownEpochReset) {
  std::vector<std::string> ids = PublishTen();
  ParsedId head;
  ASSERT_TRUE(ParseEventId(ids[9], &head));
  std::vector<std::string> cursors = {OtherEpoch(head.epoch) + "-5"};
  if (head.epoch != "zzz") cursors.push_back("zzz-1");
  for (const auto& cursor : cursors) {
    SCOPED_TRACE("Last-Event-ID: " + cursor);
    SseClient sse;
    ASSERT_TRUE(sse.Open(http_port(), EventsTarget({"h"}), WithLastEventId(cursor))) << sse.error();
    ASSERT_TRUE(sse.WaitForEvents(1, kWait)) << sse.Describe();
    ExpectReset(sse.events()[0].event, sse.events()[0].data, sse.events()[0].id, "unknown_epoch",
                ids[9]);
  }
}

TEST_F(ResetTest, CursorAheadOfTheHeadGetsReset) {
  std::vector<std::string> ids = PublishTen();
  ParsedId head;
  ASSERT_TRUE(ParseEventId(ids[9], &head));
  std::string cursor = absl::StrCat(head.epoch, "-", head.seq + 1000);
  SseClient sse;
  ASSERT_TRUE(sse.Open(http_port(), EventsTarget({"h"}), WithLastEventId(cursor))) << sse.error();
  ASSERT_TRUE(sse.WaitForEvents(1, kWait)) << sse.Describe();
  ExpectReset(sse.events()[0].event, sse.events()[0].data, sse.events()[0].id, "cursor_ahead",
              ids[9]);
}

TEST_F(ResetTest, MalformedLastEventIdHeaderOpensStreamWithReset) {
  std::vector<std::string> ids = PublishTen();
  for (const std::string cursor : {"garbage", "12345", "abc-", "-7", "ab-cd"}) {
    SCOPED_TRACE("Last-Event-ID: " + cursor);
    SseClient sse;
    ASSERT_TRUE(sse.Open(http_port(), EventsTarget({"h"}), WithLastEventId(cursor)))
        << "a malformed header is not an error; " << sse.error();
    EXPECT_EQ(sse.status(), 200);
    ASSERT_TRUE(sse.WaitForEvents(1, kWait)) << sse.Describe();
    ExpectReset(sse.events()[0].event, sse.events()[0].data, sse.events()[0].id, "malformed_cursor",
                ids[9]);
  }
}

TEST_F(ResetTest, GrpcSubscribeWithStaleCursorGetsResetEvent) {
  std::vector<std::string> ids = PublishTen();
  GrpcSubscription sub(grpc_.get(), {"h"}, ids[0]);
  ASSERT_TRUE(sub.WaitForEvents(1, kWait)) << sub.status().error_message();
  v1::Event ev = sub.events()[0];
  ExpectReset(ev.event(), ev.data(), ev.id(), "cursor_too_old", ids[9]);
}

TEST_F(ResetTest, CursorStillInHistoryReplaysWithoutReset) {
  std::vector<std::string> ids = PublishTen();
  // history_size=3 keeps h8..h10; a cursor at h8 needs h9 and h10 only.
  SseClient sse;
  ASSERT_TRUE(sse.Open(http_port(), EventsTarget({"h"}), WithLastEventId(ids[7]))) << sse.error();
  ASSERT_TRUE(sse.WaitForEvents(2, kWait)) << sse.Describe();
  EXPECT_EQ(EventDatas(sse.events()), (std::vector<std::string>{"h9", "h10"}));
}

}  // namespace
}  // namespace ssebridge_it
