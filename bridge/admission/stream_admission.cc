#include "bridge/admission/stream_admission.h"

#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "bridge/core/event_id.h"
#include "bridge/core/names.h"

namespace ssebridge {
namespace {

// The password of an "Authorization: Basic base64(user:password)" header.
std::string BasicPassword(absl::string_view authorization) {
  if (authorization.size() < 6 || !absl::EqualsIgnoreCase(authorization.substr(0, 6), "basic ")) {
    return "";
  }
  std::string decoded;
  if (!absl::Base64Unescape(absl::StripAsciiWhitespace(authorization.substr(6)), &decoded)) {
    return "";
  }
  const size_t colon = decoded.find(':');
  return colon == std::string::npos ? "" : decoded.substr(colon + 1);
}

}  // namespace

absl::StatusOr<std::vector<std::string>> StreamChannels(const std::vector<std::string>& requested,
                                                        absl::string_view field, size_t max,
                                                        bool index_items) {
  if (requested.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": at least one channel is required"));
  }
  if (requested.size() > max) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": ", requested.size(),
                                                   " channels requested; the limit is ", max,
                                                   " (--max_channels_per_connection)"));
  }
  std::vector<std::string> out;
  absl::flat_hash_set<absl::string_view> seen;
  for (size_t i = 0; i < requested.size(); ++i) {
    const std::string& name = requested[i];
    absl::Status s = ValidateChannelName(
        name, index_items ? absl::StrCat(field, "[", i, "]") : std::string(field));
    if (!s.ok()) return s;
    if (seen.insert(name).second) out.push_back(name);
  }
  return out;
}

StreamAdmission::StreamAdmission(const Options& options, Wiring wiring)
    : options_(options), wiring_(std::move(wiring)) {}

absl::Status StreamAdmission::Count(absl::Status refusal) {
  Refusal kind = kRefusalKinds;
  switch (refusal.code()) {
    case absl::StatusCode::kUnauthenticated:
      kind = kUnauthenticated;
      break;
    case absl::StatusCode::kPermissionDenied:
      kind = kForbidden;
      break;
    case absl::StatusCode::kResourceExhausted:
      kind = kLimited;
      break;
    case absl::StatusCode::kUnavailable:
      kind = kUnavailable;
      break;
    default:
      break;  // bad input is counted by no one
  }
  if (kind != kRefusalKinds) refused_[kind].fetch_add(1, std::memory_order_relaxed);
  return refusal;
}

absl::Status StreamAdmission::CheckOperator(absl::string_view authorization) const {
  if (wiring_.admin_keys == nullptr || wiring_.admin_keys->empty()) {
    if (wiring_.dev_mode) return absl::OkStatus();
    return absl::PermissionDeniedError(
        "admin: authentication is on and no --admin_keys_file is configured, "
        "so the status page is closed");
  }
  std::string key = BearerToken(authorization);
  if (key.empty()) key = BasicPassword(authorization);
  if (key.empty()) {
    return absl::UnauthenticatedError(
        "authorization: the status page needs an admin key (Bearer, or Basic "
        "with the key as password)");
  }
  if (!wiring_.admin_keys->Authenticate(key).ok()) {
    return absl::UnauthenticatedError("authorization: unknown admin key");
  }
  return absl::OkStatus();
}

