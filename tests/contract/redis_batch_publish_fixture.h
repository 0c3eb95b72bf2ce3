// The fixture of redis_batch_publish_test.cc: three brokers on one
// redis-server, each under its own prefix, the publishes they all take
// (Scenario()), and a dump of every key a broker wrote, for comparing them.
#ifndef SSEBRIDGE_TESTS_CONTRACT_REDIS_BATCH_PUBLISH_FIXTURE_H_
#define SSEBRIDGE_TESTS_CONTRACT_REDIS_BATCH_PUBLISH_FIXTURE_H_

#include <algorithm>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "bridge/broker/redis/redis_broker.h"
#include "bridge/broker/redis/redis_codec.h"
#include "bridge/broker/redis/redis_keys.h"
#include "bridge/broker/redis/redis_url.h"
#include "bridge/core/hub.h"
#include "bridge/core/publish_validation.h"
#include "bridge/sse/sse_encoder.h"
#include "gtest/gtest.h"
#include "tests/harness/redis_sentinel_cluster.h"
#include "tests/harness/redis_server.h"

namespace ssebridge {
namespace batch_test {

using Strings = std::vector<std::string>;
using Results = std::vector<absl::StatusOr<PublishOutcome>>;
inline const Strings kChannels = {"a", "b", "c", "d"};

struct NullSink : SubscriptionSink {
  void OnReady() override {}
};

inline PublishSpec Spec(const std::string& channel, const std::string& data,
                        const std::string& type = "", Strings users = {}, bool retain = false,
                        const std::string& key = "") {
  PublishSpec spec;
  spec.channel = channel;
  spec.data = data;
  spec.type = type;
  spec.user_ids = std::move(users);
  spec.retain = retain;
  spec.idempotency_key = key;
  EXPECT_TRUE(ValidatePublishSpec(&spec, PublishLimits{}).ok()) << data;
  return spec;
}

// Interleaved channels; 'a' gets enough events to be trimmed (MAXLEN ~ 5
// trims whole stream nodes of 100) more than once; retained values public,
// targeted and replaced; refusals by both caps mid-batch; idempotency keys
// repeated within the batch, from before it, and after a refusal.
inline std::vector<PublishSpec> Scenario() {
  std::vector<PublishSpec> out;
  for (int i = 0; i < 520; ++i) {
    const std::string data = absl::StrCat("e", i);
    switch (i) {
      case 6:
        out.push_back(Spec("a", "r1", "s", {}, true));
        break;  // seq 10: 2 digits
      case 11:
        out.push_back(Spec("a", "r-alice", "s", {"alice"}, true));
        break;
      case 12:
        out.push_back(Spec("b", "r-both", "p", {"alice", "bob"}, true));
        break;
      case 20:
        out.push_back(Spec("c", "keyed", "", {}, false, "k1"));
        break;
      case 21:
        out.push_back(Spec("c", "keyed", "", {}, false, "k1"));
        break;
      case 22:
        out.push_back(Spec("a", "before", "", {}, false, "k0"));
        break;
      case 30:
      case 31:
      case 32:
      case 33:
        out.push_back(Spec("c", data, absl::StrCat("t", i - 29), {}, true));  // t4: refused
        break;
      case 40:
        out.push_back(Spec("b", std::string(6000, 'x'), "big", {}, true));
        break;
      case 41:
        out.push_back(Spec("c", "t5", "t5", {}, true, "k2"));
        break;  // refused
      case 42:
        out.push_back(Spec("c", "t1 again", "t1", {}, true, "k2"));
        break;
      case 50:
        out.push_back(Spec("a", "r1 again", "s", {}, true));
        break;
      case 60:
        out.push_back(Spec("d", data));
        break;  // d's history expired
      case 61:
        out.push_back(Spec("d", data, "s", {"bob"}, true));
        break;
      default:
        out.push_back(Spec(i % 4 == 0 ? "b" : i % 4 == 1 ? "c" : "a", data));
    }
  }
  return out;
}

inline uint64_t SeqOf(absl::string_view id) {
  uint64_t seq = 0;
  EXPECT_TRUE(absl::SimpleAtoi(id.substr(id.rfind('-') + 1), &seq)) << id;
  return seq;
}

// An answer without what differs between brokers by design (the epoch).
inline std::string Describe(const absl::StatusOr<PublishOutcome>& r) {
  if (!r.ok()) return r.status().ToString();
  return absl::StrCat(SeqOf(r->id), r->replayed ? " replayed" : "");
}

// A stored payload without its publish time (one per call, so it differs
// between the brokers).
inline std::string Payload(absl::string_view text) {
  absl::StatusOr<StoredEvent> ev = DecodeStoredEvent(text);
  if (!ev.ok()) return absl::StrCat("undecodable ", absl::CEscape(text));
  return absl::StrCat(ev->type, "|", ev->data, "|", absl::StrJoin(ev->user_ids, ","), "|",
                      ev->retain);
}

class RedisBatchPublishTest : public testing::Test {
 protected:
  struct Node {
    std::string prefix;
    std::unique_ptr<Hub> hub;
    std::unique_ptr<RedisBroker> broker;
  };
  struct Reader {
    std::shared_ptr<Subscription> sub;
    Hub* hub;
    std::vector<EventPtr> events;  // control frames left out
  };

