#include "bridge/http/events_request.h"

#include "absl/strings/match.h"
#include "bridge/admission/stream_admission.h"
#include "bridge/core/event_id.h"

namespace ssebridge {
namespace {

// The first value of `name`, as httplib's get_*_value would pick it.
const std::string* First(const RequestFields& fields, absl::string_view name, bool ignore_case) {
  for (const auto& [k, v] : fields) {
    if (ignore_case ? absl::EqualsIgnoreCase(k, name) : k == name) return &v;
  }
  return nullptr;
}

std::string FirstOrEmpty(const RequestFields& fields, absl::string_view name, bool ignore_case) {
  const std::string* v = First(fields, name, ignore_case);
  return v == nullptr ? std::string() : *v;
}

}  // namespace

bool IsStreamKey(absl::string_view key) {
  if (key.empty() || key.size() > kMaxStreamKeyLength) return false;
  for (char ch : key) {
    const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                    (ch >= '0' && ch <= '9') || ch == '_' || ch == '-';
    if (!ok) return false;
  }
  return true;
}

absl::StatusOr<EventsRequest> ParseEventsRequest(const EventsRequestInput& input,
                                                 size_t max_channels) {
  static const RequestFields kNone;
  const RequestFields& params = input.params ? *input.params : kNone;
  const RequestFields& headers = input.headers ? *input.headers : kNone;

  std::vector<std::string> requested;
  for (const auto& [k, name] : params) {
    if (k == "channel") requested.push_back(name);
  }
  EventsRequest out;
  absl::StatusOr<std::vector<std::string>> channels =
      StreamChannels(requested, "channel", max_channels, /*index_items=*/false);
  if (!channels.ok()) return channels.status();
  out.channels = std::move(*channels);

  if (const std::string* header = First(headers, "Last-Event-ID", true)) {
    out.cursor = *header;
    out.cursor_from_header = true;
  } else if (const std::string* param = First(params, "lastEventId", false)) {
    absl::StatusOr<EventId> id = ParseEventId(*param, "lastEventId");
    if (!id.ok()) return id.status();
    out.cursor = *param;
  }
  if (const std::string* key = First(params, "stream", false)) {
    if (!IsStreamKey(*key)) {
      return absl::InvalidArgumentError("stream: 1 to 64 characters of A-Z, a-z, 0-9, '_' and '-'");
    }
    out.stream_key = *key;
  }

  SubscriberCredentials& c = out.credentials;
  c.authorization = FirstOrEmpty(headers, "Authorization", true);
  c.cookie_header = FirstOrEmpty(headers, "Cookie", true);
  c.ticket = FirstOrEmpty(params, "ticket", false);
  c.access_token = FirstOrEmpty(params, "access_token", false);
  c.keep_ticket = input.method == "HEAD";
  out.credential_sent = !c.authorization.empty() || !c.ticket.empty() || !c.access_token.empty();
  return out;
}

}  // namespace ssebridge