absl::StatusOr<StreamGrant> StreamAdmission::Identify(const StreamRequest& request,
                                                      std::vector<std::string> channels,
                                                      absl::Time now) const {
  StreamGrant grant;
  switch (request.reader) {
    case StreamReader::kBrowser: {
      absl::StatusOr<SubscriberIdentity> who =
          wiring_.subscribers->Authenticate(request.browser, now);
      if (who.ok() && !who->user_id.empty()) {
        absl::Status valid = ValidateUserId(who->user_id, "sub");
        if (!valid.ok()) return absl::UnauthenticatedError(valid.message());
      }
      if (!who.ok()) {
        absl::Status refused = who.status();
        if (absl::IsUnauthenticated(refused)) {
          refused.SetPayload(kCredentialRejected, absl::Cord());
        }
        return refused;
      }
      absl::Status allowed = wiring_.subscribers->Authorize(*who, channels);
      if (absl::IsUnauthenticated(allowed) && !who->ignored_cookie.empty()) {
        allowed.SetPayload(kCredentialRejected, absl::Cord());
      }
      if (!allowed.ok()) return allowed;
      grant.subscription.user_id = who->user_id;
      if (who->confined_to.has_value()) grant.minter = who->minted_by;
      grant.expires_at = who->expires_at;
      grant.method = who->method;
      break;
    }
    case StreamReader::kBackend: {
      // Server-side readers are backends: once auth is on they present a
      // publisher credential, and read what it may publish to.
      absl::StatusOr<PublisherIdentity> who =
          wiring_.publishers->Authenticate(request.authorization, now);
      if (!who.ok()) return who.status();
      for (const std::string& channel : channels) {
        absl::Status allowed = PublisherAuth::Authorize(*who, channel);
        if (!allowed.ok()) return allowed;
      }
      grant.expires_at = who->expires_at;
      grant.method = "publisher";
      grant.principal = who->name;
      break;
    }
    case StreamReader::kOperator: {
      absl::Status allowed = CheckOperator(request.authorization);
      if (!allowed.ok()) return allowed;
      grant.method = "admin";
      break;
    }
  }
  grant.subscription.channels = std::move(channels);
  return grant;
}

absl::StatusOr<std::shared_ptr<void>> StreamAdmission::Take(absl::string_view minter,
                                                            absl::string_view user,
                                                            absl::string_view address) {
  // The --max_connections slot is the lease itself (ConnectionLimits counts
  // leases under its lock): one allocation per stream, not two.
  absl::StatusOr<std::shared_ptr<ConnectionLimits::Lease>> lease =
      wiring_.limits->Acquire(minter, user, address, options_.max_streams);
  if (!lease.ok()) return lease.status();
  return std::shared_ptr<void>(std::move(*lease));
}

absl::StatusOr<StreamGrant> StreamAdmission::Admit(const StreamRequest& request, absl::Time now) {
  if (draining_.load()) {
    return Count(
        absl::UnavailableError("the bridge is shutting down; reconnect to another replica"));
  }
  std::vector<std::string> channels = request.channels;
  if (request.reader != StreamReader::kOperator) {
    absl::StatusOr<std::vector<std::string>> valid =
        StreamChannels(request.channels, request.channels_field, options_.max_channels,
                       request.index_channel_items);
    if (!valid.ok()) return valid.status();
    channels = std::move(*valid);
  }
  if (!request.cursor.empty() && !request.cursor_field.empty()) {
    absl::StatusOr<EventId> id = ParseEventId(request.cursor, request.cursor_field);
    if (!id.ok()) return id.status();
  }
  absl::StatusOr<StreamGrant> grant = Identify(request, std::move(channels), now);
  if (!grant.ok()) return Count(grant.status());
  if (request.reader != StreamReader::kOperator && wiring_.ready && !wiring_.ready()) {
    // An accepted stream could only be closed again at once.
    return Count(
        absl::UnavailableError("the broker is unavailable (Redis unreachable); retry later"));
  }
  if (request.reader != StreamReader::kBackend) {
    absl::StatusOr<std::shared_ptr<void>> charge =
        Take(grant->minter, grant->subscription.user_id, request.client_address);
    if (!charge.ok()) return Count(charge.status());
    grant->charge = std::move(*charge);
  }
  grant->subscription.queue_bytes = options_.queue_bytes;
  grant->subscription.resuming = !request.cursor.empty();
  grant->cursor = request.cursor;
  return grant;
}

}  // namespace ssebridge
