#include "bridge/broker/redis/redis_attach_state.h"

namespace ssebridge {

bool ChannelPositions::Admit(const std::string& channel, uint64_t seq) {
  auto [it, inserted] = last_.try_emplace(channel, seq);
  if (inserted) return true;
  if (seq <= it->second) return false;
  it->second = seq;
  return true;
}

void ChannelPositions::Raise(const std::string& channel, uint64_t seq) {
  auto [it, inserted] = last_.try_emplace(channel, seq);
  if (!inserted && seq > it->second) it->second = seq;
}

bool ChannelPositions::Get(const std::string& channel, uint64_t* seq) const {
  auto it = last_.find(channel);
  if (it == last_.end()) return false;
  *seq = it->second;
  return true;
}

}  // namespace ssebridge
