// WhatwgSseParser: a reference reader of text/event-stream, written from the
// WHATWG HTML standard's "Server-sent events: interpreting an event stream"
// (html.spec.whatwg.org/multipage/server-sent-events.html) and independent
// of bridge/sse, so the fuzzers can check what a browser would see in the
// bridge's frames.
//
// What it follows: one leading U+FEFF (BOM) is dropped; lines end in CRLF,
// LF or CR (a CR and the LF after it may arrive in different Feed calls); an
// empty line dispatches; a line starting with ':' is a comment; "name:value"
// loses one space after the colon; a line without a colon is a field with
// an empty value; `data` appends value + LF; `event` sets the type; `id`
// sets the last event ID unless the value holds a NUL; `retry` is taken only
// when it is all ASCII digits; other names are ignored. Dispatch sets the
// last event ID even when the data is empty, drops one trailing LF and
// dispatches nothing for empty data. A final line without its terminator is
// never processed (the spec discards it at end of stream).
//
// It does not decode UTF-8 (a browser replaces bad sequences with U+FFFD):
// bytes pass through as they are, and callers check UTF-8 validity apart.
// Not thread-safe; one instance reads one stream.
#ifndef SSEBRIDGE_TESTS_FUZZ_WHATWG_SSE_PARSER_H_
#define SSEBRIDGE_TESTS_FUZZ_WHATWG_SSE_PARSER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace ssebridge {

struct SseReadEvent {
  std::string type;           // "message" when no event field was given
  std::string data;
  std::string last_event_id;  // the source's last event ID at dispatch
};

struct SseReadField {
  std::string name;
  std::string value;
};

class WhatwgSseParser {
 public:
  void Feed(absl::string_view bytes);

  const std::vector<SseReadEvent>& events() const { return events_; }
  // Every field line processed, known names or not, in order.
  const std::vector<SseReadField>& fields() const { return fields_; }
  size_t comments() const { return comments_; }
  // Blank lines that dispatched nothing (empty data buffer).
  size_t empty_dispatches() const { return empty_dispatches_; }
  const std::string& last_event_id() const { return last_event_id_; }
  std::optional<uint64_t> retry_millis() const { return retry_; }
  // Bytes of a line not yet terminated, or data/type buffered for an event
  // not yet dispatched: a complete stream of frames leaves neither.
  bool has_pending_line() const { return !line_.empty(); }
  bool has_pending_event() const { return !data_.empty() || !type_.empty(); }

 private:
  void Line(absl::string_view line);
  void Field(absl::string_view name, absl::string_view value);
  void Dispatch();

  std::string bom_probe_;  // the first bytes, until the BOM is ruled out
  bool bom_done_ = false;
  bool after_cr_ = false;  // the last byte was a CR ending a line
  std::string line_;
  std::string data_;
  std::string type_;
  std::string id_buffer_;
  std::string last_event_id_;
  std::optional<uint64_t> retry_;
  std::vector<SseReadEvent> events_;
  std::vector<SseReadField> fields_;
  size_t comments_ = 0;
  size_t empty_dispatches_ = 0;
};

}  // namespace ssebridge

#endif  // SSEBRIDGE_TESTS_FUZZ_WHATWG_SSE_PARSER_H_
