// SharedTicketStore over a vault in memory that keeps the TicketVault
// promises (the real one, Redis, is exercised by
// tests/integration/redis_tickets_test.cc): what it stores, once-only
// redeem across two stores sharing one vault, the refusals' causes, the
// per-replica bounds, and failures of the vault as UNAVAILABLE.
#include "bridge/auth/shared_ticket_store.h"

#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/time/time.h"
#include "bridge/auth/ticket_codec.h"
#include "gtest/gtest.h"
#include "tests/unit/fixed_clock.h"

namespace ssebridge {
namespace {

class FakeVault : public TicketVault {
 public:
  absl::Status Put(absl::string_view name, absl::string_view record, absl::Time expires_at,
                   absl::Duration keep) override {
    std::lock_guard<std::mutex> lock(mu);
    if (!failure.ok()) return failure;
    if (records.count(std::string(name)) != 0) return absl::AlreadyExistsError("exists");
    records[std::string(name)] = {std::string(record), expires_at, Fate::kLive};
    last_keep = keep;
    return absl::OkStatus();
  }
  absl::StatusOr<Found> Take(absl::string_view name, absl::Time now) override {
    return Fetch(name, now, true);
  }
  absl::StatusOr<Found> Look(absl::string_view name, absl::Time now) override {
    return Fetch(name, now, false);
  }

  struct Record {
    std::string record;
    absl::Time expires_at;
    Fate fate;
  };
  std::mutex mu;
  std::map<std::string, Record> records;
  absl::Status failure;
  absl::Duration last_keep;

 private:
  absl::StatusOr<Found> Fetch(absl::string_view name, absl::Time now, bool take) {
    std::lock_guard<std::mutex> lock(mu);
    if (!failure.ok()) return failure;
    Found found;
    auto it = records.find(std::string(name));
    if (it == records.end()) return found;  // kUnknown
    Record& r = it->second;
    if (r.fate == Fate::kLive && now >= r.expires_at) {
      if (take) r.fate = Fate::kExpired;
      found.fate = Fate::kExpired;
      return found;
    }
    found.fate = r.fate;
    if (r.fate == Fate::kLive) {
      found.record = r.record;
      if (take) r.fate = Fate::kUsed;
    }
    return found;
  }
};

void ExpectRefused(const absl::StatusOr<TicketGrant>& g, absl::StatusCode code,
                   absl::string_view message_part) {
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().code(), code) << g.status();
  EXPECT_TRUE(absl::StrContains(g.status().message(), message_part)) << g.status();
}

TEST(SharedTicketStoreTest, StoresTheGrantUnderTheDigestNeverTheTicket) {
  FakeVault vault;
  SharedTicketStore store({}, &vault);
  absl::StatusOr<std::string> t = store.Issue("alice", {"tasks"}, absl::Seconds(30), kT0);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->size(), TicketStore::kTicketLength);
  ASSERT_EQ(vault.records.size(), 1u);
  const auto& [name, rec] = *vault.records.begin();
  EXPECT_EQ(name.size(), 64u);  // hex SHA-256
  EXPECT_EQ(name.find(*t), std::string::npos);
  EXPECT_EQ(rec.record.find(*t), std::string::npos);
  EXPECT_EQ(rec.expires_at, kT0 + absl::Seconds(30));
  // Kept max_ttl past expiry, so a late redeem hears why.
  EXPECT_EQ(vault.last_keep, absl::Seconds(30) + absl::Seconds(60));
  absl::StatusOr<TicketGrant> stored = DecodeTicketGrant(rec.record);
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(stored->user_id, "alice");
  EXPECT_EQ(store.size(), 1u);
}

TEST(SharedTicketStoreTest, IssuedOnOneRedeemedOnAnotherOnce) {
  FakeVault vault;
  SharedTicketStore a({}, &vault);
  SharedTicketStore b({}, &vault);
  absl::StatusOr<std::string> t =
      a.Issue("alice", {"tasks", "user.alice.*"}, absl::Seconds(30), kT0);
  ASSERT_TRUE(t.ok()) << t.status();
  absl::StatusOr<TicketGrant> peeked = b.Peek(*t, kT0 + absl::Seconds(1));
  ASSERT_TRUE(peeked.ok()) << peeked.status();
  absl::StatusOr<TicketGrant> g = b.Redeem(*t, kT0 + absl::Seconds(1));
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(g->user_id, "alice");
  EXPECT_EQ(g->channels.patterns(), (std::vector<std::string>{"tasks", "user.alice.*"}));
  EXPECT_EQ(g->expires_at, kT0 + absl::Seconds(30));
  ExpectRefused(a.Redeem(*t, kT0 + absl::Seconds(2)), absl::StatusCode::kUnauthenticated,
                "ticket already used");
  ExpectRefused(b.Redeem(*t, kT0 + absl::Seconds(2)), absl::StatusCode::kUnauthenticated,
                "ticket already used");
  ExpectRefused(b.Peek(*t, kT0 + absl::Seconds(2)), absl::StatusCode::kUnauthenticated,
                "ticket already used");
}

