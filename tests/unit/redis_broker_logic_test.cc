// The Redis broker's pure parts: URL parsing, key names, the stored event
// codec, attach buffering, channel positions and the catch-up builder.
#include <memory>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "bridge/broker/redis/redis_attach_state.h"
#include "bridge/broker/redis/redis_codec.h"
#include "bridge/broker/redis/redis_keys.h"
#include "bridge/broker/redis/redis_snapshot.h"
#include "bridge/broker/redis/redis_url.h"
#include "bridge/sse/sse_encoder.h"
#include "gtest/gtest.h"

namespace ssebridge {
namespace {

TEST(RedisUrlTest, ParsesHostPortDbAndPassword) {
  absl::StatusOr<RedisUrl> u = ParseRedisUrl("redis://:s%40cret@redis.local:6380/3");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->host, "redis.local");
  EXPECT_EQ(u->port, 6380);
  EXPECT_EQ(u->db, 3);
  EXPECT_EQ(u->password, "s@cret");
  EXPECT_EQ(u->user, "");
  EXPECT_EQ(u->Describe(), "redis.local:6380/3");  // no password
  u = ParseRedisUrl("redis://app:pw@[::1]:7000");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, 7000);
  EXPECT_EQ(u->user, "app");
  EXPECT_EQ(u->db, 0);
  u = ParseRedisUrl("redis://localhost");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->port, 6379);
  EXPECT_FALSE(u->tls);
  u = ParseRedisUrl("rediss://:pw@redis.example:6380/2");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_TRUE(u->tls);
  EXPECT_EQ(u->host, "redis.example");
  EXPECT_EQ(u->port, 6380);
  EXPECT_EQ(u->db, 2);
  EXPECT_EQ(u->Describe(), "redis.example:6380/2 (TLS)");
}

TEST(RedisUrlTest, RejectsBadUrlsWithoutEchoingThePassword) {
  for (const char* bad : {"http://x:1", "redis://", "redis://h:0", "redis://h:99999",
                          "redis://h:1/x", "redis://:pw%zz@h:1", "redis://[::1:1"}) {
    EXPECT_FALSE(ParseRedisUrl(bad).ok()) << bad;
  }
  absl::Status s = ParseRedisUrl("redis://:topsecret@h:notaport").status();
  EXPECT_EQ(s.message().find("topsecret"), absl::string_view::npos) << s;
  s = ParseRedisUrl("redis+tls://h:6379").status();
  EXPECT_NE(s.message().find("rediss://"), absl::string_view::npos) << s;
}

TEST(RedisKeysTest, ChannelKeysShareOneHashTagAndTopicsRoundTrip) {
  RedisKeys keys("app");
  EXPECT_EQ(keys.history("orders"), "{app:ch:orders}:h");
  EXPECT_EQ(keys.meta("orders"), "{app:ch:orders}:m");
  EXPECT_EQ(keys.retained("orders"), "{app:ch:orders}:r");
  EXPECT_EQ(keys.epoch(), "{app}:epoch");
  EXPECT_EQ(keys.seq(), "{app}:seq");
  EXPECT_EQ(keys.idempotency("k"), "{app}:idem:k");
  std::string channel;
  ASSERT_TRUE(keys.ChannelOfTopic(keys.topic("a.b:c"), &channel));
  EXPECT_EQ(channel, "a.b:c");
  EXPECT_FALSE(keys.ChannelOfTopic("other:live:x", &channel));
  EXPECT_FALSE(keys.ChannelOfTopic("app:live:", &channel));
}

TEST(RedisKeysTest, RetainedFieldSeparatesAudiences) {
  EXPECT_NE(RetainedField("t", {}), RetainedField("t", {"a"}));
  EXPECT_NE(RetainedField("t", {"ab"}), RetainedField("t", {"a", "b"}));
  EXPECT_NE(RetainedField("t", {}), RetainedField("u", {}));
}

TEST(RedisCodecTest, StoredEventRoundTripsAnyBytes) {
  PublishSpec spec;
  spec.channel = "c";
  spec.type = "t";
  spec.data = std::string("a\nb:\0c|12:", 10);
  spec.user_ids = {"u1", "u:2"};
  spec.retain = true;
  const absl::Time t = absl::FromUnixMicros(1234567890123456);
  absl::StatusOr<StoredEvent> ev = DecodeStoredEvent(EncodeStoredEvent(spec, t));
  ASSERT_TRUE(ev.ok()) << ev.status();
  EXPECT_EQ(ev->type, "t");
  EXPECT_EQ(ev->data, spec.data);
  EXPECT_EQ(ev->user_ids, spec.user_ids);
  EXPECT_TRUE(ev->retain);
  EXPECT_EQ(ev->published_at, t);
  const std::string good = EncodeStoredEvent(spec, t);
  for (size_t cut = 0; cut < good.size(); ++cut) {
    EXPECT_FALSE(DecodeStoredEvent(good.substr(0, cut)).ok()) << cut;
  }
  EXPECT_FALSE(DecodeStoredEvent(good + "x").ok());
}