  ~RedisBatchPublishTest() override {
    for (auto& n : nodes_) n->broker->Stop();
    for (auto& r : readers_) {
      for (int i = 0; i < r->hub->shard_count(); ++i) r->hub->shard(i).DetachNow(r->sub.get());
    }
  }

  void SetUp() override {
    if (ssebridge_it::FindRedisServer().empty()) {
      GTEST_SKIP() << "redis-server is not installed (scripts/setup-deps.sh)";
    }
    std::string error;
    ASSERT_TRUE(redis_.Start(&error)) << error;
  }

  Node* StartBroker(const std::string& prefix,
                    const std::function<void(RedisBroker::Options*)>& tweak = nullptr) {
    absl::StatusOr<RedisUrl> url = ParseRedisUrl(redis_.url());
    EXPECT_TRUE(url.ok()) << url.status();
    RedisBroker::Options o;
    o.connect.url = *url;
    o.prefix = prefix;
    o.history_size = 5;
    o.retained.max_per_channel = 3;
    o.retained.max_bytes = 5000;
    o.backoff.min = absl::Milliseconds(20);
    o.backoff.max = absl::Milliseconds(200);
    if (tweak) tweak(&o);
    auto node = std::make_unique<Node>();
    node->prefix = prefix;
    node->hub = std::make_unique<Hub>(2);
    node->broker = std::make_unique<RedisBroker>(std::move(o), node->hub.get(), &encoder_);
    EXPECT_TRUE(node->broker->Start().ok());
    RedisBroker* b = node->broker.get();
    EXPECT_TRUE(Until([b] { return b->ready(); })) << "never ready";
    nodes_.push_back(std::move(node));
    return nodes_.back().get();
  }

  // Polls (draining the hubs, as the writer threads would) until `pred`.
  template <typename Pred>
  bool Until(Pred pred, absl::Duration timeout = absl::Seconds(20)) {
    const absl::Time end = absl::Now() + timeout;
    for (;;) {
      Drain();
      if (pred()) return true;
      if (absl::Now() >= end) return false;
      absl::SleepFor(absl::Milliseconds(2));
    }
  }

  void Drain() {
    for (auto& n : nodes_) {
      for (int i = 0; i < n->hub->shard_count(); ++i) n->hub->shard(i).Drain();
    }
    for (auto& r : readers_) {
      std::vector<EventPtr> got;
      {
        std::lock_guard<std::mutex> lock(r->sub->mu);
        r->sub->queue.TakeAll(&got);
      }
      for (EventPtr& e : got) {
        if (!e->is_control()) r->events.push_back(std::move(e));
      }
    }
  }

  Reader* Attach(Node* n, const std::string& cursor = "", const std::string& user = "") {
    Subscription::Options o;
    o.channels = kChannels;
    o.user_id = user;
    o.queue_bytes = 64 << 20;
    o.resuming = !cursor.empty();
    auto r = std::make_unique<Reader>();
    r->hub = n->hub.get();
    r->sub = std::make_shared<Subscription>(std::move(o), PolicyTable(), &sink_);
    absl::Status s = n->broker->Attach(r->sub, cursor);
    EXPECT_TRUE(s.ok()) << s;
    if (!s.ok()) return nullptr;
    readers_.push_back(std::move(r));
    return readers_.back().get();
  }

  static Strings Data(const Reader& r) {
    Strings out;
    for (const auto& e : r.events) out.push_back(e->data);
    return out;
  }

  ssebridge_it::RespReply Redis(const std::vector<std::string>& argv) const {
    return ssebridge_it::RespCommand(redis_.port(), argv);
  }

