// The bookkeeping that makes the Redis broker's Attach exact, kept apart
// from any I/O so it can be tested alone.
//
// PendingAttach: a subscription whose catch-up is being read from Redis,
// i.e. the Redis part of HubFeed's hand-over (hub_feed.h). The replica
// SUBSCRIBEs first (the feed keeps live events for it from then on); the
// catch-up is a snapshot up to some head seq; once a marker sent after the
// snapshot comes back on the pub/sub connection, every live event up to
// that head has been dispatched, and the feed can finish the attach.
//
// ChannelPositions: the last seq handed to the hub per channel. A live event
// at or below it was already delivered (by a recovery read) and is dropped;
// after a reconnect, recovery reads each channel from its position.
#ifndef SSEBRIDGE_BROKER_REDIS_REDIS_ATTACH_STATE_H_
#define SSEBRIDGE_BROKER_REDIS_REDIS_ATTACH_STATE_H_

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "bridge/broker/hub_feed.h"
#include "bridge/core/event.h"
#include "bridge/core/subscription.h"

namespace ssebridge {

class PendingAttach {
 public:
  enum class Stage { kSubscribing, kSubscribed, kFinishing, kDone, kFailed };

  PendingAttach(uint64_t token, std::shared_ptr<HubFeed::Pending> hand_over)
      : token_(token), hand_over_(std::move(hand_over)) {}

  uint64_t token() const { return token_; }
  const std::shared_ptr<HubFeed::Pending>& hand_over() const { return hand_over_; }
  const std::shared_ptr<Subscription>& sub() const { return hand_over_->sub(); }

  // The snapshot read up to `head`.
  void SetCatchUp(std::vector<EventPtr> catch_up, uint64_t head) {
    catch_up_ = std::move(catch_up);
    head_ = head;
  }
  uint64_t head() const { return head_; }
  std::vector<EventPtr> TakeCatchUp() { return std::move(catch_up_); }

  Stage stage = Stage::kSubscribing;
  std::condition_variable cv;  // waited on with the owner's lock

 private:
  const uint64_t token_;
  const std::shared_ptr<HubFeed::Pending> hand_over_;
  std::vector<EventPtr> catch_up_;
  uint64_t head_ = 0;
};

class ChannelPositions {
 public:
  // Records `seq` for `channel` unless it is not after its position (then
  // false: already delivered).
  bool Admit(const std::string& channel, uint64_t seq);
  // Moves the position forward to `seq` (never back).
  void Raise(const std::string& channel, uint64_t seq);
  // Whether the channel has a position, and which.
  bool Get(const std::string& channel, uint64_t* seq) const;
  void Forget(const std::string& channel) { last_.erase(channel); }
  void Clear() { last_.clear(); }

 private:
  absl::flat_hash_map<std::string, uint64_t> last_;
};

}  // namespace ssebridge

#endif  // SSEBRIDGE_BROKER_REDIS_REDIS_ATTACH_STATE_H_
