#include "bridge/admission/stream_admission.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "bridge/auth/memory_ticket_store.h"
#include "tests/unit/jwt_test_tokens.h"

namespace ssebridge {
namespace {

using testing_jwt::Hs;
using testing_jwt::MakeToken;

const absl::Time kNow = absl::FromUnixSeconds(1800000000);
constexpr char kPublisherKey[] = "0123456789abcdef-tasks";
constexpr char kAdminKey[] = "0123456789abcdef-admin";

// The parts of an authenticated bridge (JWT key, a tasks* publisher key, an
// admin key, news public) and its admission step, without sockets.
class StreamAdmissionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(jwt_keys_->AddHmacSecret("k1", JwtAlgorithm::kHS256, secret_).ok());
    ASSERT_TRUE(publisher_keys_.Add("tasks", kPublisherKey, "tasks*").ok());
    ASSERT_TRUE(admin_keys_.Add("ops", kAdminKey, "").ok());
    SubscriberAuth::Options o;
    o.public_channels = *ChannelPatterns::Parse("news");
    subscribers_ = std::make_unique<SubscriberAuth>(o, &verifier_, &tickets_);
    publishers_ = std::make_unique<PublisherAuth>(PublisherAuth::Options{}, &publisher_keys_,
                                                  &verifier_, &unlimited_);
  }

  std::unique_ptr<StreamAdmission> Make(StreamAdmission::Options options = {},
                                        bool with_admin_keys = true) {
    StreamAdmission::Wiring w;
    w.subscribers = subscribers_.get();
    w.publishers = publishers_.get();
    w.admin_keys = with_admin_keys ? &admin_keys_ : &no_admin_keys_;
    w.limits = &limits_;
    w.dev_mode = false;
    w.ready = [this] { return ready_; };
    return std::make_unique<StreamAdmission>(options, std::move(w));
  }

  std::string UserToken(absl::string_view sub, absl::string_view channels) {
    return MakeToken(R"({"alg":"HS256","kid":"k1"})",
                     absl::StrCat(R"({"sub":")", sub, R"(","channels":)", channels, R"(,"exp":)",
                                  absl::ToUnixSeconds(kNow) + 60, "}"),
                     Hs("SHA256", secret_));
  }

  static StreamRequest Browser(std::vector<std::string> channels, std::string authorization = "",
                               std::string address = "10.0.0.1") {
    StreamRequest r;
    r.channels = std::move(channels);
    r.browser.authorization = std::move(authorization);
    r.client_address = std::move(address);
    return r;
  }
  static StreamRequest Operator(std::string authorization, std::string address = "10.0.0.9") {
    StreamRequest r;
    r.reader = StreamReader::kOperator;
    r.channels = {"$internal.status"};
    r.authorization = std::move(authorization);
    r.client_address = std::move(address);
    return r;
  }

  std::string secret_ = std::string(40, 'k');
  std::shared_ptr<JwtKeySet> jwt_keys_ = std::make_shared<JwtKeySet>();
  JwtVerifier verifier_{JwtVerifier::Options{}, jwt_keys_};
  MemoryTicketStore tickets_{TicketStore::Options{}};
  PublisherKeys publisher_keys_, admin_keys_, no_admin_keys_;
  RateLimiter unlimited_{0, 0};
  std::unique_ptr<SubscriberAuth> subscribers_;
  std::unique_ptr<PublisherAuth> publishers_;
  ConnectionLimits limits_{2, 3};  // per user, per address
  bool ready_ = true;
};

TEST(StreamChannelsTest, CountsValidatesAndDeduplicatesInOrder) {
  auto ok = StreamChannels({"b", "a", "b"}, "channel", 3, false);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(*ok, (std::vector<std::string>{"b", "a"}));
  EXPECT_TRUE(absl::StartsWith(StreamChannels({}, "channels", 3, true).status().message(),
                               "channels: at least one"));
  absl::Status many = StreamChannels({"a", "b", "c", "d"}, "channel", 3, false).status();
  EXPECT_TRUE(absl::IsInvalidArgument(many));
  EXPECT_TRUE(absl::StrContains(many.message(), "--max_channels_per_connection")) << many;
  EXPECT_TRUE(absl::StartsWith(StreamChannels({"a", "b c"}, "channels", 3, true).status().message(),
                               "channels[1]:"));
  EXPECT_TRUE(
      absl::StartsWith(StreamChannels({"$x"}, "channel", 3, false).status().message(), "channel:"));
}