  // Everything a broker under `prefix` keeps, as lines; what differs by
  // design (the epoch, publish times) is left out, and unordered sets are
  // sorted.
  Strings Dump(const std::string& prefix) const {
    const RedisKeys keys(prefix);
    Strings out = {absl::StrCat("seq ", Redis({"GET", keys.seq()}).text),
                   absl::StrCat("retained bytes ", Redis({"GET", keys.retained_bytes()}).text)};
    auto sorted = [](Strings v) {
      std::sort(v.begin(), v.end());
      return absl::CEscape(absl::StrJoin(v, " / "));
    };
    auto texts = [](const ssebridge_it::RespReply& r) {
      Strings v;
      for (const auto& item : r.items) v.push_back(item.text);
      return v;
    };
    for (const std::string& ch : kChannels) {
      for (const auto& e : Redis({"XRANGE", keys.history(ch), "-", "+"}).items) {
        out.push_back(absl::StrCat("history ", ch, " ", e.items[0].text, " ",
                                   Payload(e.items[1].items[1].text)));
      }
      const Strings meta = texts(Redis({"HMGET", keys.meta(ch), "t", "l"}));
      out.push_back(absl::StrCat("meta ", ch, " t=", meta[0], " l=", meta[1]));
      const std::string pttl = Redis({"PTTL", keys.history(ch)}).text;
      int64_t ms = 0;
      out.push_back(
          absl::StrCat("expires ", ch, " ", absl::SimpleAtoi(pttl, &ms) && ms > 0 ? "yes" : pttl));
      Strings retained;
      const Strings fields = texts(Redis({"HGETALL", keys.retained(ch)}));
      for (size_t i = 0; i + 1 < fields.size(); i += 2) {
        const size_t nl = fields[i + 1].find('\n');
        retained.push_back(absl::StrCat(fields[i], " = ", fields[i + 1].substr(0, nl), " ",
                                        Payload(fields[i + 1].substr(nl + 1))));
      }
      out.push_back(absl::StrCat("retained ", ch, " ", sorted(retained)));
      out.push_back(absl::StrCat("public ", ch, " ",
                                 sorted(texts(Redis({"SMEMBERS", keys.retained_public(ch)})))));
      for (const char* user : {"alice", "bob"}) {
        out.push_back(
            absl::StrCat("user ", user, " ", ch, " ",
                         sorted(texts(Redis({"SMEMBERS", keys.retained_user(ch, user)})))));
      }
    }
    out.push_back(
        absl::StrCat("index ", sorted(texts(Redis({"ZRANGE", keys.retained_index(), "0", "-1"})))));
    for (const char* key : {"k0", "k1", "k2"}) {
      const std::string record = Redis({"GET", keys.idempotency(key)}).text;
      const std::string id = record.substr(0, record.find(' '));
      out.push_back(absl::StrCat("idempotency ", key, " ", record.empty() ? "-" : "seq ",
                                 record.empty() ? 0 : SeqOf(id)));
    }
    return out;
  }

  // What every broker holds before the scenario: some history on 'a' and
  // 'd', the key k0; then 'd''s history expires (its meta stays).
  void Before(Node* n) {
    for (const PublishSpec& spec :
         {Spec("a", "pre-a"), Spec("d", "pre-d"), Spec("a", "before", "", {}, false, "k0")}) {
      ASSERT_TRUE(n->broker->Publish(spec).ok());
    }
    ASSERT_EQ(Redis({"DEL", RedisKeys(n->prefix).history("d")}).text, "1");
  }

  // The scenario published one event per Publish().
  Results OneByOne(Node* n) {
    Results out;
    for (const PublishSpec& spec : Scenario()) out.push_back(n->broker->Publish(spec));
    return out;
  }
  static Results Batched(Node* n) {
    std::vector<PublishSpec> specs = Scenario();
    return n->broker->PublishBatch(&specs);
  }

  // cmdstat_evalsha's calls since the last CONFIG RESETSTAT.
  int64_t EvalshaCalls() const {
    const std::string info = Redis({"INFO", "commandstats"}).text;
    for (absl::string_view line : absl::StrSplit(info, '\n')) {
      if (!absl::ConsumePrefix(&line, "cmdstat_evalsha:calls=")) continue;
      int64_t calls = 0;
      if (absl::SimpleAtoi(line.substr(0, line.find(',')), &calls)) return calls;
    }
    return 0;
  }

  SseEncoder encoder_;
  NullSink sink_;
  ssebridge_it::RedisServer redis_;
  std::vector<std::unique_ptr<Node>> nodes_;
  std::vector<std::unique_ptr<Reader>> readers_;
};

}  // namespace batch_test
}  // namespace ssebridge

#endif  // SSEBRIDGE_TESTS_CONTRACT_REDIS_BATCH_PUBLISH_FIXTURE_H_
