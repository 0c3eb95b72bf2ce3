// MemoryBroker: ids, idempotency, limits, retained values, resume and reset,
// exactly-once hand-over between catch-up and live delivery, and Sweep.
//
// A real Hub and SseEncoder are used; the broker's clock is injected and the
// hub's shards are drained by the test thread.
#include "bridge/broker/memory/memory_broker.h"

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "bridge/core/event_id.h"
#include "bridge/core/hub.h"
#include "bridge/core/publish_validation.h"
#include "bridge/sse/sse_encoder.h"
#include "gtest/gtest.h"
#include "tests/harness/sse_parser.h"
#include "tests/unit/fixed_clock.h"

namespace ssebridge {
namespace {

// ---- what a browser would see ---------------------------------------------

struct SseEvent {
  std::string type;
  std::string data;
  std::string id;  // the last event ID at dispatch
};

// What a browser reads (tests/harness/sse_parser.h). When `last_event_id`
// is given, it receives the EventSource's last event ID after the whole
// stream: what a browser sends as Last-Event-ID when it reconnects.
std::vector<SseEvent> ParseSse(absl::string_view stream, std::string* last_event_id = nullptr) {
  ssebridge_it::SseParser parser;
  parser.Feed(stream);
  if (last_event_id != nullptr) *last_event_id = parser.last_event_id();
  std::vector<SseEvent> out;
  for (const ssebridge_it::SseEvent& e : parser.events()) {
    out.push_back(SseEvent{e.event, e.data, e.id});
  }
  return out;
}

class CollectingSink : public SubscriptionSink {
 public:
  void OnReady() override {
    std::lock_guard<std::mutex> lock(sub->mu);
    if (sub->overflowed) overflowed = true;
    absl::string_view v[16];
    size_t n;
    while ((n = sub->queue.Peek(v, 16)) > 0) {
      size_t total = 0;
      for (size_t i = 0; i < n; ++i) {
        bytes.append(v[i].data(), v[i].size());
        total += v[i].size();
      }
      sub->queue.Consume(total);
    }
  }
  Subscription* sub = nullptr;
  std::string bytes;
  bool overflowed = false;
};

struct Reader {
  CollectingSink sink;
  std::shared_ptr<Subscription> sub;
  std::vector<SseEvent> Events() const { return ParseSse(sink.bytes); }
  // The Last-Event-ID a browser would reconnect with.
  std::string LastEventId() const {
    std::string id;
    ParseSse(sink.bytes, &id);
    return id;
  }
  std::vector<std::string> Ids() const {
    std::vector<std::string> out;
    for (const auto& e : Events()) out.push_back(e.id);
    return out;
  }
  std::vector<std::string> Data() const {
    std::vector<std::string> out;
    for (const auto& e : Events()) out.push_back(e.data);
    return out;
  }
};

using Strings = std::vector<std::string>;

class MemoryBrokerTest : public testing::Test {
 protected:
  MemoryBrokerTest() : hub_(2) {
    options_.epoch = "ep1";
    options_.clock = [this] { return now_; };
  }

  MemoryBroker& broker() {
    if (!broker_) broker_ = std::make_unique<MemoryBroker>(options_, &hub_, &encoder_);
    return *broker_;
  }

  absl::StatusOr<PublishOutcome> TryPublish(PublishSpec spec) {
    absl::Status s = ValidatePublishSpec(&spec, PublishLimits{});
    if (!s.ok()) return s;
    return broker().Publish(spec);
  }

  PublishOutcome Publish(const std::string& channel, const std::string& data,
                         const std::string& type = "", Strings users = {}, bool retain = false,
                         const std::string& key = "") {
    PublishSpec spec;
    spec.channel = channel;
    spec.data = data;
    spec.type = type;
    spec.user_ids = std::move(users);
    spec.retain = retain;
    spec.idempotency_key = key;
    absl::StatusOr<PublishOutcome> out = TryPublish(std::move(spec));
    if (!out.ok()) {
      ADD_FAILURE() << "publish failed: " << out.status();
      return PublishOutcome{};
    }
    return *out;
  }

  PublishOutcome Retain(const std::string& channel, const std::string& data,
                        const std::string& type = "", Strings users = {}) {
    return Publish(channel, data, type, std::move(users), /*retain=*/true);
  }

