// Targeted delivery (issue 4): events with user_ids reach only the streams
// authenticated as those users, live, from history and as retained values.
// "Never" is checked, not timed: a later untargeted marker proves the stream
// has seen everything published before it.
#include <algorithm>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/harness/auth_fixture.h"
#include "tests/harness/test_helpers.h"

namespace ssebridge_it {
namespace {

class AuthTargetingTest : public AuthTest {};

TEST_F(AuthTargetingTest, SeedScenarioTaskCompletionReachesOnlyItsUsersTabs) {
  ASSERT_TRUE(Start());
  const std::string token_a = keys().UserToken("user-a", {"tasks"});
  const std::string token_b = keys().UserToken("user-b", {"tasks"});
  SseClient a1, a2, b;
  ASSERT_TRUE(a1.Open(http_port(), EventsTarget({"tasks"}), BearerOptions(token_a))) << a1.error();
  ASSERT_TRUE(a2.Open(http_port(), EventsTarget({"tasks"}), BearerOptions(token_a))) << a2.error();
  ASSERT_TRUE(b.Open(http_port(), EventsTarget({"tasks"}), BearerOptions(token_b))) << b.error();

  AuthedGrpc backend = Backend();
  auto stream = backend.Stream();
  v1::PublishRequest done = Targeted("tasks", R"({"task":42,"state":"done"})", {"user-a"});
  done.set_event("task.completed");
  v1::PublishResponse resp;
  ASSERT_TRUE(stream->Send(done, &resp)) << StatusText(stream->Finish());
  ASSERT_FALSE(resp.has_error()) << resp.ShortDebugString();
  EXPECT_EQ(resp.subscribers(), 2u) << "A's two tabs, not B";
  const std::string marker_id = stream->MustSend(MakePublish("tasks", "marker"));
  EXPECT_TRUE(stream->Finish().ok());

  for (SseClient* tab : {&a1, &a2}) {
    ASSERT_TRUE(tab->WaitForData("marker", kWait)) << tab->Describe();
    ASSERT_EQ(tab->events().size(), 2u) << Summarize(EventDatas(tab->events()));
    EXPECT_EQ(tab->events()[0].id, resp.id());
    EXPECT_EQ(tab->events()[0].event, "task.completed");
    EXPECT_EQ(tab->events()[0].data, R"({"task":42,"state":"done"})");
    EXPECT_EQ(tab->events()[1].id, marker_id);
  }
  ASSERT_TRUE(b.WaitForData("marker", kWait)) << b.Describe();
  EXPECT_EQ(EventDatas(b.events()), std::vector<std::string>{"marker"});
  // Nothing of A's event reached B (B's frames do name the channel "tasks").
  EXPECT_EQ(b.raw_body().find("task.completed"), std::string::npos) << b.raw_body();
  EXPECT_EQ(b.raw_body().find(R"("task":42)"), std::string::npos) << b.raw_body();
  EXPECT_EQ(b.raw_body().find(resp.id() + "\n"), std::string::npos) << b.raw_body();
}

TEST_F(AuthTargetingTest, TargetedEventReachesOnlyTheUsersStreamsOnThatChannel) {
  ASSERT_TRUE(Start());
  const std::string token_a = keys().UserToken("user-a", {"tasks", "jobs"});
  SseClient on_tasks, on_jobs, on_both;
  ASSERT_TRUE(on_tasks.Open(http_port(), EventsTarget({"tasks"}), BearerOptions(token_a)));
  ASSERT_TRUE(on_jobs.Open(http_port(), EventsTarget({"jobs"}), BearerOptions(token_a)));
  ASSERT_TRUE(on_both.Open(http_port(), EventsTarget({"jobs", "tasks"}), BearerOptions(token_a)));
  AuthedGrpc backend = Backend();
  v1::PublishResponse r;
  ASSERT_TRUE(backend.Publish(Targeted("tasks", "a-task", {"user-a"}), &r).ok());
  EXPECT_EQ(r.subscribers(), 2u);
  ASSERT_TRUE(backend.Publish(MakePublish("jobs", "jobs-marker"), &r).ok());
  ASSERT_TRUE(backend.Publish(MakePublish("tasks", "tasks-marker"), &r).ok());
  ASSERT_TRUE(on_tasks.WaitForData("tasks-marker", kWait)) << on_tasks.Describe();
  ASSERT_TRUE(on_jobs.WaitForData("jobs-marker", kWait)) << on_jobs.Describe();
  ASSERT_TRUE(on_both.WaitForData("tasks-marker", kWait)) << on_both.Describe();
  EXPECT_EQ(EventDatas(on_tasks.events()), (std::vector<std::string>{"a-task", "tasks-marker"}));
  EXPECT_EQ(EventDatas(on_jobs.events()), std::vector<std::string>{"jobs-marker"});
  EXPECT_EQ(EventDatas(on_both.events()),
            (std::vector<std::string>{"a-task", "jobs-marker", "tasks-marker"}));
}

TEST_F(AuthTargetingTest, AnonymousStreamOnPublicChannelNeverGetsTargetedEvents) {
  ASSERT_TRUE(Start({"--public_channels=news"}));
  SseClient anon, alice;
  ASSERT_TRUE(anon.Open(http_port(), EventsTarget({"news"}))) << anon.error();
  ASSERT_TRUE(
      alice.Open(http_port(), EventsTarget({"news"}), BearerOptions(keys().UserToken("alice", {}))))
      << alice.error();
  AuthedGrpc backend = Backend();
  v1::PublishResponse resp;
  ASSERT_TRUE(backend.Publish(Targeted("news", "for-alice", {"alice"}), &resp).ok());
  EXPECT_EQ(resp.subscribers(), 1u);
  ASSERT_TRUE(backend.Publish(MakePublish("news", "marker"), &resp).ok());
  ASSERT_TRUE(anon.WaitForData("marker", kWait)) << anon.Describe();
  ASSERT_TRUE(alice.WaitForData("marker", kWait)) << alice.Describe();
  EXPECT_EQ(EventDatas(anon.events()), std::vector<std::string>{"marker"});
  EXPECT_EQ(EventDatas(alice.events()), (std::vector<std::string>{"for-alice", "marker"}));
  // Nor from history: resuming before the targeted event.
  const std::string before = alice.events()[0].id;
  ParsedId pid;
  ASSERT_TRUE(ParseEventId(before, &pid));
  SseClientOptions resume;
  resume.headers.emplace_back("Last-Event-ID", absl::StrCat(pid.epoch, "-", pid.seq - 1));
  SseClient anon_again;
  ASSERT_TRUE(anon_again.Open(http_port(), EventsTarget({"news"}), resume)) << anon_again.error();
  ASSERT_TRUE(anon_again.WaitForData("marker", kWait)) << anon_again.Describe();
  anon_again.ReadFor(absl::Milliseconds(100));
  EXPECT_EQ(EventDatas(anon_again.events()), std::vector<std::string>{"marker"});
}

TEST_F(AuthTargetingTest, HistoryReplayAndRetainedValuesRespectTargeting) {
  ASSERT_TRUE(Start());
  const std::string token_a = keys().UserToken("user-a", {"tasks"});
  const std::string token_b = keys().UserToken("user-b", {"tasks"});
  AuthedGrpc backend = Backend();
  std::string cursor_b;
  {
    SseClient b;
    ASSERT_TRUE(b.Open(http_port(), EventsTarget({"tasks"}), BearerOptions(token_b))) << b.error();
    v1::PublishResponse r;
    ASSERT_TRUE(backend.Publish(MakePublish("tasks", "before"), &r).ok());
    ASSERT_TRUE(b.WaitForData("before", kWait)) << b.Describe();
    cursor_b = b.events().back().id;
  }
  // While B is away: A's events (one retained), one for both, one for all.
  v1::PublishRequest a_retained = Targeted("tasks", "a-progress-50", {"user-a"});
  a_retained.set_event("progress");
  a_retained.set_retain(true);
  v1::PublishRequest all_retained = MakePublish("tasks", "all-progress", "progress", true);
  std::vector<v1::PublishRequest> requests = {
      Targeted("tasks", "a-secret-1", {"user-a"}), a_retained,
      Targeted("tasks", "a-and-b", {"user-b", "user-a"}), all_retained,
      Targeted("tasks", "a-secret-2", {"user-a"})};
  std::map<std::string, std::string> id_of;
  for (const auto& req : requests) {
    v1::PublishResponse r;
    ASSERT_TRUE(backend.Publish(req, &r).ok());
    id_of[req.data()] = r.id();
  }

  // B resumes: only what was for B or everyone, in order.
  SseClient b_again;
  ASSERT_TRUE(b_again.Open(http_port(), EventsTarget({"tasks"}), BearerOptions(token_b, cursor_b)))
      << b_again.error();
  v1::PublishResponse marker;
  ASSERT_TRUE(backend.Publish(MakePublish("tasks", "marker"), &marker).ok());
  ASSERT_TRUE(b_again.WaitForData("marker", kWait)) << b_again.Describe();
  EXPECT_EQ(EventDatas(b_again.events()),
            (std::vector<std::string>{"a-and-b", "all-progress", "marker"}));
  EXPECT_EQ(b_again.raw_body().find("a-secret"), std::string::npos);
  EXPECT_EQ(b_again.raw_body().find("a-progress"), std::string::npos);

  // A resumes from the same cursor: everything.
  SseClient a_again;
  ASSERT_TRUE(a_again.Open(http_port(), EventsTarget({"tasks"}), BearerOptions(token_a, cursor_b)))
      << a_again.error();
  ASSERT_TRUE(a_again.WaitForData("marker", kWait)) << a_again.Describe();
  EXPECT_EQ(EventDatas(a_again.events()),
            (std::vector<std::string>{"a-secret-1", "a-progress-50", "a-and-b", "all-progress",
                                      "a-secret-2", "marker"}));

  // Fresh streams get retained values: B only the one for everybody, A both
  // (its own does not replace everybody's), anonymous readers none of A's.
  auto retained_of = [&](const SseClientOptions& opts) {
    SseClient c;
    EXPECT_TRUE(c.Open(http_port(), EventsTarget({"tasks"}), opts)) << c.error();
    v1::PublishResponse m;
    EXPECT_TRUE(backend.Publish(MakePublish("tasks", "marker2"), &m).ok());
    EXPECT_TRUE(c.WaitForData("marker2", kWait)) << c.Describe();
    std::set<std::string> datas;
    for (const auto& e : c.events()) {
      if (e.data != "marker2") datas.insert(e.data);
    }
    return datas;
  };
  EXPECT_EQ(retained_of(BearerOptions(token_b)), std::set<std::string>{"all-progress"});
  EXPECT_EQ(retained_of(BearerOptions(token_a)),
            (std::set<std::string>{"a-progress-50", "all-progress"}));
  EXPECT_EQ(retained_of(BearerOptions(keys().UserToken("user-c", {"tasks"}))),
            std::set<std::string>{"all-progress"});
}

// 50 users, 2,000 events (most targeted at one random user, some at 2-3,
// some at everyone) on two channels; users 0-24 read both channels, 25-49
// only "tasks". Every stream must see exactly its own events in order, live;
// then, resuming from an early cursor, exactly its own missed events.
TEST_F(AuthTargetingTest, RandomizedFiftyUsersSeeExactlyTheirOwnEventsLiveAndFromHistory) {
  const uint32_t seed = static_cast<uint32_t>(absl::ToUnixNanos(absl::Now()));
  SCOPED_TRACE(absl::StrCat("random seed ", seed));
  std::mt19937 rng(seed);
  ASSERT_TRUE(Start({"--history_size=5000", "--history_bytes=67108864"}));
  constexpr int kUsers = 50;
  constexpr int kEvents = 2000;
  auto user = [](int i) { return absl::StrCat("u", i); };
  auto channels_of = [](int i) {
    return i < kUsers / 2 ? std::vector<std::string>{"tasks", "jobs"}
                          : std::vector<std::string>{"tasks"};
  };
  std::vector<std::string> tokens;
  for (int i = 0; i < kUsers; ++i) {
    tokens.push_back(keys().UserToken(user(i), {"tasks", "jobs"}));
  }
  std::vector<std::unique_ptr<SseClient>> live;
  for (int i = 0; i < kUsers; ++i) {
    live.push_back(std::make_unique<SseClient>());
    ASSERT_TRUE(live[i]->Open(http_port(), EventsTarget(channels_of(i)), BearerOptions(tokens[i])))
        << "user " << i << ": " << live[i]->error();
  }

  // What each user must see: the ids, in publish order.
  std::vector<std::vector<std::string>> expected(kUsers);
  auto sees = [&](int u, const std::string& channel, const std::set<int>& to) {
    const auto chans = channels_of(u);
    return std::find(chans.begin(), chans.end(), channel) != chans.end() &&
           (to.empty() || to.count(u) > 0);
  };
  AuthedGrpc backend = Backend();
  auto stream = backend.Stream();
  std::uniform_int_distribution<int> pick_user(0, kUsers - 1);
  std::uniform_int_distribution<int> percent(0, 99);
  const absl::Time publish_start = absl::Now();
  for (int n = 0; n <= kEvents; ++n) {
    // The last one is an untargeted marker on "tasks", which everyone reads.
    const bool last = n == kEvents;
    const std::string channel = last || percent(rng) < 60 ? "tasks" : "jobs";
    std::set<int> to;
    const int kind = last ? 0 : percent(rng);
    if (kind >= 10) to.insert(pick_user(rng));  // 90%: targeted
    if (kind >= 85) to.insert(pick_user(rng));  // some: 2 users
    if (kind >= 95) to.insert(pick_user(rng));  // some: 3 users
    std::vector<std::string> ids;
    for (int u : to) ids.push_back(user(u));
    const std::string data = absl::StrCat("e", n, ":", channel, ":", to.size());
    v1::PublishResponse resp;
    ASSERT_TRUE(stream->Send(Targeted(channel, data, ids), &resp)) << StatusText(stream->Finish());
    ASSERT_FALSE(resp.has_error()) << resp.ShortDebugString();
    uint32_t recipients = 0;
    for (int u = 0; u < kUsers; ++u) {
      if (sees(u, channel, to)) {
        expected[u].push_back(resp.id());
        ++recipients;
      }
    }
    ASSERT_EQ(resp.subscribers(), recipients) << "event " << n << " " << data;
    if (n % 100 == 0) {
      for (auto& c : live) c->Drain();  // keep the sockets moving
    }
  }
  ASSERT_TRUE(stream->Finish().ok());
  const std::string marker_id = expected[0].back();
  for (int u = 0; u < kUsers; ++u) {
    SseClient& c = *live[u];
    ASSERT_TRUE(
        c.ReadUntil([&] { return !c.events().empty() && c.events().back().id == marker_id; },
                    kWait + absl::Seconds(40)))
        << "user " << u << ": " << c.Describe();
    ASSERT_EQ(EventIds(c.events()), expected[u])
        << "user " << u << " live: got " << Summarize(EventIds(c.events())) << ", want "
        << Summarize(expected[u]);
  }
  ASSERT_LT(absl::Now() - publish_start, absl::Minutes(3));
  for (auto& c : live) c->Close();

  // Resume each user from an early event of its own and check the replay.
  std::uniform_int_distribution<size_t> early(0, 9);
  std::vector<std::unique_ptr<SseClient>> resumed;
  std::vector<std::vector<std::string>> want(kUsers);
  for (int u = 0; u < kUsers; ++u) {
    ASSERT_GT(expected[u].size(), 12u) << "user " << u;
    const size_t k = early(rng);
    want[u].assign(expected[u].begin() + static_cast<long>(k) + 1, expected[u].end());
    resumed.push_back(std::make_unique<SseClient>());
    ASSERT_TRUE(resumed[u]->Open(http_port(), EventsTarget(channels_of(u)),
                                 BearerOptions(tokens[u], expected[u][k])))
        << "user " << u << ": " << resumed[u]->error();
  }
  for (int u = 0; u < kUsers; ++u) {
    SseClient& c = *resumed[u];
    ASSERT_TRUE(
        c.ReadUntil([&] { return c.events().size() >= want[u].size(); }, kWait + absl::Seconds(40)))
        << "user " << u << ": " << c.Describe();
  }
  // One more marker proves nothing else was queued behind the replay.
  v1::PublishResponse end;
  ASSERT_TRUE(backend.Publish(MakePublish("tasks", "end"), &end).ok());
  for (int u = 0; u < kUsers; ++u) {
    SseClient& c = *resumed[u];
    ASSERT_TRUE(c.WaitForData("end", kWait)) << "user " << u << ": " << c.Describe();
    want[u].push_back(end.id());
    EXPECT_EQ(EventIds(c.events()), want[u])
        << "user " << u << " replay: got " << Summarize(EventIds(c.events())) << ", want "
        << Summarize(want[u]);
  }
}

}  // namespace
}  // namespace ssebridge_it
