// MemoryTicketStore: single use, expiry, ttl bounds, capacity, and a race for the
// same ticket.
#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/time/time.h"
#include "bridge/auth/memory_ticket_store.h"
#include "gtest/gtest.h"
#include "tests/unit/fixed_clock.h"

namespace ssebridge {
namespace {

TicketStore::Options Small(size_t max_tickets) {
  TicketStore::Options o;
  o.max_tickets = max_tickets;
  return o;
}

void ExpectUnauthenticated(const absl::StatusOr<TicketGrant>& g, absl::string_view message) {
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(g.status().message(), message);
}

TEST(TicketStoreTest, RedeemsOnceAndCarriesTheGrant) {
  MemoryTicketStore store({});
  absl::StatusOr<std::string> t =
      store.Issue("alice", {"tasks", "user.alice.*"}, absl::Seconds(30), kT0);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->size(), TicketStore::kTicketLength);
  EXPECT_EQ(
      t->find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
      std::string::npos);
  EXPECT_EQ(store.size(), 1u);

  absl::StatusOr<TicketGrant> g = store.Redeem(*t, kT0 + absl::Seconds(29));
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(g->user_id, "alice");
  EXPECT_EQ(g->channels.patterns(), (std::vector<std::string>{"tasks", "user.alice.*"}));
  EXPECT_EQ(g->expires_at, kT0 + absl::Seconds(30));
  EXPECT_EQ(store.size(), 0u);

  ExpectUnauthenticated(store.Redeem(*t, kT0 + absl::Seconds(29)), "ticket already used");
}

TEST(TicketStoreTest, PeekChecksWithoutConsuming) {
  MemoryTicketStore store({});
  const absl::Time now = absl::Now();
  absl::StatusOr<std::string> t = store.Issue("u1", {"a"}, absl::Seconds(30), now);
  ASSERT_TRUE(t.ok()) << t.status();
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<TicketGrant> g = store.Peek(*t, now);
    ASSERT_TRUE(g.ok()) << g.status();
    EXPECT_EQ(g->user_id, "u1");
  }
  EXPECT_FALSE(store.Peek(*t, now + absl::Seconds(31)).ok());
  ASSERT_TRUE(store.Redeem(*t, now).ok());
  EXPECT_FALSE(store.Peek(*t, now).ok());
}

TEST(TicketStoreTest, UnknownAndMalformedTickets) {
  MemoryTicketStore store({});
  ASSERT_TRUE(store.Issue("alice", {}, absl::Seconds(10), kT0).ok());
  ExpectUnauthenticated(store.Redeem("", kT0), "ticket unknown");
  ExpectUnauthenticated(store.Redeem(std::string(43, 'A'), kT0), "ticket unknown");
  ExpectUnauthenticated(store.Redeem(std::string(10000, 'A'), kT0), "ticket unknown");
  EXPECT_EQ(store.size(), 1u);
}

TEST(TicketStoreTest, TicketsAreDistinct) {
  MemoryTicketStore store({});
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    absl::StatusOr<std::string> t = store.Issue("u", {}, absl::Seconds(60), kT0);
    ASSERT_TRUE(t.ok());
    EXPECT_TRUE(seen.insert(*t).second);
  }
}

TEST(TicketStoreTest, ExpiredTicketIsRefusedAndConsumed) {
  MemoryTicketStore store({});
  std::string t = *store.Issue("alice", {"tasks"}, absl::Seconds(5), kT0);
  ExpectUnauthenticated(store.Redeem(t, kT0 + absl::Seconds(5)), "ticket expired");
  ExpectUnauthenticated(store.Redeem(t, kT0), "ticket expired");
}

TEST(TicketStoreTest, IssueValidatesItsArguments) {
  MemoryTicketStore store({});
  auto code = [&](std::string user, std::vector<std::string> ch, absl::Duration ttl) {
    return store.Issue(std::move(user), std::move(ch), ttl, kT0).status().code();
  };
  EXPECT_EQ(code("", {}, absl::Seconds(10)), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code(std::string(257, 'u'), {}, absl::Seconds(10)), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code("u", {}, absl::ZeroDuration()), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code("u", {}, -absl::Seconds(1)), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code("u", {}, absl::Seconds(61)), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code("u", {}, absl::InfiniteDuration()), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code("u", {"a*b"}, absl::Seconds(10)), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code("u", {"ok", ""}, absl::Seconds(10)), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code("u", {"*"}, absl::Seconds(60)), absl::StatusCode::kOk);
  EXPECT_EQ(store.size(), 1u);

  absl::Status s = store.Issue("u", {}, absl::Seconds(61), kT0).status();
  EXPECT_TRUE(absl::StrContains(s.message(), "at most 1m")) << s;
}

TEST(TicketStoreTest, CapacitySweepsExpiredBeforeRefusing) {
  MemoryTicketStore store(Small(3));
  ASSERT_TRUE(store.Issue("a", {}, absl::Seconds(5), kT0).ok());
  ASSERT_TRUE(store.Issue("b", {}, absl::Seconds(50), kT0).ok());
  ASSERT_TRUE(store.Issue("c", {}, absl::Seconds(50), kT0).ok());
  absl::StatusOr<std::string> full = store.Issue("d", {}, absl::Seconds(5), kT0);
  EXPECT_EQ(full.status().code(), absl::StatusCode::kResourceExhausted);
  // Once "a" has expired there is room again.
  EXPECT_TRUE(store.Issue("d", {}, absl::Seconds(5), kT0 + absl::Seconds(5)).ok());
  EXPECT_EQ(store.size(), 3u);
}

