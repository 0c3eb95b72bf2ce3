#include "bridge/auth/publisher_auth.h"

#include "absl/strings/str_cat.h"
#include "bridge/auth/subscriber_auth.h"

namespace ssebridge {
namespace {

PublisherIdentity Everyone(std::string name) {
  PublisherIdentity who;
  who.name = std::move(name);
  who.all_channels = true;
  return who;
}

}  // namespace

PublisherAuth::PublisherAuth(Options options, const PublisherKeys* keys,
                             const JwtVerifier* verifier, RateLimiter* limiter,
                             ChannelShares* channels)
    : options_(options), keys_(keys), verifier_(verifier), limiter_(limiter), channels_(channels) {}

bool PublisherAuth::open() const { return keys_->empty() && !verifier_->has_keys(); }

absl::StatusOr<PublisherIdentity> PublisherAuth::Authenticate(absl::string_view authorization,
                                                              absl::Time now) const {
  if (authorization.empty()) {
    if (open() || options_.allow_anonymous) return Everyone("anonymous");
    return absl::UnauthenticatedError(
        "authorization: missing; send 'authorization: Bearer <publisher key "
        "or JWT>'");
  }
  std::string credential = BearerToken(authorization);
  if (credential.empty()) {
    return absl::UnauthenticatedError("authorization: expected 'Bearer <publisher key or JWT>'");
  }
  if (open()) return Everyone("anonymous");
  if (!keys_->empty()) {
    absl::StatusOr<PublisherIdentity> who = keys_->Authenticate(credential);
    if (who.ok()) return who;
  }
  // A JWT has two dots; a static key is opaque. Only then is the verifier's
  // message more useful than "unknown key".
  if (verifier_->has_keys() && std::count(credential.begin(), credential.end(), '.') == 2) {
    absl::StatusOr<JwtClaims> claims = verifier_->Verify(credential, now);
    if (!claims.ok()) {
      return absl::UnauthenticatedError(absl::StrCat("authorization: ", claims.status().message()));
    }
    if (!claims->has_publish) {
      return absl::PermissionDeniedError(
          "authorization: this JWT has no 'publish' claim; it may only subscribe");
    }
    absl::StatusOr<ChannelPatterns> patterns = ChannelPatterns::FromList(claims->publish);
    if (!patterns.ok()) {
      return absl::UnauthenticatedError(
          absl::StrCat("authorization: claim 'publish': ", patterns.status().message()));
    }
    PublisherIdentity who;
    who.name = absl::StrCat("jwt:", claims->subject);
    who.channels = std::move(*patterns);
    who.expires_at = claims->expires_at == absl::InfiniteFuture()
                         ? absl::InfiniteFuture()
                         : claims->expires_at + verifier_->options().leeway;
    return who;
  }
  return absl::UnauthenticatedError("authorization: unknown publisher key");
}

absl::Status PublisherAuth::Authorize(const PublisherIdentity& who, absl::string_view channel) {
  if (who.all_channels || who.channels.Matches(channel)) return absl::OkStatus();
  return absl::PermissionDeniedError(
      absl::StrCat("channel: '", channel, "' is not granted to publisher '", who.name, "'"));
}

absl::Status PublisherAuth::Admit(const PublisherIdentity& who, absl::Time now) const {
  if (now >= who.expires_at) {
    return absl::UnauthenticatedError(
        "authorization: the publisher's JWT expired during this stream; "
        "reopen it with a fresh token");
  }
  if (limiter_->Allow(who.name, now)) return absl::OkStatus();
  return absl::ResourceExhaustedError(absl::StrCat("rate: publisher '", who.name,
                                                   "' is over --publish_rate_limit; slow down "
                                                   "and retry"));
}

absl::Status PublisherAuth::ChargeChannel(const PublisherIdentity& who, absl::string_view channel,
                                          absl::Time now) const {
  if (channels_ == nullptr) return absl::OkStatus();
  return channels_->Charge(who.name, channel, now);
}

}  // namespace ssebridge
