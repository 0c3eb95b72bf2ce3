// ResetNotice: the ssebridge.reset event and the JSON it carries.
#include "bridge/broker/reset_notice.h"

#include <string>

#include "absl/time/time.h"
#include "bridge/sse/sse_encoder.h"
#include "gtest/gtest.h"

namespace ssebridge {
namespace {

TEST(ResetNoticeTest, Fields) {
  SseEncoder enc;
  const absl::Time now = absl::FromUnixSeconds(1700000000);
  EventPtr ev = MakeResetNotice("ep9", 42, kResetTooOld, "ep9-3", now, enc);
  EXPECT_EQ(ev->type, "ssebridge.reset");
  EXPECT_EQ(ev->id, "ep9-42");
  EXPECT_EQ(ev->seq, 42u);
  EXPECT_TRUE(ev->channel.empty());
  EXPECT_EQ(ev->published_at, now);
  EXPECT_EQ(ev->data, "{\"reason\":\"cursor_too_old\",\"cursor\":\"ep9-3\",\"head\":\"ep9-42\"}");
  EXPECT_EQ(ev->frame, enc.Encode(*ev));
  EXPECT_EQ(ev->frame,
            "id: ep9-42\nevent: ssebridge.reset\ndata: "
            "{\"reason\":\"cursor_too_old\",\"cursor\":\"ep9-3\",\"head\":\"ep9-42\"}\n\n");
}

TEST(ResetNoticeTest, CursorIsShortenedAndMadeSafe) {
  SseEncoder enc;
  std::string cursor = std::string("x\"\n\xFF", 4) + std::string(100, 'y');
  EventPtr ev = MakeResetNotice("e", 0, kResetMalformed, cursor, absl::UnixEpoch(), enc);
  const std::string expected_cursor = "x\\\"??" + std::string(60, 'y');
  EXPECT_EQ(ev->data, "{\"reason\":\"malformed_cursor\",\"cursor\":\"" + expected_cursor +
                          "\",\"head\":\"e-0\"}");
  EXPECT_EQ(ev->data.find('\n'), std::string::npos);
}

TEST(ResetNoticeTest, ReasonNames) {
  EXPECT_EQ(kResetMalformed, "malformed_cursor");
  EXPECT_EQ(kResetUnknownEpoch, "unknown_epoch");
  EXPECT_EQ(kResetTooOld, "cursor_too_old");
  EXPECT_EQ(kResetAhead, "cursor_ahead");
}

}  // namespace
}  // namespace ssebridge
