// StreamAdmission: the one decision every door makes before a stream opens
// (GET /v1/events, gRPC Subscriber.Subscribe, the status page's
// GET /ui/events): may this reader have a stream on these channels now, as
// whom, with which subscription options, and charged to what. A door only
// translates: its request into a StreamRequest, the grant into a stream,
// and a refusal's absl::Status into its own codes:
//
//   INVALID_ARGUMENT    bad channel list or cursor (names the field)  400
//   UNAUTHENTICATED     no, bad or expired credential                 401
//   PERMISSION_DENIED   channel not granted; status page closed       403
//   UNAVAILABLE         draining, broker not ready, --max_connections 503
//   RESOURCE_EXHAUSTED  --max_connections_per_user / _per_ip          429
// (gRPC uses the same codes.) Both UNAVAILABLE and RESOURCE_EXHAUSTED pass
// by themselves; the HTTP door says when to come back (Retry-After).
//
// The checks run cheapest-first and never charge before they all pass:
// draining, channel list, cursor, authentication, authorization, broker
// readiness, the stream cap, the per-user and per-address caps.
//
// Who reads as what:
//   browser   SubscriberAuth (ticket, JWT header/cookie/query); the stream's
//             user is the credential's; charged to --max_connections, its
//             user and its address.
//   backend   PublisherAuth (publisher key or JWT): reads what it may
//             publish to, as no user. Not charged to the SSE stream caps:
//             each Subscribe call holds one gRPC thread, so the gRPC door
//             charges it to --max_grpc_subscribe_streams(_per_key)
//             (StreamShares) after admission, since only that door holds
//             threads per stream.
//   operator  an admin key (Bearer, or HTTP Basic with the key as the
//             password, which a browser can send for an EventSource). In
//             dev mode (no key of any kind) anyone; with keys but no admin
//             key, no one. Reads the internal channels its door names;
//             charged to --max_connections and its address (admin keys
//             are not users).
//
// Thread-safe. Everything in Wiring must outlive the admission and every
// grant's charge.
#ifndef SSEBRIDGE_ADMISSION_STREAM_ADMISSION_H_
#define SSEBRIDGE_ADMISSION_STREAM_ADMISSION_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "bridge/auth/connection_limits.h"
#include "bridge/auth/publisher_auth.h"
#include "bridge/auth/publisher_keys.h"
#include "bridge/auth/subscriber_auth.h"
#include "bridge/core/subscription.h"

namespace ssebridge {

// The channel rule every door shares: at least one and at most `max`
// names, each valid (names.h, the item named "<field>[i]" for a list field
// and "<field>" for a repeated query parameter), repeats collapsed in
// first-seen order. INVALID_ARGUMENT naming `field` otherwise.
absl::StatusOr<std::vector<std::string>> StreamChannels(const std::vector<std::string>& requested,
                                                        absl::string_view field, size_t max,
                                                        bool index_items);

// Payload on an UNAUTHENTICATED refusal when a credential was presented and
// did not verify (an explicit one, or the ambient auth cookie): HTTP says
// error="invalid_token" then (RFC 6750), so a page knows to get a new one.
inline constexpr absl::string_view kCredentialRejected = "ssebridge.credential_rejected";

enum class StreamReader { kBrowser, kBackend, kOperator };

struct StreamRequest {
  StreamReader reader = StreamReader::kBrowser;
  // As the door received them (repeats allowed); for kOperator the internal
  // channels the door itself names, taken as they are.
  std::vector<std::string> channels;
  std::string channels_field = "channel";  // how errors name the list
  bool index_channel_items = false;        // "channels[2]" vs "channel"
  // Resume cursor; empty: none. Checked as an "<epoch>-<seq>" naming
  // `cursor_field`, unless `cursor_field` is empty: a browser's automatic
  // Last-Event-ID is not the page's doing, and the broker answers a bad one
  // with a reset event EventSource recovers from.
  std::string cursor;
  std::string cursor_field;
  std::string client_address;
  // kBrowser: what the request carried.
  SubscriberCredentials browser;
  // kBackend, kOperator: the Authorization header / metadata value.
  std::string authorization;
};

struct StreamGrant {
  // Channels (valid, distinct), the user, queue bound, resuming.
  Subscription::Options subscription;
  std::string cursor;
  // When the credential runs out (the stream ends then); how it was proven.
  absl::Time expires_at = absl::InfiniteFuture();
  absl::string_view method = "anonymous";
  // Browser: non-empty when a ticket from a key confined to channel
  // patterns proved the user; the stream is then counted per (this key,
  // user), so such a key cannot spend the real user's budget.
  std::string minter;
  // Backend: the publisher principal (key name), for per-key stream caps.
  std::string principal;
  // Holds the stream's slots (--max_connections, its user's, its address's)
  // until the last copy is dropped: give it to the stream (it is released
  // when the stream closes). Null for backends (not charged).
  std::shared_ptr<void> charge;
};

class StreamAdmission {
 public:
  struct Options {
    size_t max_channels = 64;    // --max_channels_per_connection
    size_t max_streams = 18000;  // --max_connections (browser + operator)
    size_t queue_bytes = 512 * 1024;
  };
  struct Wiring {
    const SubscriberAuth* subscribers = nullptr;
    const PublisherAuth* publishers = nullptr;
    const PublisherKeys* admin_keys = nullptr;
    ConnectionLimits* limits = nullptr;  // required: it counts every charged stream
    // No key of any kind configured: operator streams are open to anyone.
    bool dev_mode = false;
    // Broker readiness; unset: always ready.
    std::function<bool()> ready;
  };

  StreamAdmission(const Options& options, Wiring wiring);
  StreamAdmission(const StreamAdmission&) = delete;
  StreamAdmission& operator=(const StreamAdmission&) = delete;

  absl::StatusOr<StreamGrant> Admit(const StreamRequest& request, absl::Time now);

  // The operator check alone, for pages that are not streams (GET /ui).
  absl::Status CheckOperator(absl::string_view authorization) const;

  // From now on every stream is refused (UNAVAILABLE): the bridge drains.
  void BeginDrain() { draining_.store(true); }

  // Streams holding a --max_connections slot now.
  size_t streams() const { return wiring_.limits->streams(); }
  // Refusals by kind, over every door.
  uint64_t refused_unauthenticated() const { return refused_[kUnauthenticated].load(); }
  uint64_t refused_forbidden() const { return refused_[kForbidden].load(); }
  uint64_t refused_limited() const { return refused_[kLimited].load(); }
  uint64_t refused_unavailable() const { return refused_[kUnavailable].load(); }

 private:
  enum Refusal { kUnauthenticated, kForbidden, kLimited, kUnavailable, kRefusalKinds };
  absl::Status Count(absl::Status refusal);
  absl::StatusOr<StreamGrant> Identify(const StreamRequest& request,
                                       std::vector<std::string> channels, absl::Time now) const;
  absl::StatusOr<std::shared_ptr<void>> Take(absl::string_view minter, absl::string_view user,
                                             absl::string_view address);

  const Options options_;
  const Wiring wiring_;
  std::atomic<bool> draining_{false};
  std::atomic<uint64_t> refused_[kRefusalKinds] = {};
};

}  // namespace ssebridge

#endif  // SSEBRIDGE_ADMISSION_STREAM_ADMISSION_H_