  std::unique_ptr<Reader> Subscribe(Strings channels, absl::string_view cursor,
                                    const std::string& user = "") {
    auto r = std::make_unique<Reader>();
    Subscription::Options o;
    o.channels = std::move(channels);
    o.user_id = user;
    o.queue_bytes = 1 << 20;
    r->sub = std::make_shared<Subscription>(std::move(o), PolicyTable(), &r->sink);
    r->sink.sub = r->sub.get();
    EXPECT_TRUE(broker().Attach(r->sub, cursor).ok());
    DrainAll();
    return r;
  }

  void DrainAll() {
    for (int i = 0; i < hub_.shard_count(); ++i) hub_.shard(i).Drain();
  }

  Hub hub_;
  SseEncoder encoder_;
  absl::Time now_ = kT0;
  MemoryBroker::Options options_;
  std::unique_ptr<MemoryBroker> broker_;
};

// ---- ids --------------------------------------------------------------------

TEST_F(MemoryBrokerTest, IdsAreEpochAndGlobalSequence) {
  EXPECT_EQ(broker().epoch(), "ep1");
  EXPECT_EQ(broker().head_seq(), 0u);
  EXPECT_EQ(Publish("a", "1").id, "ep1-1");
  EXPECT_EQ(Publish("b", "2").id, "ep1-2");
  EXPECT_EQ(Publish("a", "3").id, "ep1-3");
  EXPECT_EQ(Publish("c", "4", "t", {"u"}).id, "ep1-4");
  EXPECT_EQ(broker().head_seq(), 4u);
  EXPECT_EQ(broker().channels(), 3u);
}

TEST_F(MemoryBrokerTest, DefaultEpochIsFresh) {
  options_.epoch.clear();
  MemoryBroker b1(options_, &hub_, &encoder_);
  MemoryBroker b2(options_, &hub_, &encoder_);
  EXPECT_FALSE(b1.epoch().empty());
  EXPECT_NE(b1.epoch(), b2.epoch());
  absl::StatusOr<EventId> id = ParseEventId(b1.epoch() + "-1", "f");
  ASSERT_TRUE(id.ok()) << id.status();
  PublishSpec spec;
  spec.channel = "a";
  spec.type = "message";
  spec.data = "x";
  absl::StatusOr<PublishOutcome> out = b1.Publish(spec);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->id, b1.epoch() + "-1");
}

TEST_F(MemoryBrokerTest, OutcomeCarriesTimeAndRecipientCount) {
  auto r1 = Subscribe({"a"}, "");
  auto r2 = Subscribe({"a", "b"}, "", "alice");
  now_ = kT0 + absl::Seconds(5);
  PublishOutcome o = Publish("a", "x");
  EXPECT_EQ(o.published_at, kT0 + absl::Seconds(5));
  EXPECT_EQ(o.subscribers, 2u);
  EXPECT_FALSE(o.replayed);
  EXPECT_EQ(Publish("b", "x").subscribers, 1u);
  EXPECT_EQ(Publish("a", "x", "", {"alice"}).subscribers, 1u);
  EXPECT_EQ(Publish("a", "x", "", {"bob"}).subscribers, 0u);
  EXPECT_EQ(Publish("zzz", "x").subscribers, 0u);
}

TEST_F(MemoryBrokerTest, LiveEventsAreEncodedOnce) {
  auto r = Subscribe({"a"}, "");
  const size_t catch_up = r->sink.bytes.size();
  Publish("a", "line1\r\nline2", "upd");
  Publish("a", "plain");
  DrainAll();
  EXPECT_EQ(r->sink.bytes.substr(catch_up),
            "channel: a\nid: ep1-1\nevent: upd\ndata: line1\ndata: line2\n\n"
            "channel: a\nid: ep1-2\ndata: plain\n\n");
}

// ---- idempotency --------------------------------------------------------------

TEST_F(MemoryBrokerTest, IdempotentRetryIsAnsweredFromTheWindow) {
  auto r = Subscribe({"a"}, "");
  PublishOutcome first = Publish("a", "x", "", {}, false, "key-1");
  EXPECT_EQ(first.id, "ep1-1");
  EXPECT_FALSE(first.replayed);
  now_ += absl::Seconds(30);
  PublishOutcome again = Publish("a", "x", "", {}, false, "key-1");
  EXPECT_EQ(again.id, "ep1-1");
  EXPECT_TRUE(again.replayed);
  EXPECT_EQ(again.published_at, first.published_at);
  EXPECT_EQ(broker().head_seq(), 1u) << "a replay publishes nothing";
  // Even a different payload under the same key is the same publish.
  PublishOutcome other = Publish("b", "y", "", {}, false, "key-1");
  EXPECT_EQ(other.id, "ep1-1");
  EXPECT_TRUE(other.replayed);
  EXPECT_EQ(broker().head_seq(), 1u);
  EXPECT_EQ(broker().channels(), 1u);
  DrainAll();
  EXPECT_EQ(r->Ids(), (Strings{"ep1-1"}));
  // Another key is another publish.
  EXPECT_EQ(Publish("a", "x", "", {}, false, "key-2").id, "ep1-2");
}

TEST_F(MemoryBrokerTest, IdempotencyKeysExpire) {
  options_.idempotency_window = absl::Minutes(1);
  EXPECT_EQ(Publish("a", "x", "", {}, false, "k").id, "ep1-1");
  now_ += absl::Minutes(2);
  PublishOutcome o = Publish("a", "x", "", {}, false, "k");
  EXPECT_EQ(o.id, "ep1-2");
  EXPECT_FALSE(o.replayed);
}

// ---- limits ------------------------------------------------------------------

TEST_F(MemoryBrokerTest, MaxChannels) {
  options_.max_channels = 2;
  Publish("a", "1");
  Publish("b", "2");
  PublishSpec spec;
  spec.channel = "c";
  spec.data = "3";
  absl::StatusOr<PublishOutcome> out = TryPublish(spec);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(broker().head_seq(), 2u) << "a refused publish takes no id";
  EXPECT_EQ(broker().channels(), 2u);
  EXPECT_EQ(Publish("a", "4").id, "ep1-3");  // known channels still work
}

// ---- attach: retained values ---------------------------------------------------

TEST_F(MemoryBrokerTest, EmptyCursorDeliversLatestRetainedValuePerType) {
  Retain("a", "cpu1", "cpu");    // 1
  Retain("a", "mem1", "mem");    // 2
  Publish("a", "not retained");  // 3
  Retain("a", "cpu2", "cpu");    // 4
  Retain("b", "other", "cpu");   // 5: not subscribed
  Retain("a", "msg");            // 6: type "message"
  auto r = Subscribe({"a"}, "");
  std::vector<SseEvent> ev = r->Events();
  ASSERT_EQ(ev.size(), 3u);
  EXPECT_EQ(r->Ids(), (Strings{"ep1-2", "ep1-4", "ep1-6"})) << "in seq order";
  EXPECT_EQ(ev[0].type, "mem");
  EXPECT_EQ(ev[0].data, "mem1");
  EXPECT_EQ(ev[1].type, "cpu");
  EXPECT_EQ(ev[1].data, "cpu2");
  EXPECT_EQ(ev[2].type, "message");
  EXPECT_EQ(ev[2].data, "msg");
  // Then live.
  Publish("a", "live");
  DrainAll();
  EXPECT_EQ(r->Data(), (Strings{"mem1", "cpu2", "msg", "live"}));
}

TEST_F(MemoryBrokerTest, EmptyCursorWithNothingRetainedDeliversNothing) {
  Publish("a", "x");
  auto r = Subscribe({"a", "never"}, "");
  EXPECT_TRUE(r->Events().empty()) << r->sink.bytes;
  // Only the reader's cursor moves to the head, so a reconnect before its
  // first event resumes from where its stream started.
  EXPECT_EQ(r->LastEventId(), "ep1-1");
}

TEST_F(MemoryBrokerTest, EmptyCursorSnapshotEndsAtTheHead) {
  Retain("a", "v1", "state");  // 1
  Publish("b", "other");       // 2
  auto r = Subscribe({"a"}, "");
  EXPECT_EQ(r->Ids(), (Strings{"ep1-1"}));
  EXPECT_EQ(r->LastEventId(), "ep1-2");
  // Live events move it on as usual.
  Publish("a", "live");  // 3
  DrainAll();
  EXPECT_EQ(r->LastEventId(), "ep1-3");
}

TEST_F(MemoryBrokerTest, RetainedValuesAcrossChannelsAreMergedInSeqOrder) {
  Retain("b", "b1");       // 1
  Retain("a", "a1");       // 2
  Retain("b", "b2", "t");  // 3
  auto r = Subscribe({"a", "b"}, "");
  EXPECT_EQ(r->Ids(), (Strings{"ep1-1", "ep1-2", "ep1-3"}));
}

TEST_F(MemoryBrokerTest, TargetedRetainedValuesOnlyReachTheirUsers) {
  Retain("a", "for everyone", "state");                    // 1
  Retain("a", "for alice", "state", {"alice"});            // 2
  Retain("a", "for alice+bob", "note", {"bob", "alice"});  // 3
  Retain("a", "for bob", "state", {"bob"});                // 4
  auto anon = Subscribe({"a"}, "");
  auto alice = Subscribe({"a"}, "", "alice");
  auto bob = Subscribe({"a"}, "", "bob");
  auto carol = Subscribe({"a"}, "", "carol");
  EXPECT_EQ(anon->Data(), (Strings{"for everyone"}));
  EXPECT_EQ(alice->Data(), (Strings{"for everyone", "for alice", "for alice+bob"}));
  EXPECT_EQ(bob->Data(), (Strings{"for everyone", "for alice+bob", "for bob"}));
  EXPECT_EQ(carol->Data(), (Strings{"for everyone"}));
  // A newer per-user value replaces only that user's value.
  Retain("a", "for alice v2", "state", {"alice"});
  auto alice2 = Subscribe({"a"}, "", "alice");
  auto bob2 = Subscribe({"a"}, "", "bob");
  EXPECT_EQ(alice2->Data(), (Strings{"for everyone", "for alice+bob", "for alice v2"}));
  EXPECT_EQ(bob2->Data(), (Strings{"for everyone", "for alice+bob", "for bob"}));
}

// User ids may contain any valid UTF-8, line feeds included; a value targeted
// at the single user "a\nb" must not replace the value targeted at users
// "a" and "b".
TEST_F(MemoryBrokerTest, RetainedAudiencesDoNotCollide) {
  Retain("ch", "for a and b", "state", {"a", "b"});
  Retain("ch", "for a-newline-b", "state", {"a\nb"});
  auto a = Subscribe({"ch"}, "", "a");
  auto ab = Subscribe({"ch"}, "", "a\nb");
  EXPECT_EQ(a->Data(), (Strings{"for a and b"}));
  EXPECT_EQ(ab->Data(), (Strings{"for a-newline-b"}));
}

// ---- attach: resume from a cursor -------------------------------------------------

TEST_F(MemoryBrokerTest, ValidCursorReplaysLaterEventsOnSubscribedChannels) {
  Publish("a", "a1");               // 1
  Publish("b", "b2");               // 2
  Publish("c", "c3");               // 3
  Publish("a", "a4");               // 4
  Retain("b", "b5", "state");       // 5
  Publish("c", "c6");               // 6
  Publish("a", "a7", "", {"bob"});  // 7: bob only
  Publish("b", "b8");               // 8
  auto anon = Subscribe({"a", "b"}, "ep1-2");
  EXPECT_EQ(anon->Ids(), (Strings{"ep1-4", "ep1-5", "ep1-8"}));
  EXPECT_EQ(anon->Data(), (Strings{"a4", "b5", "b8"}));
  auto bob = Subscribe({"b", "a"}, "ep1-2", "bob");
  EXPECT_EQ(bob->Ids(), (Strings{"ep1-4", "ep1-5", "ep1-7", "ep1-8"}));
  auto alice = Subscribe({"a", "b"}, "ep1-2", "alice");
  EXPECT_EQ(alice->Ids(), (Strings{"ep1-4", "ep1-5", "ep1-8"}));
  // Then live, with nothing repeated.
  Publish("a", "a9");
  Publish("c", "c10");
  DrainAll();
  EXPECT_EQ(anon->Ids(), (Strings{"ep1-4", "ep1-5", "ep1-8", "ep1-9"}));
}

TEST_F(MemoryBrokerTest, CursorAtHeadReplaysNothingAndSkipsRetained) {
  Retain("a", "r1");
  Publish("a", "x");
  auto r = Subscribe({"a"}, "ep1-2");
  EXPECT_TRUE(r->sink.bytes.empty()) << r->sink.bytes;
  auto r0 = Subscribe({"a"}, "ep1-1");
  EXPECT_EQ(r0->Ids(), (Strings{"ep1-2"}));
}

TEST_F(MemoryBrokerTest, CursorZeroReplaysEverythingHeld) {
  Publish("a", "x");
  Publish("a", "y");
  auto r = Subscribe({"a"}, "ep1-0");
  EXPECT_EQ(r->Ids(), (Strings{"ep1-1", "ep1-2"}));
}

// ---- attach: reset notices -----------------------------------------------------

class MemoryBrokerResetTest : public MemoryBrokerTest {
 protected:
  void SetUp() override {
    options_.history.max_events = 1;   // channel "a" only keeps its newest
    Retain("a", "state v1", "state");  // 1
    Publish("a", "plain");             // 2
    Retain("a", "state v2", "state");  // 3
    Publish("b", "elsewhere");         // 4
  }

