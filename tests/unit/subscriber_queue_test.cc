// SubscriberQueue: bounded per-connection queue, partial writes and the
// three delivery policies.
#include "bridge/core/subscriber_queue.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "gtest/gtest.h"
#include "tests/unit/queued_events.h"

namespace ssebridge {
namespace {

EventPtr Ctl(const std::string& tag, size_t size) {
  std::string f = tag;
  if (f.size() < size) f.append(size - f.size(), '.');
  return Event::Control(f);
}

// Everything still to write, concatenated.
std::string Pending(const SubscriberQueue& q) {
  std::vector<absl::string_view> views(q.entries() + 1);
  size_t n = q.Peek(views.data(), views.size());
  std::string out;
  for (size_t i = 0; i < n; ++i) out.append(views[i].data(), views[i].size());
  return out;
}

// The tags of the queued entries, in order ("<rest>" for a partly written
// head, "(notice)" for an ssebridge.dropped notice: no encoder here, so it
// has an empty frame).
std::vector<std::string> Frames(const SubscriberQueue& q) {
  std::vector<absl::string_view> views(q.entries() + 1);
  size_t n = q.Peek(views.data(), views.size());
  std::vector<std::string> out;
  for (size_t i = 0; i < n; ++i) {
    std::string s(views[i]);
    if (s.empty()) {
      out.push_back("(notice)");
      continue;
    }
    size_t dot = s.find('.');
    out.push_back(dot == std::string::npos ? s : s.substr(0, dot));
  }
  return out;
}

TEST(SubscriberQueueTest, StartsEmpty) {
  SubscriberQueue q(100);
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.bytes(), 0u);
  EXPECT_EQ(q.entries(), 0u);
  EXPECT_EQ(q.max_bytes(), 100u);
  absl::string_view v[4];
  EXPECT_EQ(q.Peek(v, 4), 0u);
}

TEST(SubscriberQueueTest, PushPeekConsume) {
  SubscriberQueue q(100);
  uint64_t dropped = 0;
  ASSERT_EQ(q.Push(Ev("A", 10), kDisc, &dropped), PR::kQueued);
  ASSERT_EQ(q.Push(Ev("B", 5), kDisc, &dropped), PR::kQueued);
  EXPECT_EQ(q.bytes(), 15u);
  EXPECT_EQ(q.entries(), 2u);
  EXPECT_FALSE(q.empty());

  absl::string_view v[4];
  ASSERT_EQ(q.Peek(v, 4), 2u);
  EXPECT_EQ(v[0], "A.........");
  EXPECT_EQ(v[1], "B....");
  ASSERT_EQ(q.Peek(v, 1), 1u);
  EXPECT_EQ(v[0], "A.........");

  q.Consume(3);  // partial write of the head
  EXPECT_EQ(q.bytes(), 12u);
  EXPECT_EQ(q.entries(), 2u);
  ASSERT_EQ(q.Peek(v, 4), 2u);
  EXPECT_EQ(v[0], ".......");
  EXPECT_EQ(v[0].size(), 7u);
  EXPECT_EQ(v[1], "B....");

  q.Consume(9);  // the rest of A and 2 bytes of B
  EXPECT_EQ(q.bytes(), 3u);
  EXPECT_EQ(q.entries(), 1u);
  ASSERT_EQ(q.Peek(v, 4), 1u);
  EXPECT_EQ(v[0], "...");

  q.Consume(3);
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.bytes(), 0u);
  EXPECT_EQ(q.entries(), 0u);
  EXPECT_EQ(q.Peek(v, 4), 0u);
  EXPECT_EQ(dropped, 0u);
}

TEST(SubscriberQueueTest, ConsumeExactlyOneEntry) {
  SubscriberQueue q(100);
  uint64_t dropped = 0;
  q.Push(Ev("A", 4), kDisc, &dropped);
  q.Push(Ev("B", 4), kDisc, &dropped);
  q.Consume(4);
  EXPECT_EQ(Pending(q), "B...");
  EXPECT_EQ(q.bytes(), 4u);
  q.Push(Ev("C", 2), kDisc, &dropped);
  EXPECT_EQ(Pending(q), "B...C.");
}

