// SubscriberAuth: who is reading a stream, and which channels they may read.
//
// A browser proves who it is with (first one present wins) a one-time ticket
// (?ticket=), an `Authorization: Bearer` JWT, the JWT in the auth cookie, or
// — only when enabled — a JWT in ?access_token=. Without any, the reader is
// anonymous: it may read the public channels and never gets targeted events.
//
// With no JWT key configured the bridge runs open (dev mode): every channel
// is public, tokens are ignored (nothing could verify them), and tickets
// still give a stream its user. The cookie is ambient — the browser sends it
// whether or not the page meant to — so a cookie that does not verify leaves
// the reader anonymous instead of failing the request; an explicit header or
// query token that does not verify is a 401. Error messages help whoever
// debugs a 401 and never contain the token.
//
// Borrows the verifier and the ticket store; both must outlive it.
#ifndef SSEBRIDGE_AUTH_SUBSCRIBER_AUTH_H_
#define SSEBRIDGE_AUTH_SUBSCRIBER_AUTH_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "bridge/auth/jwt_verifier.h"
#include "bridge/auth/ticket_store.h"
#include "bridge/core/channel_pattern.h"

namespace ssebridge {

// What a request carried; empty fields were absent.
struct SubscriberCredentials {
  std::string authorization;  // the whole Authorization header
  std::string cookie_header;  // the whole Cookie header
  std::string ticket;         // ?ticket=
  std::string access_token;   // ?access_token=
  // Check the ticket without spending it (HEAD: no stream follows).
  bool keep_ticket = false;
};

struct SubscriberIdentity {
  std::string user_id;  // empty: anonymous
  ChannelPatterns grants;
  bool all_channels = false;  // dev mode
  // When the credential stops being valid; the stream ends then.
  absl::Time expires_at = absl::InfiniteFuture();
  // How the identity was proven ("ticket", "bearer", "cookie", "query",
  // "anonymous"), for logs and metrics.
  absl::string_view method = "anonymous";
  // Tickets minted by a channel-limited publisher: that publisher, and the
  // patterns the identity is confined to (no channel outside them, public
  // ones included). Its connections are counted per (minter, user).
  std::string minted_by;
  std::optional<ChannelPatterns> confined_to;
  // Why an ambient auth cookie was not used (anonymous identities only):
  // a stale cookie must not lock a page out of public channels, but a 401
  // for a private one should say what was wrong with it.
  std::string ignored_cookie;
};

class SubscriberAuth {
 public:
  struct Options {
    ChannelPatterns public_channels;
    std::string cookie_name = "ssebridge_token";
    bool allow_query_token = false;
  };
  // `verifier` may hold no keys (dev mode); `tickets` is always used.
  SubscriberAuth(Options options, const JwtVerifier* verifier, TicketStore* tickets);

  bool open() const { return !verifier_->has_keys(); }
  const std::string& cookie_name() const { return options_.cookie_name; }

  // UNAUTHENTICATED when a credential was presented and is not valid.
  absl::StatusOr<SubscriberIdentity> Authenticate(const SubscriberCredentials& credentials,
                                                  absl::Time now) const;

  // UNAUTHENTICATED when an anonymous reader asks for a private channel,
  // PERMISSION_DENIED when an authenticated one asks for a channel it was
  // not granted, or a confined one for a channel outside its minter's
  // patterns; either names the channel.
  absl::Status Authorize(const SubscriberIdentity& identity,
                         const std::vector<std::string>& channels) const;

 private:
  absl::StatusOr<SubscriberIdentity> FromJwt(absl::string_view token, absl::string_view method,
                                             absl::Time now) const;

  Options options_;
  const JwtVerifier* verifier_;
  TicketStore* tickets_;
};

// The value of cookie `name` in a Cookie header, or "" (RFC 6265 syntax:
// "a=1; b=2", optional double quotes around the value).
std::string CookieValue(absl::string_view cookie_header, absl::string_view name);

// The token of an "Authorization: Bearer <token>" header, or "" when the
// header is absent or of another scheme.
std::string BearerToken(absl::string_view authorization);

}  // namespace ssebridge

#endif  // SSEBRIDGE_AUTH_SUBSCRIBER_AUTH_H_