TEST_F(StreamAdmissionTest, BrowserGetsItsUserOptionsAndACharge) {
  auto admission = Make({/*max_channels=*/4, /*max_streams=*/10, /*queue_bytes=*/4096});
  StreamRequest r =
      Browser({"tasks", "news", "tasks"}, "Bearer " + UserToken("ann", R"(["tasks"])"));
  r.cursor = "garbage-from-a-header";  // unchecked: no cursor_field
  auto grant = admission->Admit(r, kNow);
  ASSERT_TRUE(grant.ok()) << grant.status();
  EXPECT_EQ(grant->subscription.channels, (std::vector<std::string>{"tasks", "news"}));
  EXPECT_EQ(grant->subscription.user_id, "ann");
  EXPECT_EQ(grant->subscription.queue_bytes, 4096u);
  EXPECT_TRUE(grant->subscription.resuming);
  EXPECT_EQ(grant->cursor, "garbage-from-a-header");
  EXPECT_EQ(grant->method, "bearer");
  EXPECT_LT(grant->expires_at, absl::InfiniteFuture());
  ASSERT_NE(grant->charge, nullptr);
  EXPECT_EQ(admission->streams(), 1u);
  EXPECT_EQ(limits_.ConnectionsOf("ann"), 1u);
  grant->charge.reset();
  EXPECT_EQ(admission->streams(), 0u);
  EXPECT_EQ(limits_.ConnectionsOf("ann"), 0u);
}

TEST_F(StreamAdmissionTest, RefusalsCarryTheirCodeAndChargeNothing) {
  auto admission = Make();
  auto code = [&](const StreamRequest& r) { return admission->Admit(r, kNow).status().code(); };
  EXPECT_EQ(code(Browser({})), absl::StatusCode::kInvalidArgument);
  StreamRequest bad_cursor = Browser({"news"});
  bad_cursor.cursor = "nope";
  bad_cursor.cursor_field = "lastEventId";
  absl::Status s = admission->Admit(bad_cursor, kNow).status();
  EXPECT_TRUE(absl::IsInvalidArgument(s));
  EXPECT_TRUE(absl::StartsWith(s.message(), "lastEventId:")) << s;
  // Anonymous on a private channel: 401; a bad token says it was rejected.
  s = admission->Admit(Browser({"tasks"}), kNow).status();
  EXPECT_TRUE(absl::IsUnauthenticated(s)) << s;
  EXPECT_FALSE(s.GetPayload(kCredentialRejected).has_value());
  s = admission->Admit(Browser({"news"}, "Bearer not.a.token"), kNow).status();
  EXPECT_TRUE(absl::IsUnauthenticated(s)) << s;
  EXPECT_TRUE(s.GetPayload(kCredentialRejected).has_value());
  // A channel the token does not grant: 403.
  EXPECT_EQ(code(Browser({"billing"}, "Bearer " + UserToken("ann", R"(["tasks"])"))),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(admission->streams(), 0u);
  EXPECT_EQ(admission->refused_unauthenticated(), 2u);
  EXPECT_EQ(admission->refused_forbidden(), 1u);
}

TEST_F(StreamAdmissionTest, BrokerNotReadyAndDrainingAreUnavailable) {
  auto admission = Make();
  ready_ = false;
  absl::Status s = admission->Admit(Browser({"news"}), kNow).status();
  EXPECT_TRUE(absl::IsUnavailable(s)) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "broker")) << s;
  // The status feed needs no broker.
  EXPECT_TRUE(admission->Admit(Operator("Bearer " + std::string(kAdminKey)), kNow).ok());
  ready_ = true;
  admission->BeginDrain();
  for (const StreamRequest& r : {Browser({"news"}), Operator("Bearer " + std::string(kAdminKey))}) {
    s = admission->Admit(r, kNow).status();
    EXPECT_TRUE(absl::IsUnavailable(s)) << s;
    EXPECT_TRUE(absl::StrContains(s.message(), "shutting down")) << s;
  }
  EXPECT_EQ(admission->refused_unavailable(), 3u);
}

TEST_F(StreamAdmissionTest, StreamCapCountsEveryChargedDoorAndFreesOnRelease) {
  auto admission = Make({64, /*max_streams=*/2, 4096});
  auto viewer = admission->Admit(Operator("Bearer " + std::string(kAdminKey), "10.0.0.1"), kNow);
  ASSERT_TRUE(viewer.ok()) << viewer.status();
  auto reader = admission->Admit(Browser({"news"}, "", "10.0.0.2"), kNow);
  ASSERT_TRUE(reader.ok()) << reader.status();
  absl::Status full = admission->Admit(Browser({"news"}, "", "10.0.0.3"), kNow).status();
  EXPECT_TRUE(absl::IsUnavailable(full)) << full;
  EXPECT_TRUE(absl::StrContains(full.message(), "--max_connections")) << full;
  // The refused request holds nothing: its address is still free.
  viewer->charge.reset();
  EXPECT_TRUE(admission->Admit(Browser({"news"}, "", "10.0.0.3"), kNow).ok());
}