TEST(SubscriberQueueTest, ControlFramesIgnoreTheLimit) {
  SubscriberQueue q(10);
  q.PushControl(Ctl("H", 50));
  EXPECT_EQ(q.bytes(), 50u);
  EXPECT_EQ(q.entries(), 1u);
  q.PushControl(Ctl("R", 5));
  EXPECT_EQ(q.bytes(), 55u);
  EXPECT_EQ(Frames(q), (Tags{"H", "R"}));
}

// The limit counts events still waiting, not control frames (headers, retry,
// a resume's catch-up): a long catch-up does not push out live events.
TEST(SubscriberQueueTest, ControlFramesDoNotCountTowardsTheLimit) {
  SubscriberQueue q(10);
  uint64_t dropped = 0;
  q.PushControl(Ctl("H", 50));
  EXPECT_EQ(q.Push(Ev("A", 10), kDisc, &dropped), PR::kQueued);
  EXPECT_EQ(q.Push(Ev("B", 1), kDisc, &dropped), PR::kOverflow);
  EXPECT_EQ(q.bytes(), 60u);
  // Writing the control frame out changes nothing for the limit...
  q.Consume(30);
  EXPECT_EQ(q.Push(Ev("C", 1), kDisc, &dropped), PR::kOverflow);
  q.Consume(20);
  EXPECT_EQ(q.Push(Ev("D", 1), kDisc, &dropped), PR::kOverflow);
  // ...writing the event does.
  q.Consume(10);
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.Push(Ev("E", 10), kDisc, &dropped), PR::kQueued);
  EXPECT_EQ(dropped, 0u);
}

TEST(SubscriberQueueTest, ZeroLengthFramesAreSkipped) {
  SubscriberQueue q(100);
  uint64_t dropped = 0;
  q.PushControl(Event::Control(""));
  q.Push(Ev("A", 4), kDisc, &dropped);
  q.PushControl(Event::Control(""));
  EXPECT_EQ(q.bytes(), 4u);
  q.Consume(4);
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.entries(), 0u);
}

TEST(SubscriberQueueTest, DisconnectPolicyOverflowQueuesNothing) {
  SubscriberQueue q(20);
  uint64_t dropped = 0;
  ASSERT_EQ(q.Push(Ev("A", 15), kDisc, &dropped), PR::kQueued);
  EXPECT_EQ(q.Push(Ev("B", 10), kDisc, &dropped), PR::kOverflow);
  EXPECT_EQ(q.bytes(), 15u);
  EXPECT_EQ(q.entries(), 1u);
  EXPECT_EQ(Frames(q), (Tags{"A"}));
  EXPECT_EQ(dropped, 0u);
  // Exactly at the limit fits.
  EXPECT_EQ(q.Push(Ev("C", 5), kDisc, &dropped), PR::kQueued);
  EXPECT_EQ(q.bytes(), 20u);
  EXPECT_EQ(q.Push(Ev("D", 1), kDisc, &dropped), PR::kOverflow);
  EXPECT_EQ(q.bytes(), 20u);
}

TEST(SubscriberQueueTest, EventLargerThanTheQueueOverflowsUnderEveryPolicy) {
  for (DeliveryPolicy p : {kDisc, kDrop, kLatest}) {
    SubscriberQueue q(10);
    uint64_t dropped = 0;
    EXPECT_EQ(q.Push(Ev("A", 11), p, &dropped), PR::kOverflow) << DeliveryPolicyName(p);
    EXPECT_TRUE(q.empty());
    EXPECT_EQ(q.bytes(), 0u);
    EXPECT_EQ(q.Push(Ev("B", 10), p, &dropped), PR::kQueued) << DeliveryPolicyName(p);
  }
}

TEST(SubscriberQueueTest, DropOldestDropsUntilItFits) {
  SubscriberQueue q(30);
  uint64_t dropped = 0;
  q.Push(Ev("A", 10), kDrop, &dropped);
  q.Push(Ev("B", 10), kDrop, &dropped);
  q.Push(Ev("C", 10), kDrop, &dropped);
  ASSERT_EQ(dropped, 0u);
  ASSERT_EQ(q.Push(Ev("D", 15), kDrop, &dropped), PR::kQueued);
  EXPECT_EQ(dropped, 2u);  // A and B; C stays
  EXPECT_EQ(Frames(q), (Tags{"(notice)", "C", "D"}));
  EXPECT_EQ(q.bytes(), 25u);
  ASSERT_EQ(q.Push(Ev("E", 5), kDrop, &dropped), PR::kQueued);
  EXPECT_EQ(dropped, 2u);  // fits without dropping
  EXPECT_EQ(Frames(q), (Tags{"(notice)", "C", "D", "E"}));
  EXPECT_EQ(q.bytes(), 30u);
}

