// What the SubscriberQueue tests push: events whose frame is a tag padded
// to a chosen size, and the policies by short names.
#ifndef SSEBRIDGE_TESTS_UNIT_QUEUED_EVENTS_H_
#define SSEBRIDGE_TESTS_UNIT_QUEUED_EVENTS_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "bridge/core/subscriber_queue.h"

namespace ssebridge {

using PR = SubscriberQueue::PushResult;
using Tags = std::vector<std::string>;
inline constexpr DeliveryPolicy kDisc = DeliveryPolicy::kDisconnect;
inline constexpr DeliveryPolicy kDrop = DeliveryPolicy::kDropOldest;
inline constexpr DeliveryPolicy kLatest = DeliveryPolicy::kLatestOnly;

// An event whose frame is `tag` padded with '.' to `size` bytes.
inline EventPtr Ev(const std::string& tag, size_t size, std::string channel = "c",
                   std::string type = "t") {
  auto ev = std::make_shared<Event>();
  ev->seq = 1;
  ev->id = tag;
  ev->channel = std::move(channel);
  ev->type = std::move(type);
  ev->frame = tag;
  if (ev->frame.size() < size) ev->frame.append(size - ev->frame.size(), '.');
  return ev;
}

}  // namespace ssebridge

#endif  // SSEBRIDGE_TESTS_UNIT_QUEUED_EVENTS_H_