  void ExpectReset(const Reader& r, const std::string& reason, const std::string& cursor) {
    std::vector<SseEvent> ev = r.Events();
    ASSERT_EQ(ev.size(), 2u) << r.sink.bytes;
    EXPECT_EQ(ev[0].type, "ssebridge.reset");
    EXPECT_EQ(ev[0].id, "ep1-4") << "the reset carries the head id";
    EXPECT_TRUE(absl::StrContains(ev[0].data, "\"reason\":\"" + reason + "\"")) << ev[0].data;
    EXPECT_TRUE(absl::StrContains(ev[0].data, "\"head\":\"ep1-4\"")) << ev[0].data;
    EXPECT_TRUE(absl::StrContains(ev[0].data, "\"cursor\":\"" + cursor + "\"")) << ev[0].data;
    // Then the retained values, nothing else.
    EXPECT_EQ(ev[1].type, "state");
    EXPECT_EQ(ev[1].data, "state v2");
    EXPECT_EQ(ev[1].id, "ep1-3");
    // The reset is the first frame on the wire, before anything else.
    EXPECT_TRUE(absl::StartsWith(r.sink.bytes, "id: ep1-4\nevent: ssebridge.reset\n"))
        << r.sink.bytes;
    // And the reader resumes from the head next time, not from the id of
    // the (older) retained value.
    EXPECT_EQ(r.LastEventId(), "ep1-4");
  }
};

TEST_F(MemoryBrokerResetTest, MalformedCursor) {
  for (const char* c : {"garbage", "EP1-2", "ep1-", "-3", "ep1-x", "ep1-99999999999999999999"}) {
    SCOPED_TRACE(c);
    auto r = Subscribe({"a"}, c);
    ExpectReset(*r, "malformed_cursor", c);
  }
}

TEST_F(MemoryBrokerResetTest, UnknownEpoch) {
  auto r = Subscribe({"a"}, "ep0-2");
  ExpectReset(*r, "unknown_epoch", "ep0-2");
}

TEST_F(MemoryBrokerResetTest, CursorAhead) {
  auto r = Subscribe({"a"}, "ep1-5");
  ExpectReset(*r, "cursor_ahead", "ep1-5");
}

TEST_F(MemoryBrokerResetTest, CursorTooOld) {
  auto r = Subscribe({"a"}, "ep1-1");
  ExpectReset(*r, "cursor_too_old", "ep1-1");
}

TEST_F(MemoryBrokerResetTest, TooOldOnOneChannelResetsTheWholeSubscription) {
  auto r = Subscribe({"b", "a"}, "ep1-1");
  ExpectReset(*r, "cursor_too_old", "ep1-1");
}

TEST_F(MemoryBrokerResetTest, CursorJustAtTheEvictionPointResumes) {
  auto r = Subscribe({"a", "b"}, "ep1-2");
  EXPECT_EQ(r->Ids(), (Strings{"ep1-3", "ep1-4"}));
  EXPECT_FALSE(absl::StrContains(r->sink.bytes, "ssebridge.reset"));
}

TEST_F(MemoryBrokerResetTest, ResetRetainedValuesRespectTheAudience) {
  Retain("a", "alice's", "mine", {"alice"});  // 5
  auto anon = Subscribe({"a"}, "junk");
  auto alice = Subscribe({"a"}, "junk", "alice");
  EXPECT_EQ(anon->Data().size(), 2u);
  ASSERT_EQ(alice->Events().size(), 3u);
  EXPECT_EQ(alice->Events()[0].type, "ssebridge.reset");
  EXPECT_EQ(alice->Events()[0].id, "ep1-5");
  EXPECT_EQ(alice->Data()[1], "state v2");
  EXPECT_EQ(alice->Data()[2], "alice's");
}

TEST_F(MemoryBrokerResetTest, CursorIsSanitisedInTheNotice) {
  auto r = Subscribe({"a"}, std::string("a\"b\\c\x01\xC3\xA9"));
  std::vector<SseEvent> ev = r->Events();
  ASSERT_FALSE(ev.empty());
  EXPECT_EQ(ev[0].type, "ssebridge.reset");
  EXPECT_TRUE(absl::StrContains(ev[0].data, "\"cursor\":\"a\\\"b\\\\c???\"")) << ev[0].data;
  EXPECT_EQ(ev[0].data.find('\n'), std::string::npos);
}

TEST_F(MemoryBrokerTest, CursorTooOldByAge) {
  options_.history.max_age = absl::Seconds(60);
  Publish("a", "old");  // 1 at t0
  now_ = kT0 + absl::Seconds(30);
  Publish("a", "newer");           // 2 at t0+30
  now_ = kT0 + absl::Seconds(75);  // 1 is 75s old; nothing swept yet
  auto r = Subscribe({"a"}, "ep1-0");
  std::vector<SseEvent> ev = r->Events();
  ASSERT_EQ(ev.size(), 1u) << r->sink.bytes;
  EXPECT_EQ(ev[0].type, "ssebridge.reset");
  EXPECT_TRUE(absl::StrContains(ev[0].data, "\"reason\":\"cursor_too_old\""));
  EXPECT_EQ(ev[0].id, "ep1-2");
  // A cursor that already saw the aged event resumes fine.
  auto ok = Subscribe({"a"}, "ep1-1");
  EXPECT_EQ(ok->Ids(), (Strings{"ep1-2"}));
}

// ---- reconnecting like a browser ---------------------------------------------------

// After a reset the reader resumes from the reset's head id, as the notice
// promises, even when retained values follow it: reconnecting right away must
// not reset again (and again, on every reconnect).
TEST_F(MemoryBrokerTest, ReconnectAfterResetDoesNotResetAgain) {
  options_.history.max_events = 1;
  Retain("a", "state", "state");  // 1: retained, soon evicted from history
  Publish("a", "x");              // 2
  Publish("a", "y");              // 3: history of "a" is now just 3
  auto first = Subscribe({"a"}, "ep1-0");
  ASSERT_FALSE(first->Events().empty());
  ASSERT_EQ(first->Events()[0].type, "ssebridge.reset");
  ASSERT_EQ(first->Events()[0].id, "ep1-3");
  const std::string cursor = first->LastEventId();
  auto second = Subscribe({"a"}, cursor);
  EXPECT_FALSE(absl::StrContains(second->sink.bytes, "ssebridge.reset"))
      << "reconnected with Last-Event-ID \"" << cursor << "\" and got:\n"
      << second->sink.bytes;
}

// A fresh reader gets the retained values; nothing else happens; it
// reconnects with whatever id the browser kept. Nothing was published since it
// first connected, so there is nothing to replay and nothing to reset.
TEST_F(MemoryBrokerTest, ReconnectAfterRetainedSnapshotIsQuiet) {
  options_.history.max_events = 1;
  Retain("a", "state", "state");  // 1
  Publish("a", "x");              // 2
  Publish("a", "y");              // 3
  auto first = Subscribe({"a"}, "");
  ASSERT_EQ(first->Data(), (Strings{"state"}));
  const std::string cursor = first->LastEventId();
  auto second = Subscribe({"a"}, cursor);
  EXPECT_TRUE(second->sink.bytes.empty())
      << "reconnected with Last-Event-ID \"" << cursor << "\" and got:\n"
      << second->sink.bytes;
}

// The same without eviction: events published before the reader ever
// connected must not be replayed to it on its first reconnect.
TEST_F(MemoryBrokerTest, ReconnectAfterRetainedSnapshotReplaysNothingOlder) {
  Retain("a", "state", "state");  // 1
  Publish("a", "old news");       // 2: before the reader connected
  auto first = Subscribe({"a"}, "");
  ASSERT_EQ(first->Data(), (Strings{"state"}));
  Publish("a", "live");  // 3
  DrainAll();
  ASSERT_EQ(first->Data(), (Strings{"state", "live"}));
  // Connection drops before anything else: resume.
  auto second = Subscribe({"a"}, first->LastEventId());
  EXPECT_TRUE(second->sink.bytes.empty()) << second->sink.bytes;
  // And if it drops right after the snapshot, before "live":
  auto third_first = Subscribe({"a"}, "");
  Retain("b", "unrelated");  // 4
  auto third = Subscribe({"a"}, third_first->LastEventId());
  EXPECT_FALSE(absl::StrContains(third->sink.bytes, "old news")) << third->sink.bytes;
  EXPECT_FALSE(absl::StrContains(third->sink.bytes, "data: live")) << third->sink.bytes;
}

// ---- exactly once across the hand-over ---------------------------------------------

TEST_F(MemoryBrokerTest, NoGapNoDuplicateWhenPublishingDuringAttach) {
  // Nothing may leave the history however long this thread is descheduled
  // while the publisher runs (once, ~6,400 events filled the 1 MiB default).
  options_.history.max_events = 1 << 20;
  options_.history.max_bytes = size_t{1} << 30;
  for (int i = 0; i < 5; ++i) Publish(i % 2 ? "c" : "other", "pre");
  // seqs 1..5: "c" got 2 and 4.
  constexpr int kReaders = 8;
  std::atomic<bool> all_attached{false};
  std::vector<std::pair<uint64_t, std::string>> published;  // publisher only
  std::thread publisher([&] {
    int after = 0;
    for (int i = 0; after < 200; ++i) {
      if (all_attached.load()) ++after;
      PublishSpec spec;
      spec.channel = (i % 3 == 0) ? "other" : "c";
      spec.type = "message";
      spec.data = absl::StrCat("n", i);
      absl::StatusOr<PublishOutcome> out = broker().Publish(spec);
      absl::StatusOr<EventId> id =
          out.ok() ? ParseEventId(out->id, "id") : absl::StatusOr<EventId>(out.status());
      if (!id.ok()) {
        ADD_FAILURE() << id.status();
        all_attached = true;  // lets the test thread finish
        return;
      }
      published.emplace_back(id->seq, spec.channel);
    }
  });
  // Attach readers one after another while the publisher runs, each resuming
  // from a cursor a little behind the head, and keep draining meanwhile.
  std::vector<std::unique_ptr<Reader>> readers;
  std::vector<uint64_t> cursors;
  for (int r = 0; r < kReaders && !all_attached.load(); ++r) {
    while (broker().head_seq() < static_cast<uint64_t>(50 * (r + 1)) && !all_attached.load()) {
      std::this_thread::yield();
    }
    const uint64_t cursor = r == 0 ? 3 : broker().head_seq() - 7;
    auto reader = std::make_unique<Reader>();
    Subscription::Options o;
    o.channels = {"c"};
    reader->sub = std::make_shared<Subscription>(std::move(o), PolicyTable(), &reader->sink);
    reader->sink.sub = reader->sub.get();
    EXPECT_TRUE(broker().Attach(reader->sub, absl::StrCat("ep1-", cursor)).ok());
    readers.push_back(std::move(reader));
    cursors.push_back(cursor);
    DrainAll();
  }
  all_attached = true;
  publisher.join();
  DrainAll();

  ASSERT_EQ(readers.size(), static_cast<size_t>(kReaders));
  ASSERT_GT(published.size(), 300u);
  for (size_t r = 0; r < readers.size(); ++r) {
    Strings want;
    if (cursors[r] < 4) want.push_back("ep1-4");
    for (const auto& [seq, channel] : published) {
      if (channel == "c" && seq > cursors[r]) want.push_back(absl::StrCat("ep1-", seq));
    }
    Strings got = readers[r]->Ids();
    EXPECT_EQ(got.size(), want.size()) << "reader " << r;
    EXPECT_EQ(got, want) << "reader " << r << " cursor " << cursors[r];
    EXPECT_FALSE(absl::StrContains(readers[r]->sink.bytes, "ssebridge.reset"));
  }
}

// ---- sweep ------------------------------------------------------------------------

TEST_F(MemoryBrokerTest, SweepRemovesFullyExpiredChannels) {
  options_.history.max_age = absl::Seconds(60);
  Publish("a", "x");        // t0
  Retain("keep", "value");  // t0, retained: never swept
  now_ = kT0 + absl::Seconds(30);
  Publish("b", "y");  // t0+30
  EXPECT_EQ(broker().channels(), 3u);
  broker().Sweep(kT0 + absl::Seconds(70));
  EXPECT_EQ(broker().channels(), 2u);  // "a" went
  broker().Sweep(kT0 + absl::Seconds(100));
  EXPECT_EQ(broker().channels(), 1u);  // "b" went, "keep" stays
  // Retained values outlive their history.
  now_ = kT0 + absl::Seconds(100);
  auto r = Subscribe({"keep"}, "");
  EXPECT_EQ(r->Data(), (Strings{"value"}));
  EXPECT_EQ(broker().head_seq(), 3u) << "sweeping does not reset the sequence";
}

TEST_F(MemoryBrokerTest, SweptChannelsFreeChannelSlots) {
  options_.max_channels = 1;
  options_.history.max_age = absl::Seconds(60);
  Publish("a", "x");
  PublishSpec spec;
  spec.channel = "b";
  spec.data = "y";
  EXPECT_EQ(TryPublish(spec).status().code(), absl::StatusCode::kResourceExhausted);
  broker().Sweep(kT0 + absl::Seconds(61));
  now_ = kT0 + absl::Seconds(61);
  EXPECT_TRUE(TryPublish(spec).ok());
}

TEST_F(MemoryBrokerTest, CursorOlderThanASweptChannelResets) {
  options_.history.max_age = absl::Seconds(60);
  Publish("a", "x");  // 1
  Publish("a", "y");  // 2
  broker().Sweep(kT0 + absl::Seconds(120));
  ASSERT_EQ(broker().channels(), 0u);
  now_ = kT0 + absl::Seconds(120);
  auto r = Subscribe({"a"}, "ep1-1");
  std::vector<SseEvent> ev = r->Events();
  ASSERT_EQ(ev.size(), 1u) << r->sink.bytes;
  EXPECT_EQ(ev[0].type, "ssebridge.reset");
  EXPECT_TRUE(absl::StrContains(ev[0].data, "\"reason\":\"cursor_too_old\""));
  // A reader that saw everything resumes quietly.
  auto ok = Subscribe({"a"}, "ep1-2");
  EXPECT_TRUE(ok->sink.bytes.empty()) << ok->sink.bytes;
}

// A channel swept away and then published to again must still remember that
// events before its new history were lost: a cursor from before the sweep
// may not be resumed as if nothing were missing.
TEST_F(MemoryBrokerTest, CursorOlderThanASweptThenRecreatedChannelResets) {
  options_.history.max_age = absl::Seconds(60);
  Publish("a", "x");  // 1
  Publish("a", "y");  // 2: the reader below never saw it
  broker().Sweep(kT0 + absl::Seconds(120));
  ASSERT_EQ(broker().channels(), 0u);
  now_ = kT0 + absl::Seconds(120);
  Publish("a", "z");  // 3: channel "a" exists again
  auto r = Subscribe({"a"}, "ep1-1");
  std::vector<SseEvent> ev = r->Events();
  ASSERT_FALSE(ev.empty());
  EXPECT_EQ(ev[0].type, "ssebridge.reset")
      << "event ep1-2 was lost without a reset; got: " << r->sink.bytes;
}

TEST_F(MemoryBrokerTest, SweepExpiresIdempotencyKeys) {
  options_.idempotency_window = absl::Minutes(1);
  EXPECT_EQ(Publish("a", "x", "", {}, false, "k").id, "ep1-1");
  broker().Sweep(kT0 + absl::Minutes(5));
  now_ = kT0 + absl::Minutes(5);
  EXPECT_FALSE(Publish("a", "x", "", {}, false, "k").replayed);
}

// ---- Audience ---------------------------------------------------------------------

TEST(AudienceTest, TargetedEventsOnlyReachListedUsers) {
  Subscription anon(Subscription::Options{{"c"}, "", 1024}, PolicyTable(), nullptr);
  Subscription bob(Subscription::Options{{"c"}, "bob", 1024}, PolicyTable(), nullptr);
  Event broadcast;
  broadcast.channel = "c";
  Event targeted;
  targeted.channel = "c";
  targeted.user_ids = {"alice", "bob", "carol"};
  Event other;
  other.channel = "c";
  other.user_ids = {"alice"};
  EXPECT_TRUE(Audience(broadcast, anon));
  EXPECT_TRUE(Audience(broadcast, bob));
  EXPECT_FALSE(Audience(targeted, anon));
  EXPECT_TRUE(Audience(targeted, bob));
  EXPECT_FALSE(Audience(other, bob));
}

}  // namespace
}  // namespace ssebridge
