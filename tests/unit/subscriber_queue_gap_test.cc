// SubscriberQueue (issue 21): latest-only coalesces only for a reader that
// is behind, and every drop or replacement leaves an `ssebridge.dropped`
// notice with counts where the gap is.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "bridge/core/subscriber_queue.h"
#include "bridge/sse/sse_encoder.h"
#include "gtest/gtest.h"
#include "tests/unit/queued_events.h"

namespace ssebridge {
namespace {

// Each queued entry: an event's tag, or "dropped <data>" for a notice.
std::vector<std::string> Entries(SubscriberQueue* q) {
  std::vector<EventPtr> all;
  q->TakeAll(&all);
  std::vector<std::string> out;
  for (const EventPtr& e : all) {
    if (e->type == kDroppedEventType) {
      EXPECT_TRUE(e->id.empty()) << "a notice must not move the cursor";
      out.push_back(absl::StrCat("dropped ", e->data));
    } else {
      out.push_back(e->id);
    }
  }
  return out;
}

TEST(SubscriberQueueGapTest, LatestOnlyDeliversABurstToAReaderThatKeepsUp) {
  SubscriberQueue q(1000);
  uint64_t dropped = 0;
  // Nine values of one gauge in a burst: 90 of 1000 bytes unwritten.
  for (int i = 1; i <= 9; ++i) {
    ASSERT_EQ(q.Push(Ev(absl::StrCat("cpu", i), 10, "dash", "cpu"), kLatest, &dropped),
              PR::kQueued);
  }
  EXPECT_EQ(dropped, 0u);
  EXPECT_EQ(Entries(&q),
            (Tags{"cpu1", "cpu2", "cpu3", "cpu4", "cpu5", "cpu6", "cpu7", "cpu8", "cpu9"}));
}

TEST(SubscriberQueueGapTest, LatestOnlyCoalescesOnceTheReaderIsBehind) {
  SubscriberQueue q(100);
  uint64_t dropped = 0;
  // 40 bytes of other values, then cpu1: 50 of 100, not behind yet.
  for (int i = 0; i < 4; ++i)
    q.Push(Ev(absl::StrCat("m", i), 10, "dash", "mem"), kLatest, &dropped);
  q.Push(Ev("cpu1", 10, "dash", "cpu"), kLatest, &dropped);
  ASSERT_EQ(dropped, 0u);
  // 60 > 50: behind, so cpu2 replaces cpu1 where it stood.
  ASSERT_EQ(q.Push(Ev("cpu2", 10, "dash", "cpu"), kLatest, &dropped), PR::kQueued);
  EXPECT_EQ(dropped, 1u);
  EXPECT_EQ(Entries(&q), (Tags{"m0", "m1", "m2", "m3",
                               R"(dropped {"dropped":1,"channels":{"dash":1}})", "cpu2"}));
}

TEST(SubscriberQueueGapTest, DropOldestLeavesOneNoticeBeforeWhatFollowsTheGap) {
  SubscriberQueue q(30);
  uint64_t dropped = 0;
  q.PushControl(Event::Control("HEAD"));
  q.Push(Ev("A", 10, "x"), kDrop, &dropped);
  q.Push(Ev("B", 10, "y"), kDrop, &dropped);
  q.Push(Ev("C", 10, "x"), kDrop, &dropped);
  ASSERT_EQ(q.Push(Ev("D", 15, "x"), kDrop, &dropped), PR::kQueued);  // A, B go
  ASSERT_EQ(q.Push(Ev("E", 15, "x"), kDrop, &dropped), PR::kQueued);  // C goes
  EXPECT_EQ(dropped, 3u);
  std::vector<EventPtr> all;
  q.TakeAll(&all);
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[0]->frame, "HEAD") << "the notice never goes before control frames";
  EXPECT_EQ(all[1]->type, kDroppedEventType);
  EXPECT_EQ(all[1]->data, R"({"dropped":3,"channels":{"x":2,"y":1}})");
  EXPECT_EQ(all[2]->id, "D");
  EXPECT_EQ(all[3]->id, "E");
}

TEST(SubscriberQueueGapTest, TheNoticeIsEncodedAndAWrittenOneIsNeverChanged) {
  SseEncoder encoder;
  SubscriberQueue q(20);
  q.set_notice_encoder(&encoder);
  uint64_t dropped = 0;
  q.Push(Ev("A", 10), kDrop, &dropped);
  q.Push(Ev("B", 10), kDrop, &dropped);
  q.Push(Ev("C", 10), kDrop, &dropped);  // A goes
  const std::string notice =
      "event: ssebridge.dropped\ndata: {\"dropped\":1,\"channels\":{\"c\":1}}\n\n";
  absl::string_view v[4];
  ASSERT_EQ(q.Peek(v, 4), 3u);
  EXPECT_EQ(v[0], notice);
  EXPECT_EQ(q.bytes(), notice.size() + 20) << "a notice is a control frame: outside the limit";
  q.Consume(5);                          // the notice is partly on the wire: committed
  q.Push(Ev("D", 10), kDrop, &dropped);  // B goes: a second notice
  ASSERT_EQ(q.Peek(v, 4), 4u);
  EXPECT_EQ(v[0], absl::string_view(notice).substr(5));
  EXPECT_EQ(v[1], notice) << "counts start again after a written notice";
  EXPECT_EQ(v[2], "C.........");
  EXPECT_EQ(v[3], "D.........");
  q.Consume(q.bytes());
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.events_written(), 2u) << "notices are not events written";
}

}  // namespace
}  // namespace ssebridge