TEST(SubscriberQueueTest, DroppedCounterAccumulates) {
  SubscriberQueue q(10);
  uint64_t dropped = 5;
  q.Push(Ev("A", 5), kDrop, &dropped);
  q.Push(Ev("B", 5), kDrop, &dropped);
  q.Push(Ev("C", 10), kDrop, &dropped);
  EXPECT_EQ(dropped, 7u);
}

TEST(SubscriberQueueTest, DropOldestNeverDropsControlFrames) {
  SubscriberQueue q(20);
  uint64_t dropped = 0;
  q.PushControl(Ctl("H", 10));
  q.Push(Ev("A", 10), kDrop, &dropped);
  q.Push(Ev("B", 10), kDrop, &dropped);
  ASSERT_EQ(dropped, 0u);
  ASSERT_EQ(q.Push(Ev("C", 10), kDrop, &dropped), PR::kQueued);
  EXPECT_EQ(dropped, 1u);
  EXPECT_EQ(Frames(q), (Tags{"H", "(notice)", "B", "C"}));
  EXPECT_EQ(q.bytes(), 30u);
}

TEST(SubscriberQueueTest, DropOldestOverflowsWhenOnlyUndroppableEntriesFill) {
  SubscriberQueue q(30);
  uint64_t dropped = 0;
  q.PushControl(Ctl("H", 15));
  q.Push(Ev("A", 25, "tasks"), kDisc, &dropped);
  q.Push(Ev("B", 5, "dash"), kDrop, &dropped);
  // Needs 10 bytes; only B (5) may go: the reader has to be disconnected,
  // and nothing is dropped for nothing.
  EXPECT_EQ(q.Push(Ev("C", 10, "dash"), kDrop, &dropped), PR::kOverflow);
  EXPECT_EQ(dropped, 0u);
  EXPECT_EQ(Frames(q), (Tags{"H", "A", "B"}));
  EXPECT_EQ(q.bytes(), 45u);
  // 5 bytes can be made.
  EXPECT_EQ(q.Push(Ev("D", 5, "dash"), kDrop, &dropped), PR::kQueued);
  EXPECT_EQ(dropped, 1u);
  EXPECT_EQ(Frames(q), (Tags{"H", "A", "(notice)", "D"}));
}

TEST(SubscriberQueueTest, DropOldestNeverDropsDisconnectPolicyEntries) {
  SubscriberQueue q(25);
  uint64_t dropped = 0;
  q.Push(Ev("A", 10, "tasks"), kDisc, &dropped);
  q.Push(Ev("B", 10, "dash"), kDrop, &dropped);
  ASSERT_EQ(q.Push(Ev("C", 10, "dash"), kDrop, &dropped), PR::kQueued);
  EXPECT_EQ(dropped, 1u);
  EXPECT_EQ(Frames(q), (Tags{"A", "(notice)", "C"}));
  EXPECT_EQ(q.bytes(), 20u);
}

TEST(SubscriberQueueTest, DropOldestNeverDropsAPartlyWrittenHead) {
  SubscriberQueue q(30);
  uint64_t dropped = 0;
  // Distinct bytes throughout, so any mix-up of entries shows.
  q.Push(Ev("Aaaaaaaaaa", 10), kDrop, &dropped);
  q.Push(Ev("Bbbbbbbbbb", 10), kDrop, &dropped);
  q.Push(Ev("Cccccccccc", 10), kDrop, &dropped);
  q.Consume(1);  // A is on the wire
  ASSERT_EQ(q.bytes(), 29u);
  // Waiting: B and C (20); D needs 10 more than fits.
  ASSERT_EQ(q.Push(Ev("Dddddddddddddddddddd", 20), kDrop, &dropped), PR::kQueued);
  EXPECT_EQ(dropped, 1u);  // B, not A
  EXPECT_EQ(Pending(q),
            "aaaaaaaaa"
            "Cccccccccc"
            "Dddddddddddddddddddd");
  EXPECT_EQ(q.bytes(), 39u);
  // Once A is written out, it is gone for good.
  q.Consume(9);
  EXPECT_EQ(Pending(q),
            "Cccccccccc"
            "Dddddddddddddddddddd");
  EXPECT_EQ(q.bytes(), 30u);
}

