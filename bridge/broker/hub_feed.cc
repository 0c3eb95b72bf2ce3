#include "bridge/broker/hub_feed.h"

#include <algorithm>

namespace ssebridge {

bool Audience(const Event& event, const Subscription& sub) {
  if (event.user_ids.empty()) return true;
  if (sub.user_id().empty()) return false;
  return std::binary_search(event.user_ids.begin(), event.user_ids.end(), sub.user_id());
}

void HubFeed::Keep(const EventPtr& event) {
  for (const auto& p : pending_) {
    if (p->sub_->ChannelIndex(event->channel) >= 0) p->kept_.push_back(event);
  }
}

void HubFeed::Dispatch(const EventPtr& event) {
  std::lock_guard<std::mutex> lock(mu_);
  Keep(event);
  hub_->Dispatch(event);
}

void HubFeed::DispatchBatch(const std::vector<EventPtr>& events) {
  if (events.empty()) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (!pending_.empty()) {
    for (const EventPtr& event : events) Keep(event);
  }
  hub_->DispatchBatch(events);
}

std::shared_ptr<HubFeed::Pending> HubFeed::Begin(std::shared_ptr<Subscription> sub) {
  std::shared_ptr<Pending> p(new Pending(std::move(sub)));
  std::lock_guard<std::mutex> lock(mu_);
  pending_.push_back(p);
  return p;
}

bool HubFeed::Finish(const std::shared_ptr<Pending>& p, std::vector<EventPtr> catch_up,
                     uint64_t head) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!p->open_) return false;
  p->open_ = false;
  pending_.erase(std::find(pending_.begin(), pending_.end(), p));
  for (EventPtr& ev : p->kept_) {
    if (ev->seq > head && Audience(*ev, *p->sub_)) catch_up.push_back(std::move(ev));
  }
  p->kept_.clear();
  hub_->Attach(p->sub_, std::move(catch_up));
  return true;
}

void HubFeed::Abandon(const std::shared_ptr<Pending>& p) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!p->open_) return;
  p->open_ = false;
  pending_.erase(std::find(pending_.begin(), pending_.end(), p));
  p->kept_.clear();
}

size_t HubFeed::pending() const {
  std::lock_guard<std::mutex> lock(mu_);
  return pending_.size();
}

}  // namespace ssebridge