TEST(RedisCodecTest, LiveMessageAndIds) {
  LiveMessage m;
  ASSERT_TRUE(ParseLiveMessage("ep0ch 42\npay\nload", &m));
  EXPECT_EQ(m.epoch, "ep0ch");
  EXPECT_EQ(m.seq, 42u);
  EXPECT_EQ(m.payload, "pay\nload");
  EXPECT_FALSE(ParseLiveMessage("nospace\nx", &m));
  EXPECT_FALSE(ParseLiveMessage("e x\ny", &m));
  uint64_t seq = 0;
  EXPECT_TRUE(ParseStreamId("17-0", &seq));
  EXPECT_EQ(seq, 17u);
  EXPECT_FALSE(ParseStreamId("17", &seq));
  absl::string_view payload;
  EXPECT_TRUE(ParseSeqPrefixed("9\nabc", &seq, &payload));
  EXPECT_EQ(seq, 9u);
  EXPECT_EQ(payload, "abc");
}

class AttachStateTest : public ::testing::Test {
 protected:
  std::shared_ptr<Subscription> Sub(std::vector<std::string> channels, std::string user = "") {
    Subscription::Options o;
    o.channels = std::move(channels);
    o.user_id = std::move(user);
    return std::make_shared<Subscription>(o, policies_, &sink_);
  }
  EventPtr Ev(uint64_t seq, std::string channel, std::vector<std::string> users = {}) {
    auto ev = std::make_shared<Event>();
    ev->seq = seq;
    ev->id = "e-" + std::to_string(seq);
    ev->channel = std::move(channel);
    ev->type = "message";
    ev->user_ids = std::move(users);
    return ev;
  }
  struct NullSink : SubscriptionSink {
    void OnReady() override {}
  } sink_;
  PolicyTable policies_;
};

TEST(ChannelPositionsTest, AdmitsOnlyNewerEventsPerChannel) {
  ChannelPositions pos;
  EXPECT_TRUE(pos.Admit("a", 5));
  EXPECT_FALSE(pos.Admit("a", 5));
  EXPECT_FALSE(pos.Admit("a", 3));
  EXPECT_TRUE(pos.Admit("b", 4)) << "positions are per channel";
  pos.Raise("a", 9);
  EXPECT_FALSE(pos.Admit("a", 8));
  pos.Raise("a", 2);  // never back
  uint64_t seq = 0;
  ASSERT_TRUE(pos.Get("a", &seq));
  EXPECT_EQ(seq, 9u);
  pos.Forget("a");
  EXPECT_FALSE(pos.Get("a", &seq));
}

TEST_F(AttachStateTest, CatchUpFromASnapshotMatchesTheMemoryBrokersShape) {
  SseEncoder encoder;
  auto sub = Sub({"a", "b"}, "alice");
  PublishSpec spec;
  spec.type = "message";
  spec.data = "x";
  const std::string payload = EncodeStoredEvent(spec, absl::Now());
  spec.user_ids = {"bob"};
  const std::string for_bob = EncodeStoredEvent(spec, absl::Now());
  ScriptReply reply;
  reply.epoch = "ep";
  reply.head = 12;
  // Resume: stream entries of both channels, merged by seq, bob's left out.
  reply.items = {
      {0, "7-0", payload}, {0, "11-0", payload}, {1, "9-0", payload}, {1, "10-0", for_bob}};
  std::vector<EventPtr> out = BuildCatchUp(*sub, reply, false, "", "ep-5", absl::Now(), encoder);
  std::vector<std::string> ids;
  for (const auto& e : out) ids.push_back(e->id);
  EXPECT_EQ(ids, (std::vector<std::string>{"ep-7", "ep-9", "ep-11"}));
  EXPECT_EQ(out[1]->channel, "b");
  // A reset: notice, retained values (seq-prefixed), then the head cursor.
  reply.reason = "cursor_too_old";
  reply.items = {{1, "", "8\n" + payload}, {0, "", "3\n" + payload}};
  out = BuildCatchUp(*sub, reply, false, "", "ep-1", absl::Now(), encoder);
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0]->type, "ssebridge.reset");
  EXPECT_EQ(out[0]->id, "ep-12");
  EXPECT_EQ(out[1]->id, "ep-3");
  EXPECT_EQ(out[2]->id, "ep-8");
  EXPECT_TRUE(out[3]->is_control());
  EXPECT_EQ(out[3]->id, "ep-12");
}

}  // namespace
}  // namespace ssebridge
