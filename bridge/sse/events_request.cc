#include "bridge/sse/events_request.h"

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "bridge/core/event_id.h"
#include "bridge/core/names.h"

namespace ssebridge {
namespace {

// The first value of `name`, as httplib's get_*_value would pick it.
const std::string* First(const RequestFields& fields, absl::string_view name,
                         bool ignore_case) {
  for (const auto& [k, v] : fields) {
    if (ignore_case ? absl::EqualsIgnoreCase(k, name) : k == name) return &v;
  }
  return nullptr;
}

std::string FirstOrEmpty(const RequestFields& fields, absl::string_view name,
                         bool ignore_case) {
  const std::string* v = First(fields, name, ignore_case);
  return v == nullptr ? std::string() : *v;
}

}  // namespace

absl::StatusOr<EventsRequest> ParseEventsRequest(const EventsRequestInput& input,
                                                 size_t max_channels) {
  static const RequestFields kNone;
  const RequestFields& params = input.params ? *input.params : kNone;
  const RequestFields& headers = input.headers ? *input.headers : kNone;

  size_t count = 0;
  for (const auto& kv : params) count += kv.first == "channel";
  if (count == 0) {
    return absl::InvalidArgumentError(
        "channel: at least one ?channel= query parameter is required");
  }
  if (count > max_channels) {
    return absl::InvalidArgumentError(
        absl::StrCat("channel: ", count, " channels requested; the limit is ",
                     max_channels, " (--max_channels_per_connection)"));
  }
  EventsRequest out;
  absl::flat_hash_set<absl::string_view> seen;
  for (const auto& [k, name] : params) {
    if (k != "channel") continue;
    absl::Status s = ValidateChannelName(name, "channel");
    if (!s.ok()) return s;
    if (seen.insert(name).second) out.channels.push_back(name);
  }

  if (const std::string* header = First(headers, "Last-Event-ID", true)) {
    out.cursor = *header;
  } else if (const std::string* param = First(params, "lastEventId", false)) {
    absl::StatusOr<EventId> id = ParseEventId(*param, "lastEventId");
    if (!id.ok()) return id.status();
    out.cursor = *param;
  }

  SubscriberCredentials& c = out.credentials;
  c.authorization = FirstOrEmpty(headers, "Authorization", true);
  c.cookie_header = FirstOrEmpty(headers, "Cookie", true);
  c.ticket = FirstOrEmpty(params, "ticket", false);
  c.access_token = FirstOrEmpty(params, "access_token", false);
  c.keep_ticket = input.method == "HEAD";
  out.credential_sent = !c.authorization.empty() || !c.ticket.empty() ||
                        !c.access_token.empty();
  return out;
}

}  // namespace ssebridge
