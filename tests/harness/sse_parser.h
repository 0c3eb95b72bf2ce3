// SseParser: the one reader of text/event-stream in the C++ tests
// (integration suites, fault and hostile tests, unit tests, the fuzzers; the
// Python and Node clients' tests read streams through their own clients,
// and the load generator only counts events, see its SseDataScanner). Written
// from the WHATWG HTML standard's "Server-sent events: interpreting an event
// stream" and independent of bridge/sse, so a test sees what a browser would
// see in the bridge's bytes, not what the encoder meant to write.
//
// What it follows: one leading U+FEFF (BOM) is dropped, even when split
// across Feed calls; lines end in CRLF, LF or CR (a CR and the LF after it
// may arrive in different calls); an empty line dispatches; a line starting
// with ':' is a comment; "name:value" loses one space after the colon; a
// line without a colon is a field with an empty value; `data` appends value
// + LF; `event` sets the type; `id` sets the last event ID buffer unless the
// value holds a NUL; `retry` is taken only when it is all ASCII digits (a
// browser's integer saturates, so does this one); other names are ignored.
// Dispatch sets the last event ID even when the data is empty, drops one
// trailing LF and dispatches nothing for empty data. A final line without
// its terminator is never processed (the spec discards it at end of stream).
//
// It does not decode UTF-8 (a browser replaces bad sequences with U+FFFD):
// bytes pass through as they are, and callers check UTF-8 validity apart.
// Not thread-safe; one instance reads one stream.
#ifndef SSEBRIDGE_TESTS_HARNESS_SSE_PARSER_H_
#define SSEBRIDGE_TESTS_HARNESS_SSE_PARSER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace ssebridge_it {

struct SseEvent {
  // The last event ID when the event was dispatched (as
  // EventSource.lastEventId reports it).
  std::string id;
  // The type: "message" when the block had no (or an empty) event: field.
  std::string event;
  std::string data;
  // Whether this event's own block had an id: / event: field.
  bool had_id_field = false;
  bool had_event_field = false;
  // How many data: lines the block had.
  int data_lines = 0;
};

struct SseField {
  std::string name;
  std::string value;
};

class SseParser {
 public:
  void Feed(absl::string_view bytes);

  const std::vector<SseEvent>& events() const { return events_; }
  // Every field line processed, known names or not, in order.
  const std::vector<SseField>& fields() const { return fields_; }
  // Comment texts (after the ':'), in arrival order.
  const std::vector<std::string>& comments() const { return comments_; }
  // Valid retry: values, in arrival order (saturated at INT64_MAX).
  const std::vector<int64_t>& retries() const { return retries_; }
  // The reconnection time a browser would use: the last valid retry:.
  std::optional<uint64_t> retry_millis() const { return retry_; }
  // Lines that changed nothing (unknown fields, bad retry values).
  const std::vector<std::string>& ignored_lines() const { return ignored_; }
  // Blank lines that dispatched nothing (empty data buffer).
  size_t empty_dispatches() const { return empty_dispatches_; }
  // The source's last event ID: set at dispatch, as a browser sets it.
  const std::string& last_event_id() const { return last_event_id_; }
  // Bytes of a line not yet terminated, or data/type buffered for an event
  // not yet dispatched: a complete stream of frames leaves neither.
  bool has_pending_line() const { return !line_.empty(); }
  bool has_pending_event() const { return !data_.empty() || !type_.empty(); }
  // Either of the above, or a block with only fields so far.
  bool has_pending() const { return has_pending_line() || block_started_; }

 private:
  void Line(absl::string_view line);
  void Field(absl::string_view name, absl::string_view value, absl::string_view line);
  void Dispatch();

  std::string bom_probe_;  // the first bytes, until the BOM is ruled out
  bool bom_done_ = false;
  bool after_cr_ = false;  // the last byte was a CR ending a line
  std::string line_;

  std::string data_;
  std::string type_;
  std::string id_buffer_;
  std::string last_event_id_;
  bool block_started_ = false;
  bool block_had_id_ = false;
  bool block_had_event_ = false;
  int block_data_lines_ = 0;

  std::optional<uint64_t> retry_;
  std::vector<SseEvent> events_;
  std::vector<SseField> fields_;
  std::vector<std::string> comments_;
  std::vector<int64_t> retries_;
  std::vector<std::string> ignored_;
  size_t empty_dispatches_ = 0;
};

}  // namespace ssebridge_it

#endif  // SSEBRIDGE_TESTS_HARNESS_SSE_PARSER_H_
