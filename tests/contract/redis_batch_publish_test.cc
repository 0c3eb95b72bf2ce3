// RedisBroker::PublishBatch (kPublishBatchScript) against a real
// redis-server: a batch must leave exactly what the same publishes made one
// by one leave. Three brokers on one server, each under its own prefix (so
// each has its own epoch and seq from 0), take the same publishes: one by
// Publish() per event, one by PublishBatch() in calls of the default size,
// one by PublishBatch() in calls of 7 events / 2,000 bytes (a batch much
// longer than a call). Their answers (seqs, replays, refusals) and every
// key they wrote (history and its 't'/'l' markers and expiry, retained
// values, audience sets, byte counter and index, idempotency records) must
// match; readers see the same history on resume, the same retained values,
// and live events in seq order across channels.

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/contract/redis_batch_publish_fixture.h"

namespace ssebridge {
namespace batch_test {

TEST_F(RedisBatchPublishTest, ABatchAnswersAndStoresExactlyAsPublishesOneByOne) {
  Node* one = StartBroker("one");
  Node* batch = StartBroker("batch");
  Node* small = StartBroker("small", [](RedisBroker::Options* o) {
    o->batch_call_events = 7;
    o->batch_call_bytes = 2000;
  });
  for (Node* n : {one, batch, small}) {
    Before(n);
    if (HasFatalFailure()) return;
  }
  const Results want = OneByOne(one);
  Strings want_answers;
  for (const auto& r : want) want_answers.push_back(Describe(r));
  // The scenario exercises what it claims to: refusals by both caps, and
  // replays from within the batch and from before it.
  EXPECT_EQ(want_answers[22], "3 replayed");
  EXPECT_EQ(want_answers[21], absl::StrCat(SeqOf(want[20]->id), " replayed"));
  for (int refused : {33, 40, 41}) {
    EXPECT_EQ(want[refused].status().code(), absl::StatusCode::kResourceExhausted) << refused;
  }
  EXPECT_TRUE(want[42].ok() && !want[42]->replayed) << "a refusal stored no key";
  const Strings want_state = Dump("one");
  auto has_line = [&](const std::string& prefix) {
    return std::any_of(want_state.begin(), want_state.end(),
                       [&](const std::string& line) { return line.rfind(prefix, 0) == 0; });
  };
  EXPECT_FALSE(has_line("meta a t= ")) << "'a' was trimmed";
  EXPECT_TRUE(has_line("meta d t=2 ")) << "'d''s expiry noted";

  for (Node* n : {batch, small}) {
    SCOPED_TRACE(n->prefix);
    const Results got = Batched(n);
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(Describe(got[i]), want_answers[i]) << "publish " << i;
    }
    EXPECT_EQ(Dump(n->prefix), want_state);
  }
}

TEST_F(RedisBatchPublishTest, ReadersSeeTheSameHistoryRetainedValuesAndLiveOrder) {
  // History deep enough for a resume from anywhere (trimming is the test
  // above's).
  Node* one = StartBroker("one", [](RedisBroker::Options* o) { o->history_size = 1000; });
  Node* batch = StartBroker("batch", [](RedisBroker::Options* o) {
    o->history_size = 1000;
    o->batch_call_events = 7;
  });
  for (Node* n : {one, batch}) {
    Before(n);
    if (HasFatalFailure()) return;
  }
  Reader* live = Attach(batch);
  ASSERT_NE(live, nullptr);
  const Results want = OneByOne(one);
  const Results got = Batched(batch);
  // What an anonymous reader gets live: each public event a publish took,
  // with the id the batch answered, in the batch's order across channels.
  Strings taken;
  const std::vector<PublishSpec> specs = Scenario();
  for (size_t i = 0; i < got.size(); ++i) {
    if (got[i].ok() && !got[i]->replayed && specs[i].user_ids.empty()) {
      taken.push_back(absl::StrCat(got[i]->id, " ", specs[i].data));
    }
  }
  ASSERT_TRUE(Until([&] { return live->events.size() >= taken.size(); }))
      << live->events.size() << " of " << taken.size();
  Strings seen;
  for (const auto& e : live->events) seen.push_back(absl::StrCat(e->id, " ", e->data));
  EXPECT_EQ(seen, taken);

  // Resumed from the same seq, both tell the same history.
  const size_t from = 100;
  Reader* resumed_one = Attach(one, want[from]->id);
  Reader* resumed_batch = Attach(batch, got[from]->id);
  ASSERT_TRUE(resumed_one && resumed_batch);
  ASSERT_TRUE(Until([&] {
    return resumed_one->events.size() >= got.size() - from - 1 &&
           resumed_batch->events.size() >= got.size() - from - 1;
  }));
  EXPECT_EQ(Data(*resumed_batch), Data(*resumed_one));
  EXPECT_EQ(Data(*resumed_batch).front(), Scenario()[from + 1].data);

  // And a new reader gets the same retained values.
  for (const char* user : {"", "alice", "bob"}) {
    Reader* fresh_one = Attach(one, "", user);
    Reader* fresh_batch = Attach(batch, "", user);
    ASSERT_TRUE(fresh_one && fresh_batch);
    // The retained values come before the head's cursor: both have them by
    // the time the id-only block arrives, which the first publish reveals.
    for (Node* n : {one, batch}) ASSERT_TRUE(n->broker->Publish(Spec("a", "settle")).ok());
    ASSERT_TRUE(Until([&] {
      return !fresh_one->events.empty() && fresh_one->events.back()->data == "settle" &&
             !fresh_batch->events.empty() && fresh_batch->events.back()->data == "settle";
    })) << user;
    EXPECT_EQ(Data(*fresh_batch), Data(*fresh_one)) << user;
    EXPECT_GE(Data(*fresh_batch).size(), 5u) << user;
  }
}

// The point of the batch script: one EVALSHA per call, not per event; a
// batch longer than a call goes as several calls, still in one round trip.
TEST_F(RedisBatchPublishTest, OneScriptCallPerRunOfAtMostTheCap) {
  Node* n = StartBroker("calls");
  ASSERT_TRUE(n->broker->Publish(Spec("a", "warm")).ok());  // learns identity, loads scripts
  for (const auto& [events, calls] : {std::pair<int, int64_t>{100, 1}, {600, 3}, {256, 1}}) {
    ASSERT_EQ(Redis({"CONFIG", "RESETSTAT"}).text, "OK");
    std::vector<PublishSpec> specs;
    for (int i = 0; i < events; ++i) specs.push_back(Spec(i % 3 ? "a" : "b", absl::StrCat(i)));
    const Results got = n->broker->PublishBatch(&specs);
    ASSERT_EQ(got.size(), specs.size());
    for (const auto& r : got) ASSERT_TRUE(r.ok()) << r.status();
    for (size_t i = 1; i < got.size(); ++i) {
      EXPECT_EQ(SeqOf(got[i]->id), SeqOf(got[i - 1]->id) + 1) << events << " at " << i;
    }
    EXPECT_EQ(EvalshaCalls(), calls) << events << " events";
  }
}

}  // namespace batch_test
}  // namespace ssebridge