// The rest of a partly written event is committed to the wire: it does not
// count towards the limit, and the accounting follows the writes exactly.
TEST(SubscriberQueueTest, PartlyWrittenEventDoesNotCountTowardsTheLimit) {
  SubscriberQueue q(20);
  uint64_t dropped = 0;
  ASSERT_EQ(q.Push(Ev("A", 10), kDisc, &dropped), PR::kQueued);
  ASSERT_EQ(q.Push(Ev("B", 10), kDisc, &dropped), PR::kQueued);
  EXPECT_EQ(q.Push(Ev("X", 1), kDisc, &dropped), PR::kOverflow);
  q.Consume(15);  // A written, B half written
  EXPECT_EQ(q.bytes(), 5u);
  ASSERT_EQ(q.Push(Ev("C", 20), kDisc, &dropped), PR::kQueued);
  EXPECT_EQ(q.Push(Ev("Y", 1), kDisc, &dropped), PR::kOverflow);
  q.Consume(5);  // B done; C (20, unstarted) fills the queue
  EXPECT_EQ(q.Push(Ev("Z", 1), kDisc, &dropped), PR::kOverflow);
  q.Consume(1);  // C now partly written: nothing is waiting
  ASSERT_EQ(q.Push(Ev("D", 20), kDisc, &dropped), PR::kQueued);
  EXPECT_EQ(q.bytes(), 39u);
  q.Consume(39);
  EXPECT_TRUE(q.empty());
  ASSERT_EQ(q.Push(Ev("E", 20), kDisc, &dropped), PR::kQueued);
  EXPECT_EQ(q.Push(Ev("W", 1), kDisc, &dropped), PR::kOverflow);
  EXPECT_EQ(dropped, 0u);
}

TEST(SubscriberQueueTest, ClearResetsTheAccounting) {
  SubscriberQueue q(10);
  uint64_t dropped = 0;
  q.PushControl(Ctl("H", 5));
  q.Push(Ev("A", 10), kDisc, &dropped);
  q.Consume(7);  // H and 2 bytes of A
  q.Clear();
  EXPECT_EQ(q.bytes(), 0u);
  ASSERT_EQ(q.Push(Ev("B", 10), kDisc, &dropped), PR::kQueued);
  EXPECT_EQ(q.Push(Ev("C", 1), kDisc, &dropped), PR::kOverflow);
}

TEST(SubscriberQueueTest, AnUnstartedHeadMayBeDropped) {
  SubscriberQueue q(20);
  uint64_t dropped = 0;
  q.Push(Ev("A", 10), kDrop, &dropped);
  q.Push(Ev("B", 10), kDrop, &dropped);
  ASSERT_EQ(q.Push(Ev("C", 10), kDrop, &dropped), PR::kQueued);
  EXPECT_EQ(Frames(q), (Tags{"(notice)", "B", "C"}));
}

TEST(SubscriberQueueTest, LatestOnlyReplacesSameChannelAndType) {
  SubscriberQueue q(60);
  uint64_t dropped = 0;
  q.Push(Ev("cpu1", 10, "dash", "cpu"), kLatest, &dropped);
  q.Push(Ev("mem1", 10, "dash", "mem"), kLatest, &dropped);
  q.Push(Ev("cpuX", 10, "other", "cpu"), kLatest, &dropped);
  ASSERT_EQ(dropped, 0u);
  // Room for it, but past half the queue: the reader is behind and needs
  // only the newest value.
  ASSERT_EQ(q.Push(Ev("cpu2", 10, "dash", "cpu"), kLatest, &dropped), PR::kQueued);
  EXPECT_EQ(dropped, 1u);
  EXPECT_EQ(Frames(q), (Tags{"(notice)", "mem1", "cpuX", "cpu2"}));
  EXPECT_EQ(q.bytes(), 30u);
  ASSERT_EQ(q.Push(Ev("cpu3", 12, "dash", "cpu"), kLatest, &dropped), PR::kQueued);
  EXPECT_EQ(dropped, 2u);
  EXPECT_EQ(Frames(q), (Tags{"(notice)", "mem1", "cpuX", "cpu3"}));
  EXPECT_EQ(q.bytes(), 32u);
}

