// HistoryRing: bounded by count, bytes and age; gap detection on replay.
#include "bridge/core/history_ring.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/unit/fixed_clock.h"

namespace ssebridge {
namespace {

EventPtr StoredEv(uint64_t seq, absl::Time at, std::string data = "d") {
  auto ev = std::make_shared<Event>();
  ev->seq = seq;
  ev->id = "e-" + std::to_string(seq);
  ev->channel = "c";
  ev->type = "message";
  ev->data = std::move(data);
  ev->published_at = at;
  ev->frame = "data: " + ev->data + "\n\n";
  return ev;
}

std::vector<uint64_t> Seqs(const std::vector<EventPtr>& v) {
  std::vector<uint64_t> out;
  for (const auto& e : v) out.push_back(e->seq);
  return out;
}

HistoryLimits NoAge(size_t events, size_t bytes) {
  HistoryLimits l;
  l.max_events = events;
  l.max_bytes = bytes;
  l.max_age = absl::InfiniteDuration();
  return l;
}

TEST(HistoryRingTest, StartsEmpty) {
  HistoryRing ring(HistoryLimits{});
  EXPECT_TRUE(ring.empty());
  EXPECT_EQ(ring.size(), 0u);
  EXPECT_EQ(ring.bytes(), 0u);
  EXPECT_EQ(ring.evicted_through(), 0u);
  std::vector<EventPtr> out;
  EXPECT_TRUE(ring.ReplayAfter(0, kT0, &out));
  EXPECT_TRUE(out.empty());
}

TEST(HistoryRingTest, BoundedByCount) {
  HistoryRing ring(NoAge(3, 1 << 20));
  for (uint64_t s = 1; s <= 5; ++s) ring.Append(StoredEv(s * 10, kT0), kT0);
  EXPECT_EQ(ring.size(), 3u);
  EXPECT_EQ(ring.evicted_through(), 20u);
  std::vector<EventPtr> out;
  ASSERT_TRUE(ring.ReplayAfter(20, kT0, &out));
  EXPECT_EQ(Seqs(out), (std::vector<uint64_t>{30, 40, 50}));
}

TEST(HistoryRingTest, BytesAreAccountedByFootprint) {
  HistoryRing ring(NoAge(100, 1 << 20));
  EventPtr a = StoredEv(1, kT0, "aaaa");
  EventPtr b = StoredEv(2, kT0, "bbbbbbbb");
  ring.Append(a, kT0);
  EXPECT_EQ(ring.bytes(), a->footprint());
  ring.Append(b, kT0);
  EXPECT_EQ(ring.bytes(), a->footprint() + b->footprint());
}

TEST(HistoryRingTest, BoundedByBytes) {
  const size_t one = StoredEv(1, kT0)->footprint();
  // Room for two and a half events.
  HistoryRing ring(NoAge(100, one * 2 + one / 2));
  ring.Append(StoredEv(1, kT0), kT0);
  ring.Append(StoredEv(2, kT0), kT0);
  EXPECT_EQ(ring.size(), 2u);
  EXPECT_EQ(ring.evicted_through(), 0u);
  ring.Append(StoredEv(3, kT0), kT0);
  EXPECT_EQ(ring.size(), 2u);
  EXPECT_EQ(ring.bytes(), 2 * one);
  EXPECT_EQ(ring.evicted_through(), 1u);
  std::vector<EventPtr> out;
  EXPECT_FALSE(ring.ReplayAfter(0, kT0, &out));
  EXPECT_TRUE(out.empty());
  ASSERT_TRUE(ring.ReplayAfter(1, kT0, &out));
  EXPECT_EQ(Seqs(out), (std::vector<uint64_t>{2, 3}));
}

TEST(HistoryRingTest, AnEventLargerThanTheByteLimitIsNotKept) {
  HistoryRing ring(NoAge(100, 10));
  ring.Append(StoredEv(7, kT0), kT0);
  EXPECT_TRUE(ring.empty());
  EXPECT_EQ(ring.bytes(), 0u);
  EXPECT_EQ(ring.evicted_through(), 7u);
  std::vector<EventPtr> out;
  EXPECT_FALSE(ring.ReplayAfter(6, kT0, &out));
  EXPECT_TRUE(ring.ReplayAfter(7, kT0, &out));
  EXPECT_TRUE(out.empty());
}

TEST(HistoryRingTest, BoundedByAgeOnAppend) {
  HistoryLimits l = NoAge(100, 1 << 20);
  l.max_age = absl::Seconds(60);
  HistoryRing ring(l);
  ring.Append(StoredEv(1, kT0), kT0);
  ring.Append(StoredEv(2, kT0 + absl::Seconds(30)), kT0 + absl::Seconds(30));
  // At +61s the first is older than 60s; the second (31s old) stays.
  ring.Append(StoredEv(3, kT0 + absl::Seconds(61)), kT0 + absl::Seconds(61));
  EXPECT_EQ(ring.size(), 2u);
  EXPECT_EQ(ring.evicted_through(), 1u);
}

TEST(HistoryRingTest, ExpireDropsOnlyAgedEvents) {
  HistoryLimits l = NoAge(100, 1 << 20);
  l.max_age = absl::Seconds(60);
  HistoryRing ring(l);
  ring.Append(StoredEv(1, kT0), kT0);
  ring.Append(StoredEv(2, kT0 + absl::Seconds(10)), kT0 + absl::Seconds(10));
  ring.Append(StoredEv(3, kT0 + absl::Seconds(20)), kT0 + absl::Seconds(20));
  ring.Expire(kT0 + absl::Seconds(60));  // exactly 60s old: kept
  EXPECT_EQ(ring.size(), 3u);
  ring.Expire(kT0 + absl::Seconds(75));
  EXPECT_EQ(ring.size(), 1u);
  EXPECT_EQ(ring.evicted_through(), 2u);
  EXPECT_EQ(ring.bytes(), StoredEv(3, kT0)->footprint());
  ring.Expire(kT0 + absl::Hours(1));
  EXPECT_TRUE(ring.empty());
  EXPECT_EQ(ring.bytes(), 0u);
  EXPECT_EQ(ring.evicted_through(), 3u);
}

TEST(HistoryRingTest, InfiniteAgeNeverExpires) {
  HistoryRing ring(NoAge(100, 1 << 20));
  ring.Append(StoredEv(1, kT0), kT0);
  ring.Expire(kT0 + absl::Hours(24 * 365 * 100));
  EXPECT_EQ(ring.size(), 1u);
  std::vector<EventPtr> out;
  EXPECT_TRUE(ring.ReplayAfter(0, kT0 + absl::Hours(24 * 365 * 100), &out));
  EXPECT_EQ(Seqs(out), (std::vector<uint64_t>{1}));
}

TEST(HistoryRingTest, ReplayAfterReturnsLaterEventsInOrder) {
  HistoryRing ring(NoAge(100, 1 << 20));
  // Seqs are global across channels, so a channel's seqs have holes.
  for (uint64_t s : {3, 4, 9, 15, 16}) ring.Append(StoredEv(s, kT0), kT0);
  std::vector<EventPtr> out;
  ASSERT_TRUE(ring.ReplayAfter(0, kT0, &out));
  EXPECT_EQ(Seqs(out), (std::vector<uint64_t>{3, 4, 9, 15, 16}));
  out.clear();
  ASSERT_TRUE(ring.ReplayAfter(4, kT0, &out));
  EXPECT_EQ(Seqs(out), (std::vector<uint64_t>{9, 15, 16}));
  out.clear();
  ASSERT_TRUE(ring.ReplayAfter(10, kT0, &out));  // between two seqs
  EXPECT_EQ(Seqs(out), (std::vector<uint64_t>{15, 16}));
  out.clear();
  ASSERT_TRUE(ring.ReplayAfter(16, kT0, &out));
  EXPECT_TRUE(out.empty());
  ASSERT_TRUE(ring.ReplayAfter(1000, kT0, &out));
  EXPECT_TRUE(out.empty());
}

TEST(HistoryRingTest, ReplayAfterAppendsToExistingOutput) {
  HistoryRing ring(NoAge(100, 1 << 20));
  ring.Append(StoredEv(5, kT0), kT0);
  std::vector<EventPtr> out = {StoredEv(2, kT0)};
  ASSERT_TRUE(ring.ReplayAfter(0, kT0, &out));
  EXPECT_EQ(Seqs(out), (std::vector<uint64_t>{2, 5}));
}

TEST(HistoryRingTest, ReplayFailsWhenCursorIsOlderThanEvicted) {
  HistoryRing ring(NoAge(2, 1 << 20));
  for (uint64_t s : {2, 5, 8, 11}) ring.Append(StoredEv(s, kT0), kT0);
  ASSERT_EQ(ring.evicted_through(), 5u);
  std::vector<EventPtr> out = {StoredEv(1, kT0)};
  EXPECT_FALSE(ring.ReplayAfter(0, kT0, &out));
  EXPECT_FALSE(ring.ReplayAfter(2, kT0, &out));
  EXPECT_FALSE(ring.ReplayAfter(4, kT0, &out));
  EXPECT_EQ(out.size(), 1u) << "a failed replay must append nothing";
  // The client saw 5 (the last evicted one): nothing is missing.
  ASSERT_TRUE(ring.ReplayAfter(5, kT0, &out));
  EXPECT_EQ(Seqs(out), (std::vector<uint64_t>{1, 8, 11}));
  out.clear();
  ASSERT_TRUE(ring.ReplayAfter(7, kT0, &out));
  EXPECT_EQ(Seqs(out), (std::vector<uint64_t>{8, 11}));
}

TEST(HistoryRingTest, ReplayFailsWhenFirstEventAfterCursorAgedOut) {
  HistoryLimits l = NoAge(100, 1 << 20);
  l.max_age = absl::Seconds(60);
  HistoryRing ring(l);
  ring.Append(StoredEv(1, kT0), kT0);
  ring.Append(StoredEv(2, kT0 + absl::Seconds(50)), kT0 + absl::Seconds(50));
  ring.Append(StoredEv(3, kT0 + absl::Seconds(100)), kT0 + absl::Seconds(100));
  // Append at +100 already expired seq 1.
  ASSERT_EQ(ring.evicted_through(), 1u);
  // Nothing has expired seq 2 yet, but at +115 it is 65s old: a reader with
  // cursor 1 would get 3 without 2, which is a gap.
  const absl::Time now = kT0 + absl::Seconds(115);
  ASSERT_EQ(ring.size(), 2u);
  std::vector<EventPtr> out;
  EXPECT_FALSE(ring.ReplayAfter(1, now, &out));
  EXPECT_TRUE(out.empty());
  // A reader that already saw 2 only needs 3, which is fresh.
  ASSERT_TRUE(ring.ReplayAfter(2, now, &out));
  EXPECT_EQ(Seqs(out), (std::vector<uint64_t>{3}));
  // And a reader fully caught up needs nothing.
  out.clear();
  ASSERT_TRUE(ring.ReplayAfter(3, kT0 + absl::Hours(5), &out));
  EXPECT_TRUE(out.empty());
}

TEST(HistoryRingTest, MarkEvictedThrough) {
  HistoryRing ring(NoAge(10, 1 << 20));
  ring.MarkEvictedThrough(5);
  EXPECT_EQ(ring.evicted_through(), 5u);
  ring.MarkEvictedThrough(3);  // never goes back
  EXPECT_EQ(ring.evicted_through(), 5u);
  ring.Append(StoredEv(9, kT0), kT0);
  std::vector<EventPtr> out;
  EXPECT_FALSE(ring.ReplayAfter(4, kT0, &out));
  EXPECT_TRUE(out.empty());
  ASSERT_TRUE(ring.ReplayAfter(5, kT0, &out));
  EXPECT_EQ(Seqs(out), (std::vector<uint64_t>{9}));
}

TEST(HistoryRingTest, ReplaySharesEventsWithoutCopying) {
  HistoryRing ring(NoAge(10, 1 << 20));
  EventPtr e = StoredEv(1, kT0);
  ring.Append(e, kT0);
  std::vector<EventPtr> out;
  ASSERT_TRUE(ring.ReplayAfter(0, kT0, &out));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].get(), e.get());
}

}  // namespace
}  // namespace ssebridge
