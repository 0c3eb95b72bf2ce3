// Redis Sentinel support without a network: the --redis_sentinels list, the
// replies the locator reads, and the locator's state (moves, generations,
// registered sockets shut down on a move).
#include "bridge/broker/redis/redis_sentinel.h"

#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "bridge/broker/redis/redis_primary_locator.h"
#include "bridge/broker/redis/sentinel_primary_locator.h"
#include "gtest/gtest.h"

namespace ssebridge {
namespace {

// Hand-built hiredis replies (the parser's own structs).
struct Reply {
  redisReply r{};
  std::string text;
  std::vector<Reply> kids;
  std::vector<redisReply*> ptrs;

  static Reply Str(std::string s, int type = REDIS_REPLY_STRING) {
    Reply x;
    x.text = std::move(s);
    x.r.type = type;
    return x;
  }
  static Reply Nil() {
    Reply x;
    x.r.type = REDIS_REPLY_NIL;
    return x;
  }
  static Reply Array(std::vector<Reply> kids) {
    Reply x;
    x.r.type = REDIS_REPLY_ARRAY;
    x.kids = std::move(kids);
    return x;
  }
  // Fixes the pointers once the tree no longer moves.
  redisReply& Get() {
    r.str = text.empty() ? nullptr : &text[0];
    r.len = text.size();
    ptrs.clear();
    for (Reply& k : kids) ptrs.push_back(&k.Get());
    r.element = ptrs.empty() ? nullptr : ptrs.data();
    r.elements = ptrs.size();
    return r;
  }
};

TEST(SentinelListTest, ParsesHostsPortsAndIpv6) {
  absl::StatusOr<std::vector<SentinelAddress>> l =
      ParseSentinelList(" 10.0.0.1:26380, sentinel-b ,[::1]:5000,");
  ASSERT_TRUE(l.ok()) << l.status();
  ASSERT_EQ(l->size(), 3u);
  EXPECT_EQ((*l)[0].host, "10.0.0.1");
  EXPECT_EQ((*l)[0].port, 26380);
  EXPECT_EQ((*l)[1].host, "sentinel-b");
  EXPECT_EQ((*l)[1].port, 26379);  // Sentinel's default
  EXPECT_EQ((*l)[2].host, "::1");
  EXPECT_EQ((*l)[2].Describe(), "[::1]:5000");
}

TEST(SentinelListTest, RefusesBadEntriesNamingTheFlag) {
  for (const char* bad :
       {"", " , ", "h:0", "h:65536", "h:x", "h:", ":26379", "::1:5", "[::1", "a:1,a:1"}) {
    absl::StatusOr<std::vector<SentinelAddress>> l = ParseSentinelList(bad);
    ASSERT_FALSE(l.ok()) << bad;
    EXPECT_EQ(l.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(l.status().message().find("--redis_sentinels"), std::string::npos) << bad;
  }
}

TEST(SentinelRepliesTest, MasterAddrReply) {
  Reply ok = Reply::Array({Reply::Str("127.0.0.1"), Reply::Str("6380")});
  absl::StatusOr<RedisPrimaryAddress> a = ParseMasterAddrReply(ok.Get(), "m");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->Describe(), "127.0.0.1:6380");

  Reply nil = Reply::Nil();
  EXPECT_EQ(ParseMasterAddrReply(nil.Get(), "m").status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(ParseMasterAddrReply(nil.Get(), "m").status().message().find("\"m\""),
            std::string::npos);
  Reply err = Reply::Str("ERR unknown", REDIS_REPLY_ERROR);
  EXPECT_EQ(ParseMasterAddrReply(err.Get(), "m").status().code(), absl::StatusCode::kUnavailable);
  Reply one = Reply::Array({Reply::Str("h")});
  EXPECT_FALSE(ParseMasterAddrReply(one.Get(), "m").ok());
  Reply badport = Reply::Array({Reply::Str("h"), Reply::Str("99999")});
  EXPECT_FALSE(ParseMasterAddrReply(badport.Get(), "m").ok());
}

TEST(SentinelRepliesTest, SwitchMasterMessage) {
  Reply msg = Reply::Array({Reply::Str("message"), Reply::Str("+switch-master"),
                            Reply::Str("mymaster 127.0.0.1 6379 127.0.0.1 6380")});
  std::string payload;
  ASSERT_TRUE(SwitchMasterPayload(msg.Get(), &payload));
  RedisPrimaryAddress to;
  ASSERT_TRUE(ParseSwitchMaster(payload, "mymaster", &to));
  EXPECT_EQ(to.Describe(), "127.0.0.1:6380");
  EXPECT_FALSE(ParseSwitchMaster(payload, "other", &to));  // another master
  EXPECT_FALSE(ParseSwitchMaster("mymaster 127.0.0.1 6379 127.0.0.1", "mymaster", &to));
  EXPECT_FALSE(ParseSwitchMaster("mymaster a 1 b x", "mymaster", &to));

  Reply confirm =
      Reply::Array({Reply::Str("subscribe"), Reply::Str("+switch-master"), Reply::Str("1")});
  EXPECT_FALSE(SwitchMasterPayload(confirm.Get(), &payload));
  Reply pong = Reply::Array({Reply::Str("pong"), Reply::Str("")});
  EXPECT_FALSE(SwitchMasterPayload(pong.Get(), &payload));
}

TEST(SentinelRepliesTest, Role) {
  Reply master = Reply::Array({Reply::Str("master"), Reply::Str("0", REDIS_REPLY_INTEGER)});
  EXPECT_TRUE(RoleIsMaster(master.Get()));
  Reply replica = Reply::Array({Reply::Str("slave"), Reply::Str("127.0.0.1")});
  EXPECT_FALSE(RoleIsMaster(replica.Get()));
  Reply err = Reply::Str("NOPERM", REDIS_REPLY_ERROR);
  EXPECT_FALSE(RoleIsMaster(err.Get()));
}

SentinelPrimaryLocator::Options LocatorOptions() {
  SentinelPrimaryLocator::Options o;
  o.sentinels = {{"127.0.0.1", 1}};  // never contacted: no watcher started
  o.master = "mymaster";
  return o;
}

TEST(SentinelLocatorTest, AMoveBumpsTheGenerationAndRefusesOldConnections) {
  SentinelPrimaryLocator locator(LocatorOptions());
  EXPECT_FALSE(locator.known().has_value());
  RedisPrimaryAddress a;
  a.host = "127.0.0.1";
  a.port = 6379;
  const RedisPrimaryAddress first = locator.Adopt(a);
  const uint64_t g = first.generation;
  EXPECT_EQ(locator.Adopt(a).generation, g);  // the same primary: no move

  // Another master's switch is ignored; ours moves the primary.
  EXPECT_FALSE(locator.ApplySwitchMessage("other 127.0.0.1 6379 127.0.0.1 7000"));
  EXPECT_EQ(locator.generation(), g);
  EXPECT_TRUE(locator.ApplySwitchMessage("mymaster 127.0.0.1 6379 127.0.0.1 6380"));
  EXPECT_EQ(locator.generation(), g + 1);
  EXPECT_EQ(locator.known()->Describe(), "127.0.0.1:6380");

  // A connection made for the old generation must not register.
  EXPECT_EQ(locator.Track(/*fd=*/-1, g), 0u);
}

TEST(SentinelLocatorTest, AMoveShutsDownEveryRegisteredSocket) {
  SentinelPrimaryLocator locator(LocatorOptions());
  RedisPrimaryAddress a;
  a.host = "127.0.0.1";
  a.port = 6379;
  const uint64_t g = locator.Adopt(a).generation;
  int pair[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);
  const uint64_t token = locator.Track(pair[0], g);
  ASSERT_NE(token, 0u);
  EXPECT_EQ(locator.tracked(), 1u);
  a.port = 6380;
  locator.Adopt(a);  // a move found by asking (not by a message)
  char c;
  EXPECT_EQ(read(pair[0], &c, 1), 0);  // shut down: the owner sees EOF
  locator.Untrack(token);
  EXPECT_EQ(locator.tracked(), 0u);
  close(pair[0]);
  close(pair[1]);
}

TEST(FixedLocatorTest, IsTheUrlAndNeverVerifies) {
  FixedPrimaryLocator fixed("redis.local", 6390);
  absl::StatusOr<RedisPrimaryAddress> a = fixed.Locate();
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->Describe(), "redis.local:6390");
  EXPECT_FALSE(fixed.verify_role());
  EXPECT_NE(fixed.Track(-1, a->generation), 0u);
}

}  // namespace
}  // namespace ssebridge