TEST(TicketStoreTest, SweepDropsOnlyExpired) {
  MemoryTicketStore store({});
  std::string early = *store.Issue("a", {}, absl::Seconds(10), kT0);
  std::string late = *store.Issue("b", {}, absl::Seconds(20), kT0);
  store.Sweep(kT0 + absl::Seconds(9));
  EXPECT_EQ(store.size(), 2u);
  store.Sweep(kT0 + absl::Seconds(10));
  EXPECT_EQ(store.size(), 1u);
  ExpectUnauthenticated(store.Redeem(early, kT0), "ticket expired");
  EXPECT_TRUE(store.Redeem(late, kT0 + absl::Seconds(15)).ok());
  EXPECT_EQ(store.size(), 0u);
  store.Sweep(kT0 + absl::Hours(1));  // an empty sweep is fine
}

TEST(TicketStoreTest, ConcurrentRedeemSucceedsExactlyOnce) {
  MemoryTicketStore store({});
  constexpr int kThreads = 8;
  constexpr int kRounds = 200;
  for (int round = 0; round < kRounds; ++round) {
    std::string t = *store.Issue("alice", {"tasks"}, absl::Seconds(30), kT0);
    std::atomic<int> ok{0}, refused{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i) {
      threads.emplace_back([&] {
        while (!go.load()) std::this_thread::yield();
        absl::StatusOr<TicketGrant> g = store.Redeem(t, kT0 + absl::Seconds(1));
        (g.ok() ? ok : refused).fetch_add(1);
      });
    }
    go.store(true);
    for (std::thread& th : threads) th.join();
    ASSERT_EQ(ok.load(), 1) << "round " << round;
    ASSERT_EQ(refused.load(), kThreads - 1);
  }
  EXPECT_EQ(store.size(), 0u);
}

// Issue 16 finding 12: a swept ticket was "unknown or already used".
TEST(TicketStoreTest, RefusalNamesTheCause) {
  MemoryTicketStore store({});
  std::string used = *store.Issue("a", {}, absl::Seconds(10), kT0);
  std::string swept = *store.Issue("b", {}, absl::Seconds(10), kT0);
  std::string late = *store.Issue("c", {}, absl::Seconds(10), kT0);
  ASSERT_TRUE(store.Redeem(used, kT0).ok());
  store.Sweep(kT0 + absl::Seconds(10));
  EXPECT_EQ(store.size(), 0u);
  ExpectUnauthenticated(store.Redeem(used, kT0 + absl::Seconds(11)), "ticket already used");
  ExpectUnauthenticated(store.Peek(used, kT0 + absl::Seconds(11)), "ticket already used");
  ExpectUnauthenticated(store.Redeem(swept, kT0 + absl::Seconds(11)), "ticket expired");
  ExpectUnauthenticated(store.Peek(late, kT0 + absl::Seconds(11)), "ticket expired");
  ExpectUnauthenticated(store.Redeem(std::string(43, 'B'), kT0), "ticket unknown");
  EXPECT_EQ(store.tombstones(), 3u);
  // max_ttl past its expiry a tombstone is forgotten.
  store.Sweep(kT0 + absl::Seconds(10) + absl::Seconds(60));
  EXPECT_EQ(store.tombstones(), 0u);
  ExpectUnauthenticated(store.Redeem(used, kT0 + absl::Seconds(71)), "ticket unknown");
}

TEST(TicketStoreTest, TombstonesAreBoundedByMaxTickets) {
  MemoryTicketStore store(Small(4));
  std::vector<std::string> spent;
  for (int i = 0; i < 10; ++i) {
    spent.push_back(*store.Issue("u", {}, absl::Seconds(30), kT0));
    ASSERT_TRUE(store.Redeem(spent.back(), kT0).ok());
    EXPECT_LE(store.tombstones(), 4u);
  }
  // The oldest were forgotten, the newest are still told apart.
  ExpectUnauthenticated(store.Redeem(spent.front(), kT0), "ticket unknown");
  ExpectUnauthenticated(store.Redeem(spent.back(), kT0), "ticket already used");
}

// Issue 16 finding 9: one minter could take every ticket.
TEST(TicketStoreTest, EachMinterHasAShare) {
  TicketStore::Options o = Small(10);
  o.max_tickets_per_key = 2;
  MemoryTicketStore store(o);
  auto issue = [&](const std::string& minter, absl::Duration ttl = absl::Seconds(30)) {
    TicketGrant g;
    g.user_id = "u";
    g.minted_by = minter;
    return store.Issue(std::move(g), ttl, kT0);
  };
  std::string first = *issue("k1", absl::Seconds(5));
  ASSERT_TRUE(issue("k1").ok());
  absl::Status full = issue("k1").status();
  EXPECT_EQ(full.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(absl::StrContains(full.message(), "--max_tickets_per_key")) << full;
  EXPECT_TRUE(issue("k2").ok());
  EXPECT_EQ(store.LiveTicketsOf("k1"), 2u);
  // Redeeming (or expiry) gives the slot back.
  ASSERT_TRUE(store.Redeem(first, kT0).ok());
  EXPECT_EQ(store.LiveTicketsOf("k1"), 1u);
  EXPECT_TRUE(issue("k1").ok());
  EXPECT_FALSE(issue("k1").ok());
  TicketGrant g;
  g.user_id = "u";
  g.minted_by = "k1";
  EXPECT_FALSE(store.Issue(g, absl::Seconds(30), kT0 + absl::Seconds(1)).ok());
}

TEST(TicketStoreTest, GlobalLimitNamesItsFlag) {
  MemoryTicketStore store(Small(1));
  ASSERT_TRUE(store.Issue("a", {}, absl::Seconds(30), kT0).ok());
  absl::Status full = store.Issue("b", {}, absl::Seconds(30), kT0).status();
  EXPECT_EQ(full.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(absl::StrContains(full.message(), "--max_tickets")) << full;
}

}  // namespace
}  // namespace ssebridge