TEST(SubscriberQueueTest, LatestOnlyReplacementMakesRoom) {
  SubscriberQueue q(20);
  uint64_t dropped = 0;
  q.Push(Ev("cpu1", 10, "dash", "cpu"), kLatest, &dropped);
  q.Push(Ev("mem1", 10, "dash", "mem"), kLatest, &dropped);
  ASSERT_EQ(q.Push(Ev("cpu2", 10, "dash", "cpu"), kLatest, &dropped), PR::kQueued);
  EXPECT_EQ(dropped, 1u);  // only the replaced one; mem1 survives
  EXPECT_EQ(Frames(q), (Tags{"(notice)", "mem1", "cpu2"}));
}

TEST(SubscriberQueueTest, LatestOnlyThenDropsOldestWhenStillFull) {
  SubscriberQueue q(20);
  uint64_t dropped = 0;
  q.Push(Ev("mem1", 10, "dash", "mem"), kLatest, &dropped);
  q.Push(Ev("net1", 10, "dash", "net"), kLatest, &dropped);
  ASSERT_EQ(q.Push(Ev("cpu1", 10, "dash", "cpu"), kLatest, &dropped), PR::kQueued);
  EXPECT_EQ(dropped, 1u);
  EXPECT_EQ(Frames(q), (Tags{"(notice)", "net1", "cpu1"}));
}

TEST(SubscriberQueueTest, LatestOnlyNeverReplacesAPartlyWrittenHead) {
  SubscriberQueue q(20);
  uint64_t dropped = 0;
  q.Push(Ev("cpu1", 10, "dash", "cpu"), kLatest, &dropped);
  q.Consume(2);
  ASSERT_EQ(q.Push(Ev("cpu2", 10, "dash", "cpu"), kLatest, &dropped), PR::kQueued);
  EXPECT_EQ(dropped, 0u);
  EXPECT_EQ(q.entries(), 2u);
  EXPECT_EQ(q.bytes(), 18u);
  // Behind now (10 of 20 waiting): the next one replaces cpu2, not the head.
  ASSERT_EQ(q.Push(Ev("cpu3", 10, "dash", "cpu"), kLatest, &dropped), PR::kQueued);
  EXPECT_EQ(dropped, 1u);
  EXPECT_EQ(Pending(q),
            "u1......"
            "cpu3......");
}

TEST(SubscriberQueueTest, LatestOnlyMayReplaceAnUnstartedHead) {
  SubscriberQueue q(10);
  uint64_t dropped = 0;
  q.Push(Ev("cpu1", 10, "dash", "cpu"), kLatest, &dropped);
  q.Push(Ev("cpu2", 10, "dash", "cpu"), kLatest, &dropped);
  EXPECT_EQ(dropped, 1u);
  EXPECT_EQ(Frames(q), (Tags{"(notice)", "cpu2"}));
}

TEST(SubscriberQueueTest, LatestOnlyNeverReplacesControlFrames) {
  SubscriberQueue q(1000);
  uint64_t dropped = 0;
  // A catch-up frame carried as control (same channel and type as the event).
  auto ctl = std::make_shared<Event>();
  ctl->channel = "dash";
  ctl->type = "cpu";
  ctl->frame = "cpu0......";
  q.PushControl(ctl);
  q.Push(Ev("cpu1", 10, "dash", "cpu"), kLatest, &dropped);
  EXPECT_EQ(dropped, 0u);
  EXPECT_EQ(Frames(q), (Tags{"cpu0", "cpu1"}));
}

TEST(SubscriberQueueTest, ConsumedEntriesReleaseTheirEvents) {
  SubscriberQueue q(1000);
  uint64_t dropped = 0;
  EventPtr a = Ev("A", 10);
  EventPtr b = Ev("B", 10);
  q.Push(a, kDrop, &dropped);
  q.Push(b, kDrop, &dropped);
  EXPECT_EQ(a.use_count(), 2);
  EXPECT_EQ(b.use_count(), 2);
  q.Consume(5);
  EXPECT_EQ(a.use_count(), 2) << "a partly written frame must be kept";
  q.Consume(5);
  EXPECT_EQ(a.use_count(), 1);
  EXPECT_EQ(b.use_count(), 2);
  q.Consume(10);
  EXPECT_EQ(b.use_count(), 1);
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.entries(), 0u);
  EXPECT_EQ(q.bytes(), 0u);
}

