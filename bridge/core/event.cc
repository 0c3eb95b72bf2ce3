#include "bridge/core/event.h"

namespace ssebridge {

size_t Event::footprint() const {
  size_t n = sizeof(Event) + id.size() + channel.size() + type.size() + data.size() + frame.size();
  for (const auto& u : user_ids) n += sizeof(std::string) + u.size();
  return n;
}

std::shared_ptr<const Event> Event::Control(std::string frame) {
  auto ev = std::make_shared<Event>();
  ev->frame = std::move(frame);
  return ev;
}

}  // namespace ssebridge