TEST(SharedTicketStoreTest, RefusalsNameTheCause) {
  FakeVault vault;
  SharedTicketStore store({}, &vault);
  absl::StatusOr<std::string> t = store.Issue("u", {"a"}, absl::Seconds(5), kT0);
  ASSERT_TRUE(t.ok());
  ExpectRefused(store.Peek(*t, kT0 + absl::Seconds(5)), absl::StatusCode::kUnauthenticated,
                "ticket expired");
  ExpectRefused(store.Redeem(*t, kT0 + absl::Seconds(5)), absl::StatusCode::kUnauthenticated,
                "ticket expired");
  ExpectRefused(store.Redeem(*t, kT0 + absl::Seconds(6)), absl::StatusCode::kUnauthenticated,
                "ticket expired");
  ExpectRefused(store.Redeem(std::string(TicketStore::kTicketLength, 'A'), kT0),
                absl::StatusCode::kUnauthenticated, "ticket unknown");
  ExpectRefused(store.Redeem("short", kT0), absl::StatusCode::kUnauthenticated, "ticket unknown");
  EXPECT_FALSE(store.Issue("u", {"a"}, absl::Seconds(61), kT0).ok());
  EXPECT_FALSE(store.Issue("", {"a"}, absl::Seconds(1), kT0).ok());
}

TEST(SharedTicketStoreTest, ConcurrentRedeemsOnTwoStoresSucceedExactlyOnce) {
  FakeVault vault;
  SharedTicketStore a({}, &vault);
  SharedTicketStore b({}, &vault);
  for (int round = 0; round < 50; ++round) {
    absl::StatusOr<std::string> t = a.Issue("u", {"a"}, absl::Seconds(30), kT0);
    ASSERT_TRUE(t.ok());
    std::atomic<int> won{0};
    std::vector<std::thread> racers;
    for (int i = 0; i < 4; ++i) {
      racers.emplace_back([&, i] {
        SharedTicketStore& s = i % 2 == 0 ? a : b;
        if (s.Redeem(*t, kT0 + absl::Seconds(1)).ok()) won.fetch_add(1);
      });
    }
    for (std::thread& r : racers) r.join();
    EXPECT_EQ(won.load(), 1);
  }
}

TEST(SharedTicketStoreTest, BoundsCountWhatThisReplicaIssued) {
  FakeVault vault;
  TicketStore::Options o;
  o.max_tickets = 3;
  o.max_tickets_per_key = 2;
  SharedTicketStore store(o, &vault);
  TicketGrant g;
  g.user_id = "u";
  g.minted_by = "k1";
  ASSERT_TRUE(store.Issue(g, absl::Seconds(10), kT0).ok());
  absl::StatusOr<std::string> t2 = store.Issue(g, absl::Seconds(10), kT0);
  ASSERT_TRUE(t2.ok());
  absl::StatusOr<std::string> refused = store.Issue(g, absl::Seconds(10), kT0);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(absl::StrContains(refused.status().message(), "--max_tickets_per_key"));
  // Redeemed here: no longer counted.
  ASSERT_TRUE(store.Redeem(*t2, kT0 + absl::Seconds(1)).ok());
  EXPECT_EQ(store.LiveTicketsOf("k1"), 1u);
  ASSERT_TRUE(store.Issue(g, absl::Seconds(10), kT0).ok());
  g.minted_by = "k2";
  ASSERT_TRUE(store.Issue(g, absl::Seconds(10), kT0).ok());
  refused = store.Issue(g, absl::Seconds(10), kT0);
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(absl::StrContains(refused.status().message(), "--max_tickets")) << refused.status();
  // Expired: swept to make room.
  EXPECT_TRUE(store.Issue(g, absl::Seconds(10), kT0 + absl::Seconds(10)).ok());
  store.Sweep(kT0 + absl::Seconds(60));
  EXPECT_EQ(store.size(), 0u);
}

TEST(SharedTicketStoreTest, AnUnreachableVaultIsUnavailableNeverAGuess) {
  FakeVault vault;
  SharedTicketStore store({}, &vault);
  absl::StatusOr<std::string> t = store.Issue("u", {"a"}, absl::Seconds(30), kT0);
  ASSERT_TRUE(t.ok());
  vault.failure = absl::UnavailableError("Redis at 127.0.0.1:1: connection refused");
  absl::StatusOr<std::string> issued = store.Issue("u", {"a"}, absl::Seconds(30), kT0);
  ASSERT_FALSE(issued.ok());
  EXPECT_EQ(issued.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(absl::StrContains(issued.status().message(), "Redis")) << issued.status();
  EXPECT_EQ(store.size(), 1u);  // the refused one is not counted
  ExpectRefused(store.Redeem(*t, kT0), absl::StatusCode::kUnavailable, "Redis");
  ExpectRefused(store.Peek(*t, kT0), absl::StatusCode::kUnavailable, "Redis");
  vault.failure = absl::DeadlineExceededError("Redis at 127.0.0.1:1: no answer");
  ExpectRefused(store.Redeem(*t, kT0), absl::StatusCode::kUnavailable, "may have been spent");
  // Redis back: the ticket was never taken, so it still works once.
  vault.failure = absl::OkStatus();
  EXPECT_TRUE(store.Redeem(*t, kT0).ok());
}

TEST(SharedTicketStoreTest, ACollidingNameIsNeverHandedOut) {
  FakeVault vault;
  SharedTicketStore store({}, &vault);
  vault.failure = absl::AlreadyExistsError("exists");
  absl::StatusOr<std::string> t = store.Issue("u", {"a"}, absl::Seconds(30), kT0);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), absl::StatusCode::kInternal);
}

}  // namespace
}  // namespace ssebridge
