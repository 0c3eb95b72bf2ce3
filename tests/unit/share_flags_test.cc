// ValidateFlags for the issue 16 share and ticket-bound flags.
#include <gtest/gtest.h>

#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "bridge/ops/flags.h"

namespace ssebridge {
namespace {

void ExpectRefusedNaming(const char* flag) {
  absl::Status s = ValidateFlags();
  ASSERT_FALSE(s.ok()) << flag;
  EXPECT_NE(s.message().find(flag), std::string::npos) << s;
}

TEST(ShareFlagsTest, SubscribeStreamsStayBelowTheGrpcThreads) {
  absl::FlagSaver saver;
  absl::SetFlag(&FLAGS_grpc_max_threads, 8);
  absl::SetFlag(&FLAGS_max_grpc_subscribe_streams, 0);  // half: fine
  EXPECT_TRUE(ValidateFlags().ok());
  absl::SetFlag(&FLAGS_max_grpc_subscribe_streams, 7);
  EXPECT_TRUE(ValidateFlags().ok());
  absl::SetFlag(&FLAGS_max_grpc_subscribe_streams, 8);
  ExpectRefusedNaming("--max_grpc_subscribe_streams");
  absl::SetFlag(&FLAGS_max_grpc_subscribe_streams, -1);
  ExpectRefusedNaming("--max_grpc_subscribe_streams");
}

TEST(ShareFlagsTest, BoundsAreChecked) {
  {
    absl::FlagSaver saver;
    absl::SetFlag(&FLAGS_max_ticket_channels, 0);
    ExpectRefusedNaming("--max_ticket_channels");
  }
  {
    absl::FlagSaver saver;
    absl::SetFlag(&FLAGS_max_ticket_pattern_bytes, 130);
    ExpectRefusedNaming("--max_ticket_pattern_bytes");
  }
  {
    absl::FlagSaver saver;
    absl::SetFlag(&FLAGS_max_tickets_per_key, -1);
    ExpectRefusedNaming("--max_tickets_per_key");
  }
  {
    absl::FlagSaver saver;
    absl::SetFlag(&FLAGS_max_channels_per_key, -1);
    ExpectRefusedNaming("--max_channels_per_key");
  }
  {
    absl::FlagSaver saver;
    absl::SetFlag(&FLAGS_max_grpc_subscribe_streams_per_key, -1);
    ExpectRefusedNaming("--max_grpc_subscribe_streams_per_key");
  }
  {
    absl::FlagSaver saver;
    absl::SetFlag(&FLAGS_max_grpc_publish_streams, 0);
    ExpectRefusedNaming("--max_grpc_publish_streams");
  }
  {
    absl::FlagSaver saver;
    absl::SetFlag(&FLAGS_max_grpc_publish_streams_per_key, -1);
    ExpectRefusedNaming("--max_grpc_publish_streams_per_key");
  }
}

}  // namespace
}  // namespace ssebridge
