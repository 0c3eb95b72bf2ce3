// IdempotencyWindow: remembered outcomes, bounded by age and count.
#include "bridge/core/idempotency_window.h"

#include <string>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/unit/fixed_clock.h"

namespace ssebridge {
namespace {

PublishOutcome Outcome(const std::string& id, uint32_t subs = 0) {
  PublishOutcome o;
  o.id = id;
  o.subscribers = subs;
  o.published_at = kT0;
  return o;
}

TEST(IdempotencyWindowTest, UnknownKeyIsNotFound) {
  IdempotencyWindow w(absl::Minutes(10), 100);
  EXPECT_EQ(w.Find("k", kT0), nullptr);
  EXPECT_EQ(w.size(), 0u);
}

TEST(IdempotencyWindowTest, FindsWithinWindow) {
  IdempotencyWindow w(absl::Seconds(60), 100);
  w.Record("k1", Outcome("e-1", 3), kT0);
  w.Record("k2", Outcome("e-2", 5), kT0);
  const PublishOutcome* o = w.Find("k1", kT0 + absl::Seconds(59));
  ASSERT_NE(o, nullptr);
  EXPECT_EQ(o->id, "e-1");
  EXPECT_EQ(o->subscribers, 3u);
  EXPECT_FALSE(o->replayed);
  o = w.Find("k2", kT0 + absl::Seconds(59));
  ASSERT_NE(o, nullptr);
  EXPECT_EQ(o->id, "e-2");
  EXPECT_EQ(w.size(), 2u);
}

TEST(IdempotencyWindowTest, FirstAnswerWins) {
  IdempotencyWindow w(absl::Seconds(60), 100);
  w.Record("k", Outcome("e-1"), kT0);
  w.Record("k", Outcome("e-2"), kT0 + absl::Seconds(1));
  const PublishOutcome* o = w.Find("k", kT0 + absl::Seconds(2));
  ASSERT_NE(o, nullptr);
  EXPECT_EQ(o->id, "e-1");
  EXPECT_EQ(w.size(), 1u);
}

TEST(IdempotencyWindowTest, ExpiresAfterWindow) {
  IdempotencyWindow w(absl::Seconds(60), 100);
  w.Record("old", Outcome("e-1"), kT0);
  w.Record("new", Outcome("e-2"), kT0 + absl::Seconds(30));
  EXPECT_EQ(w.Find("old", kT0 + absl::Seconds(60)), nullptr);
  EXPECT_NE(w.Find("new", kT0 + absl::Seconds(60)), nullptr);
  EXPECT_EQ(w.size(), 1u);
  EXPECT_EQ(w.Find("new", kT0 + absl::Seconds(90)), nullptr);
  EXPECT_EQ(w.size(), 0u);
}

TEST(IdempotencyWindowTest, ExpireForgetsOnlyOldOutcomes) {
  IdempotencyWindow w(absl::Seconds(60), 100);
  w.Record("old", Outcome("e-1"), kT0);
  w.Record("new", Outcome("e-2"), kT0 + absl::Seconds(30));
  w.Expire(kT0 + absl::Seconds(59));
  EXPECT_EQ(w.size(), 2u);
  w.Expire(kT0 + absl::Seconds(61));
  EXPECT_EQ(w.size(), 1u);
  ASSERT_NE(w.Find("new", kT0 + absl::Seconds(61)), nullptr);
  w.Expire(kT0 + absl::Seconds(91));
  EXPECT_EQ(w.size(), 0u);
}

TEST(IdempotencyWindowTest, ExpiredKeyCanBeRecordedAgain) {
  IdempotencyWindow w(absl::Seconds(60), 100);
  w.Record("k", Outcome("e-1"), kT0);
  const absl::Time later = kT0 + absl::Seconds(120);
  ASSERT_EQ(w.Find("k", later), nullptr);
  w.Record("k", Outcome("e-9"), later);
  const PublishOutcome* o = w.Find("k", later + absl::Seconds(1));
  ASSERT_NE(o, nullptr);
  EXPECT_EQ(o->id, "e-9");
}

// Record() on its own (no Find() in between) must not be blocked by an entry
// that is already outside the window.
TEST(IdempotencyWindowTest, RecordAfterExpiryWithoutFindRemembersNewAnswer) {
  IdempotencyWindow w(absl::Seconds(60), 100);
  w.Record("k", Outcome("e-1"), kT0);
  const absl::Time later = kT0 + absl::Seconds(120);
  w.Record("k", Outcome("e-9"), later);
  const PublishOutcome* o = w.Find("k", later);
  ASSERT_NE(o, nullptr) << "the second answer was silently discarded";
  EXPECT_EQ(o->id, "e-9");
}

TEST(IdempotencyWindowTest, MaxKeysEvictsOldest) {
  IdempotencyWindow w(absl::Hours(1), 3);
  for (int i = 1; i <= 5; ++i) {
    w.Record("k" + std::to_string(i), Outcome("e-" + std::to_string(i)), kT0 + absl::Seconds(i));
  }
  EXPECT_EQ(w.size(), 3u);
  const absl::Time now = kT0 + absl::Seconds(10);
  EXPECT_EQ(w.Find("k1", now), nullptr);
  EXPECT_EQ(w.Find("k2", now), nullptr);
  for (int i = 3; i <= 5; ++i) {
    const PublishOutcome* o = w.Find("k" + std::to_string(i), now);
    ASSERT_NE(o, nullptr) << i;
    EXPECT_EQ(o->id, "e-" + std::to_string(i));
  }
}

TEST(IdempotencyWindowTest, ZeroWindowOrZeroKeysRemembersNothing) {
  IdempotencyWindow none(absl::ZeroDuration(), 100);
  none.Record("k", Outcome("e-1"), kT0);
  EXPECT_EQ(none.Find("k", kT0), nullptr);
  IdempotencyWindow zero_keys(absl::Hours(1), 0);
  zero_keys.Record("k", Outcome("e-1"), kT0);
  EXPECT_EQ(zero_keys.Find("k", kT0), nullptr);
  EXPECT_EQ(zero_keys.size(), 0u);
}

// Issue 16 finding 8: one publisher's "order-42" answered another's.
TEST(IdempotencyWindowTest, ScopedKeysDifferPerPublisherAndChannel) {
  const std::string base = ScopedIdempotencyKey("billing", "orders", "order-42");
  EXPECT_EQ(base, ScopedIdempotencyKey("billing", "orders", "order-42"));
  EXPECT_NE(base, ScopedIdempotencyKey("tasks", "orders", "order-42"));
  EXPECT_NE(base, ScopedIdempotencyKey("billing", "tasks", "order-42"));
  EXPECT_NE(base, ScopedIdempotencyKey("billing", "orders", "order-43"));
  // Length prefixes: moving bytes between the parts changes the key.
  EXPECT_NE(ScopedIdempotencyKey("ab", "c", "k"), ScopedIdempotencyKey("a", "bc", "k"));
  EXPECT_NE(ScopedIdempotencyKey("a", "b1:c", "k"), ScopedIdempotencyKey("a", "b", "1:ck"));
}

}  // namespace
}  // namespace ssebridge
