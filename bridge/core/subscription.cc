#include "bridge/core/subscription.h"

namespace ssebridge {

// cppcheck-suppress passedByValue ; a sink: its vectors are moved from
Subscription::Subscription(Options options, const PolicyTable& policies, SubscriptionSink* sink)
    : queue(options.queue_bytes),
      channels_(std::move(options.channels)),
      user_id_(std::move(options.user_id)),
      resuming_(options.resuming),
      sink_(sink) {
  policies_.reserve(channels_.size());
  for (const auto& c : channels_) policies_.push_back(policies.For(c));
  slots_.assign(channels_.size(), 0);
}

int Subscription::ChannelIndex(const std::string& channel) const {
  for (size_t i = 0; i < channels_.size(); ++i) {
    if (channels_[i] == channel) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace ssebridge
