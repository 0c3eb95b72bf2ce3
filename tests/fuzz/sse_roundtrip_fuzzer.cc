// Fuzz target: SSE framing round trip. Whatever event a publisher gets past
// publish validation, the bridge's frame, read by a WHATWG-conformant parser
// (tests/harness/sse_parser.h), must give back exactly that one event: same type,
// same id, same data (line breaks as "\n", as the encoder promises), one
// `channel` field naming its channel (ignored by EventSource, read by the
// SDK), and no other field, event or retry change. Cursor frames, comments and reset
// notices (which quote a client's cursor) must not dispatch anything extra.
//
// Input layout (FuzzedDataProvider): event type, epoch, seq, two split
// points that cut the frame into three Feed calls, then the data bytes.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#include "bridge/broker/reset_notice.h"
#include "bridge/core/event_id.h"
#include "bridge/core/names.h"
#include "bridge/core/publish_validation.h"
#include "bridge/sse/sse_encoder.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/harness/sse_parser.h"

namespace ssebridge {
namespace {

// What EventSource hands the page for `data`: every CRLF, CR and LF is "\n".
std::string BrowserLines(const std::string& data) {
  std::string out;
  for (size_t i = 0; i < data.size(); ++i) {
    if (data[i] == '\r') {
      out += '\n';
      if (i + 1 < data.size() && data[i + 1] == '\n') ++i;
    } else {
      out += data[i];
    }
  }
  return out;
}

size_t DataLines(const std::string& browser_data) {
  size_t n = 1;
  for (char c : browser_data) n += c == '\n';
  return n;
}

// The stream as a browser receives it: the bridge's opening bytes, then
// `frame` cut at two points.
void FeedStream(ssebridge_it::SseParser* p, const std::string& frame, size_t a, size_t b) {
  p->Feed(SseStreamOpening(3000, 15000));
  a = a % (frame.size() + 1);
  b = b % (frame.size() + 1);
  if (a > b) std::swap(a, b);
  p->Feed(absl::string_view(frame).substr(0, a));
  p->Feed(absl::string_view(frame).substr(a, b - a));
  p->Feed(absl::string_view(frame).substr(b));
}

void CheckEventFrame(const PublishSpec& spec, const EventId& id, size_t a, size_t b) {
  Event event;
  event.seq = id.seq;
  event.id = id.ToString();
  event.channel = spec.channel;
  event.type = spec.type;
  event.data = spec.data;
  const std::string frame = SseEncoder().Encode(event);
  FUZZ_CHECK(IsValidUtf8(frame));

  ssebridge_it::SseParser p;
  FeedStream(&p, frame, a, b);
  FUZZ_CHECK(!p.has_pending_line());
  FUZZ_CHECK(!p.has_pending_event());
  FUZZ_CHECK(p.events().size() == 1);
  FUZZ_CHECK(p.comments().size() == 1);
  // After the comment, the retry and the heartbeat hint.
  FUZZ_CHECK(p.empty_dispatches() == 3);
  FUZZ_CHECK(p.retry_millis().has_value() && *p.retry_millis() == 3000);
  const ssebridge_it::SseEvent& got = p.events()[0];
  FUZZ_CHECK(got.event == spec.type);
  const std::string want_data = BrowserLines(spec.data);
  FUZZ_CHECK(got.data == want_data);
  FUZZ_CHECK(got.id == event.id);
  FUZZ_CHECK(p.last_event_id() == event.id);

  FUZZ_CHECK(p.fields().size() >= 2);
  FUZZ_CHECK(p.fields()[0].name == "retry");
  FUZZ_CHECK(p.fields()[1].name == "heartbeat" && p.fields()[1].value == "15000");
  size_t ids = 0, types = 0, data = 0, channels = 0;
  for (size_t i = 2; i < p.fields().size(); ++i) {
    const ssebridge_it::SseField& f = p.fields()[i];
    if (f.name == "channel") {
      FUZZ_CHECK(f.value == spec.channel);
      ++channels;
    } else if (f.name == "id") {
      ++ids;
    } else if (f.name == "event") {
      ++types;
    } else {
      FUZZ_CHECK(f.name == "data");
      ++data;
    }
  }
  FUZZ_CHECK(ids == 1);
  FUZZ_CHECK(channels == 1);
  FUZZ_CHECK(types == (spec.type == kDefaultEventType ? 0u : 1u));
  FUZZ_CHECK(data == DataLines(want_data));

  // The next event on the same stream starts clean: no type or data left
  // over from this one.
  Event next;
  next.id = "e-1";
  next.type = std::string(kDefaultEventType);
  next.data = "x";
  p.Feed(SseEncoder().Encode(next));
  FUZZ_CHECK(p.events().size() == 2);
  FUZZ_CHECK(p.events()[1].event == "message");
  FUZZ_CHECK(p.events()[1].data == "x");
  FUZZ_CHECK(p.events()[1].id == "e-1");
}

// Frames that must never dispatch: a cursor move and a comment.
void CheckSilentFrames(const EventId& id, const std::string& text) {
  ssebridge_it::SseParser cursor;
  cursor.Feed(SseEncoder().EncodeCursor(id.ToString()));
  FUZZ_CHECK(cursor.events().empty());
  FUZZ_CHECK(cursor.fields().size() == 1);
  FUZZ_CHECK(cursor.last_event_id() == id.ToString());
  FUZZ_CHECK(!cursor.has_pending_line());

  ssebridge_it::SseParser comment;
  comment.Feed(SseComment(text));
  FUZZ_CHECK(comment.events().empty());
  FUZZ_CHECK(comment.fields().empty());
  FUZZ_CHECK(comment.comments().size() == 1);
  FUZZ_CHECK(!comment.has_pending_line());
}

// A reset notice quotes the cursor a client sent, whatever its bytes.
void CheckResetNotice(const EventId& head, const std::string& cursor) {
  EventPtr notice = MakeResetNotice(head.epoch, head.seq, "malformed_cursor", cursor,
                                    absl::UnixEpoch(), SseEncoder());
  FUZZ_CHECK(IsValidUtf8(notice->frame));
  ssebridge_it::SseParser p;
  p.Feed(notice->frame);
  FUZZ_CHECK(p.events().size() == 1);
  FUZZ_CHECK(p.events()[0].event == kResetEventType);
  FUZZ_CHECK(p.events()[0].id == head.ToString());
  FUZZ_CHECK(p.events()[0].data == notice->data);
  FUZZ_CHECK(!p.has_pending_line() && !p.has_pending_event());
}

EventId FuzzedId(FuzzedDataProvider& in) {
  EventId id;
  for (char c : in.ConsumeRandomLengthString(32)) {
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')) id.epoch += c;
  }
  if (id.epoch.empty()) id.epoch = "e";
  id.seq = in.ConsumeIntegral<uint64_t>();
  return id;
}

}  // namespace
}  // namespace ssebridge

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  using namespace ssebridge;
  FuzzedDataProvider in(bytes, size);
  PublishSpec spec;
  spec.channel = "fuzz";
  spec.type = in.ConsumeRandomLengthString(kMaxEventTypeLength + 8);
  const EventId id = FuzzedId(in);
  const size_t a = in.ConsumeIntegral<uint16_t>();
  const size_t b = in.ConsumeIntegral<uint16_t>();
  spec.data = in.ConsumeRemainingBytesAsString();

  CheckSilentFrames(id, spec.data);
  CheckResetNotice(id, spec.data);

  PublishLimits limits;
  if (!ValidatePublishSpec(&spec, limits).ok()) return 0;
  CheckEventFrame(spec, id, a, b);
  return 0;
}
