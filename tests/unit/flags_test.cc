#include "bridge/ops/flags.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"

namespace ssebridge {
namespace {

class FlagsTest : public ::testing::Test {
 protected:
  absl::FlagSaver saver_;
  void TearDown() override {
    unsetenv("SSEBRIDGE_MAX_EVENT_BYTES");
    unsetenv("SSEBRIDGE_HEARTBEAT");
    unsetenv("SSEBRIDGE_CHANNEL_POLICIES");
  }
};

TEST_F(FlagsTest, EnvironmentSetsFlags) {
  setenv("SSEBRIDGE_MAX_EVENT_BYTES", "1234", 1);
  setenv("SSEBRIDGE_HEARTBEAT", "250ms", 1);
  setenv("SSEBRIDGE_CHANNEL_POLICIES", "dash.*=latest-only", 1);
  ASSERT_TRUE(ApplyEnvironmentToFlags().ok());
  EXPECT_EQ(absl::GetFlag(FLAGS_max_event_bytes), 1234);
  EXPECT_EQ(absl::GetFlag(FLAGS_heartbeat), absl::Milliseconds(250));
  EXPECT_EQ(absl::GetFlag(FLAGS_channel_policies), "dash.*=latest-only");
}

TEST_F(FlagsTest, BadEnvironmentValueNamesTheVariable) {
  setenv("SSEBRIDGE_MAX_EVENT_BYTES", "lots", 1);
  absl::Status s = ApplyEnvironmentToFlags();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("SSEBRIDGE_MAX_EVENT_BYTES"), std::string::npos);
}

TEST_F(FlagsTest, DefaultsAreValid) { EXPECT_TRUE(ValidateFlags().ok()); }

TEST_F(FlagsTest, ValidationNamesTheFlag) {
  absl::SetFlag(&FLAGS_http_port, 70000);
  absl::Status s = ValidateFlags();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("--http_port"), std::string::npos);

  absl::SetFlag(&FLAGS_http_port, 8080);
  absl::SetFlag(&FLAGS_queue_bytes, 10);
  s = ValidateFlags();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("--queue_bytes"), std::string::npos);
}

TEST_F(FlagsTest, AdminPortIsOffAnyOrItsOwn) {
  for (int32_t port : {-1, 0, 9091}) {
    absl::SetFlag(&FLAGS_admin_port, port);
    EXPECT_TRUE(ValidateFlags().ok()) << port;
  }
  for (int32_t port : {-2, 70000, 8080, 50051}) {  // 8080, 50051: the other ports
    absl::SetFlag(&FLAGS_admin_port, port);
    absl::Status s = ValidateFlags();
    EXPECT_NE(s.message().find("--admin_port"), std::string::npos) << port << ": " << s;
  }
}

TEST_F(FlagsTest, GrpcMessageLimitHoldsOneEvent) {
  absl::SetFlag(&FLAGS_max_event_bytes, 64 * 1024);
  for (int64_t bytes : {int64_t{0}, int64_t{128 * 1024}, int64_t{1} << 30}) {
    absl::SetFlag(&FLAGS_grpc_max_message_bytes, bytes);
    EXPECT_TRUE(ValidateFlags().ok()) << bytes;
  }
  for (int64_t bytes : {int64_t{-1}, int64_t{128 * 1024 - 1}, (int64_t{1} << 30) + 1}) {
    absl::SetFlag(&FLAGS_grpc_max_message_bytes, bytes);
    absl::Status s = ValidateFlags();
    EXPECT_NE(s.message().find("--grpc_max_message_bytes"), std::string::npos)
        << bytes << ": " << s;
  }
}

TEST_F(FlagsTest, MetricsChannelsMustBePatterns) {
  absl::SetFlag(&FLAGS_metrics_channels, "dash.*,orders");
  EXPECT_TRUE(ValidateFlags().ok());
  absl::SetFlag(&FLAGS_metrics_channels, "a*b");
  absl::Status s = ValidateFlags();
  EXPECT_NE(s.message().find("--metrics_channels"), std::string::npos) << s;
}

}  // namespace
}  // namespace ssebridge