TEST_F(StreamAdmissionTest, PerUserAndPerAddressLimitsAreExhaustedNotUnavailable) {
  auto admission = Make();
  const std::string ann = "Bearer " + UserToken("ann", R"(["tasks"])");
  std::vector<StreamGrant> held;
  for (int i = 0; i < 2; ++i) {
    auto g = admission->Admit(Browser({"tasks"}, ann, absl::StrCat("10.1.0.", i)), kNow);
    ASSERT_TRUE(g.ok()) << g.status();
    held.push_back(std::move(*g));
  }
  absl::Status s = admission->Admit(Browser({"tasks"}, ann, "10.1.0.9"), kNow).status();
  EXPECT_TRUE(absl::IsResourceExhausted(s)) << s;
  // Operator streams are charged to their address like anyone's: 3 per address.
  for (int i = 0; i < 3; ++i) {
    auto g = admission->Admit(Operator("Bearer " + std::string(kAdminKey), "10.2.0.1"), kNow);
    ASSERT_TRUE(g.ok()) << g.status();
    held.push_back(std::move(*g));
  }
  s = admission->Admit(Operator("Bearer " + std::string(kAdminKey), "10.2.0.1"), kNow).status();
  EXPECT_TRUE(absl::IsResourceExhausted(s)) << s;
  EXPECT_EQ(admission->streams(), 5u);
  EXPECT_EQ(admission->refused_limited(), 2u);
}

TEST_F(StreamAdmissionTest, OperatorNeedsAnAdminKeyOrIsClosedWithAuthOn) {
  auto admission = Make();
  EXPECT_TRUE(absl::IsUnauthenticated(admission->CheckOperator("")));
  EXPECT_TRUE(absl::IsUnauthenticated(admission->CheckOperator("Bearer wrong-key-0123456789")));
  // A publisher key is no admin key.
  EXPECT_TRUE(
      absl::IsUnauthenticated(admission->CheckOperator(absl::StrCat("Bearer ", kPublisherKey))));
  EXPECT_TRUE(admission->CheckOperator(absl::StrCat("Bearer ", kAdminKey)).ok());
  EXPECT_TRUE(
      admission->CheckOperator("Basic " + absl::Base64Escape(absl::StrCat("x:", kAdminKey))).ok());

  auto closed = Make({}, /*with_admin_keys=*/false);
  absl::Status s = closed->CheckOperator(absl::StrCat("Bearer ", kAdminKey));
  EXPECT_TRUE(absl::IsPermissionDenied(s)) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "--admin_keys_file")) << s;
  EXPECT_TRUE(absl::IsPermissionDenied(closed->Admit(Operator(""), kNow).status()));
}

TEST_F(StreamAdmissionTest, BackendReadsWhatItMayPublishUnchargedAsNoUser) {
  auto admission = Make({64, /*max_streams=*/1, 4096});
  StreamRequest r;
  r.reader = StreamReader::kBackend;
  r.channels = {"tasks.1", "tasks.1", "tasks.2"};
  r.channels_field = "channels";
  r.index_channel_items = true;
  r.authorization = absl::StrCat("Bearer ", kPublisherKey);
  r.cursor = "bad";
  r.cursor_field = "last_event_id";
  absl::Status s = admission->Admit(r, kNow).status();
  EXPECT_TRUE(absl::StartsWith(s.message(), "last_event_id:")) << s;
  r.cursor.clear();
  for (int i = 0; i < 3; ++i) {  // more than max_streams: not charged
    auto g = admission->Admit(r, kNow);
    ASSERT_TRUE(g.ok()) << g.status();
    EXPECT_EQ(g->subscription.channels, (std::vector<std::string>{"tasks.1", "tasks.2"}));
    EXPECT_EQ(g->subscription.user_id, "");
    EXPECT_EQ(g->charge, nullptr);
  }
  r.channels = {"billing"};
  EXPECT_TRUE(absl::IsPermissionDenied(admission->Admit(r, kNow).status()));
  r.authorization.clear();
  EXPECT_TRUE(absl::IsUnauthenticated(admission->Admit(r, kNow).status()));
  r.channels = {"tasks", "bad name"};
  r.authorization = absl::StrCat("Bearer ", kPublisherKey);
  EXPECT_TRUE(absl::StartsWith(admission->Admit(r, kNow).status().message(), "channels[1]:"));
}

}  // namespace
}  // namespace ssebridge
