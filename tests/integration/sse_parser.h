// sse_parser: an incremental text/event-stream parser following the WHATWG
// "interpret an event stream" algorithm (lines end in CRLF, LF or CR; a
// leading BOM is dropped; ':' lines are comments; one space after the colon
// is stripped; data lines join with LF; a blank line dispatches).
#ifndef SSEBRIDGE_TESTS_INTEGRATION_SSE_PARSER_H_
#define SSEBRIDGE_TESTS_INTEGRATION_SSE_PARSER_H_

#include <cstdint>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

namespace ssebridge_it {

struct SseEvent {
  // The last event ID buffer when the event was dispatched (as
  // EventSource.lastEventId would report it).
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

class SseParser {
 public:
  void Feed(absl::string_view bytes);

  const std::vector<SseEvent>& events() const { return events_; }
  // Comment texts (after the ':'), in arrival order.
  const std::vector<std::string>& comments() const { return comments_; }
  // Valid retry: values (all ASCII digits), in arrival order.
  const std::vector<int64_t>& retries() const { return retries_; }
  // Lines that were ignored (unknown fields, bad retry values).
  const std::vector<std::string>& ignored_lines() const { return ignored_; }
  const std::string& last_event_id() const { return last_event_id_; }
  // Bytes of an unterminated line or an undispatched block are pending.
  bool has_pending() const { return !line_.empty() || block_started_; }

 private:
  void ProcessLine(const std::string& line);
  void Dispatch();

  bool bom_checked_ = false;
  std::string bom_prefix_;  // first bytes until the BOM question is decided
  bool pending_cr_ = false;
  std::string line_;

  std::string data_;
  std::string event_type_;
  std::string last_event_id_;
  bool block_started_ = false;
  bool block_had_id_ = false;
  bool block_had_event_ = false;
  int block_data_lines_ = 0;

  std::vector<SseEvent> events_;
  std::vector<std::string> comments_;
  std::vector<int64_t> retries_;
  std::vector<std::string> ignored_;
};

}  // namespace ssebridge_it

#endif  // SSEBRIDGE_TESTS_INTEGRATION_SSE_PARSER_H_
