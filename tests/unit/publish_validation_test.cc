// ValidatePublishSpec: normalisation and field-named errors.
#include "bridge/core/publish_validation.h"

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace ssebridge {
namespace {

PublishSpec Good() {
  PublishSpec s;
  s.channel = "tasks";
  s.type = "done";
  s.data = "{\"ok\":true}";
  return s;
}

void ExpectFieldError(PublishSpec spec, const PublishLimits& limits, const std::string& field) {
  absl::Status s = ValidatePublishSpec(&spec, limits);
  ASSERT_FALSE(s.ok()) << "expected an error naming " << field;
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_TRUE(absl::StartsWith(s.message(), field + ":")) << s;
}

TEST(PublishValidationTest, AcceptsAndKeepsAGoodSpec) {
  PublishSpec s = Good();
  s.retain = true;
  s.idempotency_key = "k1";
  ASSERT_TRUE(ValidatePublishSpec(&s, PublishLimits{}).ok());
  EXPECT_EQ(s.channel, "tasks");
  EXPECT_EQ(s.type, "done");
  EXPECT_EQ(s.data, "{\"ok\":true}");
  EXPECT_TRUE(s.retain);
  EXPECT_EQ(s.idempotency_key, "k1");
  EXPECT_TRUE(s.user_ids.empty());
}

TEST(PublishValidationTest, EmptyTypeBecomesMessage) {
  PublishSpec s = Good();
  s.type.clear();
  ASSERT_TRUE(ValidatePublishSpec(&s, PublishLimits{}).ok());
  EXPECT_EQ(s.type, "message");
}

TEST(PublishValidationTest, UserIdsAreSortedAndDeduplicated) {
  PublishSpec s = Good();
  s.user_ids = {"carol", "alice", "bob", "alice", "carol", "alice"};
  ASSERT_TRUE(ValidatePublishSpec(&s, PublishLimits{}).ok());
  EXPECT_EQ(s.user_ids, (std::vector<std::string>{"alice", "bob", "carol"}));
}

TEST(PublishValidationTest, ChannelErrors) {
  PublishSpec s = Good();
  s.channel = "";
  ExpectFieldError(s, PublishLimits{}, "channel");
  s.channel = "bad channel";
  ExpectFieldError(s, PublishLimits{}, "channel");
  s.channel = std::string(129, 'c');
  ExpectFieldError(s, PublishLimits{}, "channel");
}

TEST(PublishValidationTest, EventTypeErrors) {
  PublishSpec s = Good();
  s.type = "ssebridge.reset";
  ExpectFieldError(s, PublishLimits{}, "event");
  s.type = "a\nb";
  ExpectFieldError(s, PublishLimits{}, "event");
  s.type = std::string(65, 't');
  ExpectFieldError(s, PublishLimits{}, "event");
}

TEST(PublishValidationTest, DataErrors) {
  PublishSpec s = Good();
  s.data = "";
  ExpectFieldError(s, PublishLimits{}, "data");
  s.data = "\xC3\x28";
  ExpectFieldError(s, PublishLimits{}, "data");
}

TEST(PublishValidationTest, DataSizeLimitComesFromLimits) {
  PublishLimits limits;
  limits.max_event_bytes = 10;
  PublishSpec s = Good();
  s.data = std::string(10, 'd');
  EXPECT_TRUE(ValidatePublishSpec(&s, limits).ok());
  s.data = std::string(11, 'd');
  ExpectFieldError(s, limits, "data");
  limits.max_event_bytes = 11;
  EXPECT_TRUE(ValidatePublishSpec(&s, limits).ok());
  // Bytes, not characters: 4 two-byte characters are 8 bytes.
  limits.max_event_bytes = 7;
  s.data = "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9";
  ExpectFieldError(s, limits, "data");
}

TEST(PublishValidationTest, UserIdErrorsNameTheIndex) {
  PublishSpec s = Good();
  s.user_ids = {"ok", ""};
  ExpectFieldError(s, PublishLimits{}, "user_ids[1]");
  s.user_ids = {"zed", "ok", std::string(257, 'u')};
  ExpectFieldError(s, PublishLimits{}, "user_ids[2]");
  s.user_ids = {"\xFF", "ok"};
  ExpectFieldError(s, PublishLimits{}, "user_ids[0]");
}

TEST(PublishValidationTest, TooManyUserIds) {
  PublishLimits limits;
  limits.max_user_ids = 2;
  PublishSpec s = Good();
  s.user_ids = {"a", "b"};
  EXPECT_TRUE(ValidatePublishSpec(&s, limits).ok());
  s.user_ids = {"a", "b", "c"};
  ExpectFieldError(s, limits, "user_ids");
}

TEST(PublishValidationTest, IdempotencyKeyLength) {
  PublishLimits limits;
  limits.max_idempotency_key_bytes = 4;
  PublishSpec s = Good();
  s.idempotency_key = "abcd";
  EXPECT_TRUE(ValidatePublishSpec(&s, limits).ok());
  s.idempotency_key = "abcde";
  ExpectFieldError(s, limits, "idempotency_key");
}

}  // namespace
}  // namespace ssebridge
