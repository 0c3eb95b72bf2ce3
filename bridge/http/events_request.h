// EventsRequest: what a `GET /v1/events` (or HEAD) request asks for, read
// from its already-decoded query parameters and headers: the channels, the
// resume cursor and the credentials. Pure: no I/O, no clock, no httplib, so
// the HTTP server and the fuzzer (tests/fuzz) share exactly this code.
//
// The rules it keeps:
//   - at least one and at most `max_channels` ?channel= parameters, each a
//     valid channel name (names.h); repeats collapse, first-seen order kept
//     (StreamChannels, the rule every door shares: stream_admission.h);
//   - the Last-Event-ID header (a browser reconnecting) wins over the
//     ?lastEventId= parameter (a page's first connect). The header is passed
//     on unchecked: a bad one is not the page's fault, and the broker answers
//     it with a reset event EventSource can recover from. The parameter is
//     the page's own doing and must be a valid "<epoch>-<seq>";
//   - credentials are copied as sent (first value of each); SubscriberAuth
//     decides what they are worth;
//   - ?stream= (first value), when sent, is a stream key (IsStreamKey).
// Every failure is INVALID_ARGUMENT naming the field; the server answers 400.
// StreamAdmission then decides whether the stream may open.
//
// Inputs are borrowed for the call only; the result owns its strings.
#ifndef SSEBRIDGE_HTTP_EVENTS_REQUEST_H_
#define SSEBRIDGE_HTTP_EVENTS_REQUEST_H_

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "bridge/auth/subscriber_auth.h"

namespace ssebridge {

// One name/value pair per query parameter or header line, in request order.
using RequestFields = std::vector<std::pair<std::string, std::string>>;

struct EventsRequestInput {
  absl::string_view method;                // "GET" or "HEAD"
  const RequestFields* params = nullptr;   // URL-decoded; names case-sensitive
  const RequestFields* headers = nullptr;  // names case-insensitive
};

struct EventsRequest {
  std::vector<std::string> channels;  // valid, deduplicated, in order
  // Resume cursor: the header's value as sent, or a valid lastEventId;
  // empty when neither was given.
  std::string cursor;
  // The cursor is the Last-Event-ID header's (passed on unchecked).
  bool cursor_from_header = false;
  SubscriberCredentials credentials;
  // An explicit credential (header, ticket, query token) was sent; the
  // ambient cookie does not count. Decides the WWW-Authenticate error.
  bool credential_sent = false;
  // `stream=`: the client's name for this stream (1-64 of [A-Za-z0-9_-]),
  // empty when not sent. A new stream of the same user with the same name
  // replaces the open one (a page changing its channels holds one stream).
  std::string stream_key;
};

inline constexpr size_t kMaxStreamKeyLength = 64;
// Whether `key` is a valid `stream=` value.
bool IsStreamKey(absl::string_view key);

absl::StatusOr<EventsRequest> ParseEventsRequest(const EventsRequestInput& input,
                                                 size_t max_channels);

}  // namespace ssebridge

#endif  // SSEBRIDGE_HTTP_EVENTS_REQUEST_H_
