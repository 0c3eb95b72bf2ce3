// ChannelShares: each publisher principal's share of --max_channels, so one
// key cannot fill the broker with channels and leave the others none.
//
// A principal holds a channel from its first publish there until `lifetime`
// (--history_ttl, how long the broker keeps a channel's history) after its
// last one; Charge refuses a principal that would hold more than
// `per_principal` channels at once. Several principals publishing to one
// channel are each charged for it: a share says what a key may cause the
// bridge to hold, whoever else also uses the channel.
//
// Memory: at most per_principal entries per principal seen; principals are
// publisher keys (configured) and JWT subjects (signed by the operator).
// A principal's expired entries are dropped when it reaches its share, at
// most once a second, so a key at its share costs one sweep per second, not
// one per publish. Thread-safe.
#ifndef SSEBRIDGE_AUTH_CHANNEL_SHARES_H_
#define SSEBRIDGE_AUTH_CHANNEL_SHARES_H_

#include <cstddef>
#include <mutex>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace ssebridge {

class ChannelShares {
 public:
  // per_principal 0: no share (Charge always succeeds and keeps nothing).
  ChannelShares(size_t per_principal, absl::Duration lifetime)
      : per_principal_(per_principal), lifetime_(lifetime) {}
  ChannelShares(const ChannelShares&) = delete;
  ChannelShares& operator=(const ChannelShares&) = delete;

  // Records that `principal` publishes to `channel` at `now`.
  // RESOURCE_EXHAUSTED naming --max_channels_per_key when that would be one
  // channel more than its share.
  absl::Status Charge(absl::string_view principal, absl::string_view channel, absl::Time now);

  size_t ChannelsOf(absl::string_view principal) const;

 private:
  struct Held {
    absl::flat_hash_map<std::string, absl::Time> last_publish;  // by channel
    absl::Time next_sweep = absl::InfinitePast();
  };

  const size_t per_principal_;
  const absl::Duration lifetime_;
  mutable std::mutex mu_;
  absl::flat_hash_map<std::string, Held> by_principal_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ssebridge

#endif  // SSEBRIDGE_AUTH_CHANNEL_SHARES_H_
