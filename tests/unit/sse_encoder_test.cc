// SSE framing: SseEncoder::Encode, AppendDataLines, SseComment, SseRetry,
// SseHeartbeatHint, SseStreamOpening.
//
// Besides exact-byte expectations, every frame is fed to the tests' WHATWG
// parser (tests/harness/sse_parser.h), so the tests assert what a browser's
// EventSource would actually see.
#include "bridge/sse/sse_encoder.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_replace.h"
#include "absl/strings/string_view.h"
#include "bridge/core/event.h"
#include "gtest/gtest.h"
#include "tests/harness/sse_parser.h"

namespace ssebridge {
namespace {

// ---- what a browser sees: the tests' one WHATWG parser ------------------

struct ParsedEvent {
  std::string type;  // "message" when no event: field was given
  std::string data;
  std::string last_event_id;  // the EventSource's last event ID at dispatch
};

struct ParsedStream {
  std::vector<ParsedEvent> events;
  std::vector<std::string> comments;
  std::optional<int64_t> retry;
};

// Interprets `stream` as a complete text/event-stream body with
// tests/harness/sse_parser.h. A trailing line without a terminator is not
// processed (a browser would still be waiting for its end of line).
ParsedStream ParseSse(absl::string_view stream) {
  ssebridge_it::SseParser parser;
  parser.Feed(stream);
  ParsedStream out;
  for (const ssebridge_it::SseEvent& e : parser.events()) {
    out.events.push_back(ParsedEvent{e.event, e.data, e.id});
  }
  out.comments = parser.comments();
  if (!parser.retries().empty()) out.retry = parser.retries().back();
  return out;
}

std::string NormaliseNewlines(absl::string_view s) {
  std::string t = absl::StrReplaceAll(s, {{"\r\n", "\n"}});
  return absl::StrReplaceAll(t, {{"\r", "\n"}});
}

Event MakeEvent(std::string id, std::string type, std::string data) {
  Event ev;
  ev.id = std::move(id);
  ev.type = std::move(type);
  ev.data = std::move(data);
  return ev;
}

// The parser itself must behave, or the round-trip tests prove nothing.
TEST(SseParserSelfTest, FollowsTheWhatwgAlgorithm) {
  ParsedStream p = ParseSse(
      "id: 7\r\nevent: x\rdata:  two spaces\ndata\n\n: note\n"
      "data: y\n\nretry: 12\n\ndata: incomplete");
  ASSERT_EQ(p.events.size(), 2u);
  EXPECT_EQ(p.events[0].type, "x");
  EXPECT_EQ(p.events[0].data, " two spaces\n");
  EXPECT_EQ(p.events[0].last_event_id, "7");
  EXPECT_EQ(p.events[1].type, "message");
  EXPECT_EQ(p.events[1].data, "y");
  EXPECT_EQ(p.events[1].last_event_id, "7");
  ASSERT_EQ(p.comments.size(), 1u);
  EXPECT_EQ(p.comments[0], " note");
  ASSERT_TRUE(p.retry.has_value());
  EXPECT_EQ(*p.retry, 12);
}

// ---- exact framing --------------------------------------------------------

TEST(SseEncoderTest, SingleLineWithIdAndDefaultType) {
  SseEncoder enc;
  EXPECT_EQ(enc.Encode(MakeEvent("e1-1", "message", "hello")), "id: e1-1\ndata: hello\n\n");
}

TEST(SseEncoderTest, NoticesCarryATypeAndDataButNoId) {
  EXPECT_EQ(SseNotice("ssebridge.disconnected", R"({"reason":"x"})"),
            "event: ssebridge.disconnected\ndata: {\"reason\":\"x\"}\n\n");
  // A payload's line breaks become data lines, as for events.
  EXPECT_EQ(SseNotice("snapshot", "a\nb"), "event: snapshot\ndata: a\ndata: b\n\n");
}

TEST(SseEncoderTest, CustomTypeIsEmitted) {
  SseEncoder enc;
  EXPECT_EQ(enc.Encode(MakeEvent("e1-2", "task.done", "{}")),
            "id: e1-2\nevent: task.done\ndata: {}\n\n");
}

TEST(SseEncoderTest, EmptyTypeIsOmitted) {
  SseEncoder enc;
  EXPECT_EQ(enc.Encode(MakeEvent("e1-3", "", "x")), "id: e1-3\ndata: x\n\n");
}

TEST(SseEncoderTest, NoIdLineWithoutId) {
  SseEncoder enc;
  EXPECT_EQ(enc.Encode(MakeEvent("", "t", "x")), "event: t\ndata: x\n\n");
}

TEST(SseEncoderTest, MultiLineLf) {
  SseEncoder enc;
  EXPECT_EQ(enc.Encode(MakeEvent("a-1", "message", "l1\nl2\nl3")),
            "id: a-1\ndata: l1\ndata: l2\ndata: l3\n\n");
}

TEST(SseEncoderTest, MultiLineCrLf) {
  SseEncoder enc;
  EXPECT_EQ(enc.Encode(MakeEvent("a-1", "message", "l1\r\nl2")), "id: a-1\ndata: l1\ndata: l2\n\n");
}

TEST(SseEncoderTest, MultiLineCr) {
  SseEncoder enc;
  EXPECT_EQ(enc.Encode(MakeEvent("a-1", "message", "l1\rl2")), "id: a-1\ndata: l1\ndata: l2\n\n");
}

TEST(SseEncoderTest, MixedLineBreaks) {
  SseEncoder enc;
  // "\n\r" is two breaks (LF, then CR), unlike "\r\n".
  EXPECT_EQ(enc.Encode(MakeEvent("a-1", "message", "a\r\nb\rc\nd\n\re")),
            "id: a-1\ndata: a\ndata: b\ndata: c\ndata: d\ndata: \ndata: e\n\n");
}

TEST(SseEncoderTest, TrailingNewlineKeepsAnEmptyLastLine) {
  SseEncoder enc;
  EXPECT_EQ(enc.Encode(MakeEvent("a-1", "message", "x\n")), "id: a-1\ndata: x\ndata: \n\n");
  EXPECT_EQ(enc.Encode(MakeEvent("a-1", "message", "x\r")), "id: a-1\ndata: x\ndata: \n\n");
  EXPECT_EQ(enc.Encode(MakeEvent("a-1", "message", "x\r\n")), "id: a-1\ndata: x\ndata: \n\n");
}

TEST(SseEncoderTest, EmptyDataIsOneEmptyDataLine) {
  SseEncoder enc;
  EXPECT_EQ(enc.Encode(MakeEvent("a-1", "message", "")), "id: a-1\ndata: \n\n");
  ParsedStream p = ParseSse(enc.Encode(MakeEvent("a-1", "message", "")));
  ASSERT_EQ(p.events.size(), 1u);
  EXPECT_EQ(p.events[0].data, "");
}

TEST(SseEncoderTest, UnicodePassesUnchanged) {
  SseEncoder enc;
  const std::string data = "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80";
  EXPECT_EQ(enc.Encode(MakeEvent("a-1", "message", data)), "id: a-1\ndata: " + data + "\n\n");
  // A type in UTF-8 too.
  EXPECT_EQ(enc.Encode(MakeEvent("a-1", "\xC3\xA9v", "x")),
            "id: a-1\nevent: \xC3\xA9v\ndata: x\n\n");
}

TEST(SseEncoderTest, LeadingSpacesArePreserved) {
  SseEncoder enc;
  const std::string frame = enc.Encode(MakeEvent("a-1", "message", "  two\n three"));
  EXPECT_EQ(frame, "id: a-1\ndata:   two\ndata:  three\n\n");
  ParsedStream p = ParseSse(frame);
  ASSERT_EQ(p.events.size(), 1u);
  EXPECT_EQ(p.events[0].data, "  two\n three");
}

TEST(SseEncoderTest, ColonsInDataAreNotFields) {
  SseEncoder enc;
  ParsedStream p = ParseSse(enc.Encode(MakeEvent("a-1", "message", "id: x\n: y\nevent: z")));
  ASSERT_EQ(p.events.size(), 1u);
  EXPECT_EQ(p.events[0].data, "id: x\n: y\nevent: z");
  EXPECT_EQ(p.events[0].type, "message");
  EXPECT_EQ(p.events[0].last_event_id, "a-1");
}

TEST(SseEncoderTest, EncodeCursorMovesLastEventIdWithoutAnEvent) {
  SseEncoder enc;
  EXPECT_EQ(enc.EncodeCursor("ep-9"), "id: ep-9\n\n");
  ParsedStream p = ParseSse(enc.Encode(MakeEvent("ep-3", "state", "v")) + enc.EncodeCursor("ep-9"));
  ASSERT_EQ(p.events.size(), 1u);
  EXPECT_EQ(p.events[0].last_event_id, "ep-3");
  // The next event without an id of its own carries the moved cursor.
  p = ParseSse(enc.EncodeCursor("ep-9") + enc.Encode(MakeEvent("", "", "x")));
  ASSERT_EQ(p.events.size(), 1u);
  EXPECT_EQ(p.events[0].last_event_id, "ep-9");
  // Through the base class too.
  const EventEncoder& base = enc;
  EXPECT_EQ(base.EncodeCursor("a-1"), "id: a-1\n\n");
}

TEST(AppendDataLinesTest, AppendsToExistingText) {
  std::string out = "id: q\n";
  AppendDataLines("a\nb", &out);
  EXPECT_EQ(out, "id: q\ndata: a\ndata: b\n");
  out.clear();
  AppendDataLines("", &out);
  EXPECT_EQ(out, "data: \n");
  out.clear();
  AppendDataLines("\r\n", &out);
  EXPECT_EQ(out, "data: \ndata: \n");
  out.clear();
  AppendDataLines("\n\n", &out);
  EXPECT_EQ(out, "data: \ndata: \ndata: \n");
}

TEST(SseCommentTest, Format) {
  EXPECT_EQ(SseComment("hb"), ": hb\n\n");
  EXPECT_EQ(SseComment(""), ": \n\n");
  ParsedStream p = ParseSse(SseComment("keepalive"));
  EXPECT_TRUE(p.events.empty());
  ASSERT_EQ(p.comments.size(), 1u);
  EXPECT_EQ(p.comments[0], " keepalive");
}

// SseComment promises a block that EventSource ignores. Text with a line
// break must not turn into fields (here: a forged event).
TEST(SseCommentTest, LineBreaksInTextCannotInjectFields) {
  ParsedStream p = ParseSse(SseComment("a\ndata: forged\rid: 9"));
  EXPECT_TRUE(p.events.empty()) << "comment text produced an event";
  // And a following real event must not pick up a forged id.
  SseEncoder enc;
  p = ParseSse(SseComment("x\nid: forged") + enc.Encode(MakeEvent("", "", "d")));
  ASSERT_EQ(p.events.size(), 1u);
  EXPECT_EQ(p.events[0].last_event_id, "");
}

TEST(SseRetryTest, Format) {
  EXPECT_EQ(SseRetry(3000), "retry: 3000\n\n");
  EXPECT_EQ(SseRetry(0), "retry: 0\n\n");
  ParsedStream p = ParseSse(SseRetry(2500));
  EXPECT_TRUE(p.events.empty());
  ASSERT_TRUE(p.retry.has_value());
  EXPECT_EQ(*p.retry, 2500);
}

// The channel line is a field EventSource ignores: a browser sees the same
// event as without it, and the line leads the frame so the id/event/data run
// stays contiguous.
TEST(SseEncoderTest, ChannelLineLeadsAndIsInvisibleToEventSource) {
  SseEncoder enc;
  Event ev = MakeEvent("e1-7", "order", "a\nb");
  ev.channel = "orders:eu";
  const std::string frame = enc.Encode(ev);
  EXPECT_EQ(frame, "channel: orders:eu\nid: e1-7\nevent: order\ndata: a\ndata: b\n\n");
  ev.channel.clear();
  const std::string without = enc.Encode(ev);
  EXPECT_EQ(without, "id: e1-7\nevent: order\ndata: a\ndata: b\n\n");
  ParsedStream with_channel = ParseSse(frame);
  ParsedStream plain = ParseSse(without);
  ASSERT_EQ(with_channel.events.size(), 1u);
  ASSERT_EQ(plain.events.size(), 1u);
  EXPECT_EQ(with_channel.events[0].type, plain.events[0].type);
  EXPECT_EQ(with_channel.events[0].data, plain.events[0].data);
  EXPECT_EQ(with_channel.events[0].last_event_id, plain.events[0].last_event_id);
}

TEST(SseHeartbeatHintTest, FormatIsIgnoredByEventSource) {
  EXPECT_EQ(SseHeartbeatHint(15000), "heartbeat: 15000\n\n");
  ParsedStream p = ParseSse(SseHeartbeatHint(15000));
  EXPECT_TRUE(p.events.empty());
  EXPECT_FALSE(p.retry.has_value());
}

TEST(SseStreamOpeningTest, CommentRetryAndHeartbeatDispatchNothing) {
  const std::string opening = SseStreamOpening(3000, 15000);
  EXPECT_EQ(opening, ": ok\n\nretry: 3000\n\nheartbeat: 15000\n\n");
  ParsedStream p = ParseSse(opening + "data: x\n\n");
  ASSERT_EQ(p.events.size(), 1u);  // only the event that follows
  EXPECT_EQ(p.events[0].data, "x");
  EXPECT_EQ(p.events[0].last_event_id, "");
  ASSERT_TRUE(p.retry.has_value());
  EXPECT_EQ(*p.retry, 3000);
  ASSERT_EQ(p.comments.size(), 1u);
}

// ---- round trip through a browser's parser --------------------------------

class SseRoundTripTest : public testing::TestWithParam<std::string> {};

TEST_P(SseRoundTripTest, BrowserSeesThePublishedData) {
  SseEncoder enc;
  const std::string& data = GetParam();
  for (const char* type : {"message", "update"}) {
    Event ev = MakeEvent("ep-42", type, data);
    ParsedStream p = ParseSse(enc.Encode(ev));
    ASSERT_EQ(p.events.size(), 1u) << "data: " << testing::PrintToString(data);
    EXPECT_EQ(p.events[0].data, NormaliseNewlines(data));
    EXPECT_EQ(p.events[0].type, type);
    EXPECT_EQ(p.events[0].last_event_id, "ep-42");
  }
}

INSTANTIATE_TEST_SUITE_P(Payloads, SseRoundTripTest,
                         testing::Values(std::string("plain"), std::string(""), std::string("a\nb"),
                                         std::string("a\r\nb"), std::string("a\rb"),
                                         std::string("a\r\n\r\nb"), std::string("a\n\rb"),
                                         std::string("x\n"), std::string("x\r"),
                                         std::string("x\r\n"), std::string("\n"), std::string("\r"),
                                         std::string("\r\n"), std::string("\n\nx\n\n"),
                                         std::string("  lead"), std::string(" \n  \r   "),
                                         std::string(":colon"), std::string("data: nested"),
                                         std::string("{\"k\":\"v\",\n \"u\":\"\xE2\x9C\x93\"}"),
                                         std::string("\xF0\x9F\x98\x80\r\n\xE4\xB8\xAD")));

TEST(SseStreamTest, SeveralFramesInOneStream) {
  SseEncoder enc;
  std::string stream = SseRetry(1000) + SseComment("hb") +
                       enc.Encode(MakeEvent("e-1", "a", "one\r\ntwo")) + SseComment("hb") +
                       enc.Encode(MakeEvent("e-2", "message", "three"));
  ParsedStream p = ParseSse(stream);
  ASSERT_EQ(p.events.size(), 2u);
  EXPECT_EQ(p.events[0].type, "a");
  EXPECT_EQ(p.events[0].data, "one\ntwo");
  EXPECT_EQ(p.events[0].last_event_id, "e-1");
  EXPECT_EQ(p.events[1].type, "message");
  EXPECT_EQ(p.events[1].data, "three");
  EXPECT_EQ(p.events[1].last_event_id, "e-2");
  EXPECT_EQ(p.comments.size(), 2u);
}

}  // namespace
}  // namespace ssebridge
