#include "bridge/auth/subscriber_auth.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace ssebridge {

std::string CookieValue(absl::string_view cookie_header, absl::string_view name) {
  for (absl::string_view pair : absl::StrSplit(cookie_header, ';')) {
    pair = absl::StripAsciiWhitespace(pair);
    size_t eq = pair.find('=');
    if (eq == absl::string_view::npos) continue;
    if (absl::StripAsciiWhitespace(pair.substr(0, eq)) != name) continue;
    absl::string_view value = absl::StripAsciiWhitespace(pair.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    return std::string(value);
  }
  return "";
}

std::string BearerToken(absl::string_view authorization) {
  authorization = absl::StripAsciiWhitespace(authorization);
  constexpr absl::string_view kScheme = "bearer ";
  if (authorization.size() <= kScheme.size() ||
      !absl::EqualsIgnoreCase(authorization.substr(0, kScheme.size()), kScheme)) {
    return "";
  }
  return std::string(absl::StripAsciiWhitespace(authorization.substr(kScheme.size())));
}

SubscriberAuth::SubscriberAuth(Options options, const JwtVerifier* verifier, TicketStore* tickets)
    : options_(std::move(options)), verifier_(verifier), tickets_(tickets) {}

absl::StatusOr<SubscriberIdentity> SubscriberAuth::FromJwt(absl::string_view token,
                                                           absl::string_view method,
                                                           absl::Time now) const {
  absl::StatusOr<JwtClaims> claims = verifier_->Verify(token, now);
  if (!claims.ok()) {
    return absl::UnauthenticatedError(absl::StrCat(method, ": ", claims.status().message()));
  }
  absl::StatusOr<ChannelPatterns> grants = ChannelPatterns::FromList(claims->channels);
  if (!grants.ok()) {
    return absl::UnauthenticatedError(
        absl::StrCat(method, ": claim 'channels': ", grants.status().message()));
  }
  SubscriberIdentity id;
  id.user_id = std::move(claims->subject);
  id.grants = std::move(*grants);
  // The verifier accepts a token until exp + leeway; ending the stream any
  // earlier would have the page reconnect with the same token into an
  // instant auth_expired until the leeway ran out.
  id.expires_at = claims->expires_at == absl::InfiniteFuture()
                      ? absl::InfiniteFuture()
                      : claims->expires_at + verifier_->options().leeway;
  id.method = method;
  return id;
}

absl::StatusOr<SubscriberIdentity> SubscriberAuth::Authenticate(
    const SubscriberCredentials& credentials, absl::Time now) const {
  if (!credentials.ticket.empty()) {
    absl::StatusOr<TicketGrant> grant = credentials.keep_ticket
                                            ? tickets_->Peek(credentials.ticket, now)
                                            : tickets_->Redeem(credentials.ticket, now);
    if (!grant.ok()) {
      // A store that could not answer is not a bad ticket: the door says
      // 503 (retry), never 401 (get a new ticket).
      return absl::Status(grant.status().code(),
                          absl::StrCat("ticket: ", grant.status().message()));
    }
    // The grant was parsed and bounded when it was issued.
    SubscriberIdentity id;
    id.user_id = std::move(grant->user_id);
    id.grants = std::move(grant->channels);
    if (grant->confined_to.has_value()) {
      id.minted_by = std::move(grant->minted_by);
      id.confined_to = std::move(grant->confined_to);
    }
    id.method = "ticket";
    return id;
  }
  SubscriberIdentity anonymous;
  anonymous.all_channels = open();
  if (open()) return anonymous;  // dev mode: no key could verify a token
  if (!credentials.authorization.empty()) {
    std::string token = BearerToken(credentials.authorization);
    if (token.empty()) {
      return absl::UnauthenticatedError("authorization: expected 'Authorization: Bearer <JWT>'");
    }
    return FromJwt(token, "bearer", now);
  }
  if (!options_.cookie_name.empty() && !credentials.cookie_header.empty()) {
    std::string token = CookieValue(credentials.cookie_header, options_.cookie_name);
    if (!token.empty()) {
      absl::StatusOr<SubscriberIdentity> id = FromJwt(token, "cookie", now);
      if (id.ok()) return id;
      anonymous.ignored_cookie = std::string(id.status().message());
    }
  }
  if (!credentials.access_token.empty()) {
    if (!options_.allow_query_token) {
      return absl::UnauthenticatedError(
          "access_token: tokens in the URL are refused (they end up in proxy "
          "logs); use a ticket, the cookie or a Bearer header, or enable "
          "--allow_query_token");
    }
    return FromJwt(credentials.access_token, "query", now);
  }
  return anonymous;
}

absl::Status SubscriberAuth::Authorize(const SubscriberIdentity& identity,
                                       const std::vector<std::string>& channels) const {
  for (const std::string& channel : channels) {
    if (identity.confined_to.has_value() && !identity.confined_to->Matches(channel)) {
      return absl::PermissionDeniedError(
          absl::StrCat("channel '", channel, "' is outside the channels of publisher '",
                       identity.minted_by, "', which issued this ticket"));
    }
    if (identity.all_channels) continue;
    if (options_.public_channels.Matches(channel)) continue;
    if (identity.grants.Matches(channel)) continue;
    if (open()) continue;  // dev mode: every channel is public
    if (identity.user_id.empty()) {
      return absl::UnauthenticatedError(absl::StrCat(
          "channel '", channel,
          "' is private: send a ticket, a Bearer token "
          "or the auth cookie",
          identity.ignored_cookie.empty() ? ""
                                          : absl::StrCat(" (the auth cookie was not accepted: ",
                                                         identity.ignored_cookie, ")")));
    }
    return absl::PermissionDeniedError(
        absl::StrCat("channel '", channel, "' is not granted to this user"));
  }
  return absl::OkStatus();
}

}  // namespace ssebridge