TEST(SubscriberQueueTest, DroppedAndClearedEntriesReleaseTheirEvents) {
  SubscriberQueue q(10);
  uint64_t dropped = 0;
  EventPtr a = Ev("A", 10);
  q.Push(a, kDrop, &dropped);
  q.Push(Ev("B", 10), kDrop, &dropped);
  EXPECT_EQ(a.use_count(), 1);
  EventPtr c = Ev("C", 4);
  q.PushControl(c);
  q.Clear();
  EXPECT_EQ(c.use_count(), 1);
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.bytes(), 0u);
  EXPECT_EQ(q.entries(), 0u);
  q.Push(Ev("D", 3), kDrop, &dropped);
  EXPECT_EQ(Pending(q), "D..");
}

TEST(SubscriberQueueTest, TakeAllMovesEverythingOut) {
  SubscriberQueue q(1000);
  uint64_t dropped = 0;
  EventPtr a = Ev("A", 4);
  EventPtr h = Ctl("H", 3);
  EventPtr b = Ev("B", 5);
  q.Push(a, kDrop, &dropped);
  q.PushControl(h);
  q.Push(b, kDisc, &dropped);
  std::vector<EventPtr> out = {Ev("X", 1)};
  q.TakeAll(&out);
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[1].get(), a.get());
  EXPECT_EQ(out[2].get(), h.get());
  EXPECT_EQ(out[3].get(), b.get());
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.bytes(), 0u);
  EXPECT_EQ(q.entries(), 0u);
  out.clear();
  EXPECT_EQ(a.use_count(), 1);
  // Usable afterwards.
  q.Push(Ev("C", 2), kDisc, &dropped);
  EXPECT_EQ(Pending(q), "C.");
}

TEST(SubscriberQueueTest, TakeAllSkipsEntriesAlreadyWritten) {
  SubscriberQueue q(1000);
  uint64_t dropped = 0;
  q.Push(Ev("A", 4), kDisc, &dropped);
  q.Push(Ev("B", 4), kDisc, &dropped);
  q.Consume(4);
  std::vector<EventPtr> out;
  q.TakeAll(&out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0]->id, "B");
}

TEST(SubscriberQueueTest, LongRunKeepsOrderAcrossCompaction) {
  SubscriberQueue q(1 << 20);
  uint64_t dropped = 0;
  std::string expected;
  int next = 0;
  auto push = [&](int n) {
    for (int i = 0; i < n; ++i, ++next) {
      std::string tag = "e" + std::to_string(next) + ";";
      q.Push(Ev(tag, tag.size()), kDrop, &dropped);
      expected += tag;
    }
  };
  push(150);
  // Write out in odd-sized chunks, interleaved with more pushes.
  size_t written = 0;
  for (int round = 0; round < 40; ++round) {
    std::string pending = Pending(q);
    ASSERT_EQ(pending, expected.substr(written)) << "round " << round;
    ASSERT_EQ(q.bytes(), pending.size());
    size_t n = std::min<size_t>(pending.size(), 37 + round);
    q.Consume(n);
    written += n;
    if (round % 3 == 0) push(7);
  }
  std::string rest = Pending(q);
  ASSERT_EQ(rest, expected.substr(written));
  q.Consume(rest.size());
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.bytes(), 0u);
  EXPECT_EQ(dropped, 0u);
}

TEST(SubscriberQueueTest, PartlyWrittenHeadSurvivesCompaction) {
  SubscriberQueue q(1 << 20);
  uint64_t dropped = 0;
  for (int i = 0; i < 100; ++i) {
    q.Push(Ev(std::string(1, static_cast<char>('A' + i % 26)), 4), kDrop, &dropped);
  }
  q.Consume(4 * 70 + 2);  // 70 entries done, the 71st half written
  EXPECT_EQ(q.entries(), 30u);
  EXPECT_EQ(q.bytes(), 4u * 30 - 2);
  absl::string_view v[2];
  ASSERT_EQ(q.Peek(v, 2), 2u);
  EXPECT_EQ(v[0], "..");
  EXPECT_EQ(v[1], std::string(1, static_cast<char>('A' + 71 % 26)) + "...");
}

}  // namespace
}  // namespace ssebridge
