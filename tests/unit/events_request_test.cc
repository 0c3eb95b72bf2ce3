// ParseEventsRequest: what GET /v1/events asks for (events_request.h). The
// HTTP behaviour around it is covered by the integration tests (bad_input,
// resume, auth_*); these pin the rules themselves, and tests/fuzz checks
// them on arbitrary input.
#include "bridge/http/events_request.h"

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace ssebridge {
namespace {

absl::StatusOr<EventsRequest> Parse(const RequestFields& params, const RequestFields& headers = {},
                                    absl::string_view method = "GET", size_t max_channels = 3) {
  return ParseEventsRequest({method, &params, &headers}, max_channels);
}

TEST(EventsRequestTest, ChannelsAreDeduplicatedInFirstSeenOrder) {
  auto r = Parse({{"channel", "b"}, {"x", "1"}, {"channel", "a"}, {"channel", "b"}});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->channels, (std::vector<std::string>{"b", "a"}));
  EXPECT_TRUE(r->cursor.empty());
  EXPECT_FALSE(r->credential_sent);
}

TEST(EventsRequestTest, RefusesMissingTooManyAndBadChannels) {
  EXPECT_TRUE(absl::IsInvalidArgument(Parse({{"ticket", "t"}}).status()));
  auto many = Parse({{"channel", "a"}, {"channel", "b"}, {"channel", "a"}, {"channel", "c"}});
  EXPECT_TRUE(absl::IsInvalidArgument(many.status()));
  EXPECT_NE(many.status().message().find("--max_channels_per_connection"), absl::string_view::npos);
  auto bad = Parse({{"channel", "a b"}});
  EXPECT_TRUE(absl::IsInvalidArgument(bad.status()));
  EXPECT_EQ(bad.status().message().substr(0, 8), "channel:");
}

TEST(EventsRequestTest, LastEventIdHeaderWinsAndIsNotChecked) {
  auto r =
      Parse({{"channel", "a"}, {"lastEventId", "not valid"}}, {{"last-event-id", "garbage\x01"}});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->cursor, "garbage\x01");
  EXPECT_TRUE(r->cursor_from_header);  // StreamAdmission leaves it unchecked
}

TEST(EventsRequestTest, LastEventIdParameterMustBeAnEventId) {
  auto ok = Parse({{"channel", "a"}, {"lastEventId", "k3x9-41"}});
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->cursor, "k3x9-41");
  EXPECT_FALSE(ok->cursor_from_header);
  auto bad = Parse({{"channel", "a"}, {"lastEventId", "41"}});
  EXPECT_TRUE(absl::IsInvalidArgument(bad.status()));
  EXPECT_EQ(bad.status().message().substr(0, 12), "lastEventId:");
}

TEST(EventsRequestTest, StreamKeyIsOptionalAndChecked) {
  auto none = Parse({{"channel", "a"}});
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->stream_key, "");
  auto keyed = Parse({{"channel", "a"}, {"stream", "tab_1-Z"}, {"stream", "other"}});
  ASSERT_TRUE(keyed.ok()) << keyed.status();
  EXPECT_EQ(keyed->stream_key, "tab_1-Z");  // the first, as every parameter
  EXPECT_TRUE(Parse({{"channel", "a"}, {"stream", std::string(64, 'k')}}).ok());
  for (const std::string& bad : {std::string(), std::string(65, 'k'), std::string("a b"),
                                 std::string("t.1"), std::string("\xc3\xa9")}) {
    auto r = Parse({{"channel", "a"}, {"stream", bad}});
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_TRUE(absl::IsInvalidArgument(r.status()));
    EXPECT_TRUE(absl::StartsWith(r.status().message(), "stream:")) << r.status();
  }
}

TEST(EventsRequestTest, CredentialsAreTheFirstValuesAsSent) {
  auto r = Parse({{"channel", "a"}, {"ticket", "t1"}, {"ticket", "t2"}, {"access_token", "q"}},
                 {{"AUTHORIZATION", "Bearer x"}, {"cookie", "a=1"}, {"Cookie", "b=2"}}, "HEAD");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->credentials.authorization, "Bearer x");
  EXPECT_EQ(r->credentials.cookie_header, "a=1");
  EXPECT_EQ(r->credentials.ticket, "t1");
  EXPECT_EQ(r->credentials.access_token, "q");
  EXPECT_TRUE(r->credentials.keep_ticket);
  EXPECT_TRUE(r->credential_sent);
}

TEST(EventsRequestTest, TheCookieAloneIsNoExplicitCredential) {
  auto r = Parse({{"channel", "a"}}, {{"Cookie", "ssebridge_token=x"}});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->credential_sent);
  EXPECT_FALSE(r->credentials.keep_ticket);
}

}  // namespace
}  // namespace ssebridge
