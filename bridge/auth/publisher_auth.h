// PublisherAuth: which backend is publishing, what it may publish to, and
// how fast. One instance serves every door (gRPC metadata, HTTP header).
//
// A backend presents `authorization: Bearer <credential>`: a static key
// from --publisher_keys_file, or a JWT (same keys as subscribers) with a
// `publish` claim of channel patterns. Authentication is required as soon as
// any key is configured; with none the bridge is open (dev mode) unless
// --allow_anonymous_publish says otherwise explicitly.
//
// Borrows keys, verifier, limiter and channel shares; they must outlive it.
#ifndef SSEBRIDGE_AUTH_PUBLISHER_AUTH_H_
#define SSEBRIDGE_AUTH_PUBLISHER_AUTH_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "bridge/auth/channel_shares.h"
#include "bridge/auth/jwt_verifier.h"
#include "bridge/auth/publisher_keys.h"
#include "bridge/auth/rate_limiter.h"

namespace ssebridge {

class PublisherAuth {
 public:
  struct Options {
    // Publishes without a credential are accepted (as "anonymous", every
    // channel) even though keys are configured.
    bool allow_anonymous = false;
  };
  // `channels` may be null: no per-publisher share of channels.
  PublisherAuth(Options options, const PublisherKeys* keys, const JwtVerifier* verifier,
                RateLimiter* limiter, ChannelShares* channels = nullptr);

  // No key of any kind configured: anyone may publish anywhere.
  bool open() const;

  // `authorization` is the whole header / metadata value, "" when absent.
  // UNAUTHENTICATED with a reason that never echoes the credential.
  absl::StatusOr<PublisherIdentity> Authenticate(absl::string_view authorization,
                                                 absl::Time now) const;
  // PERMISSION_DENIED naming the channel.
  static absl::Status Authorize(const PublisherIdentity& who, absl::string_view channel);
  // UNAUTHENTICATED once `who`'s JWT has expired (a stream outlives the
  // check at its start); RESOURCE_EXHAUSTED when over --publish_rate_limit.
  absl::Status Admit(const PublisherIdentity& who, absl::Time now) const;
  // RESOURCE_EXHAUSTED naming --max_channels_per_key when publishing to
  // `channel` would take `who` over its share of channels.
  absl::Status ChargeChannel(const PublisherIdentity& who, absl::string_view channel,
                             absl::Time now) const;

 private:
  Options options_;
  const PublisherKeys* keys_;
  const JwtVerifier* verifier_;
  RateLimiter* limiter_;
  ChannelShares* channels_;
};

}  // namespace ssebridge

#endif  // SSEBRIDGE_AUTH_PUBLISHER_AUTH_H_
