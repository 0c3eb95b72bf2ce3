#include "bridge/broker/redis/redis_keys.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace ssebridge {

std::string RedisKeys::epoch() const { return absl::StrCat("{", prefix_, "}:epoch"); }
std::string RedisKeys::epoch_owner() const { return absl::StrCat("{", prefix_, "}:epoch:owner"); }
std::string RedisKeys::seq() const { return absl::StrCat("{", prefix_, "}:seq"); }

std::string RedisKeys::idempotency(absl::string_view key) const {
  return absl::StrCat("{", prefix_, "}:idem:", key);
}

std::string RedisKeys::ticket(absl::string_view name) const {
  return absl::StrCat("{", prefix_, "}:ticket:", name);
}

std::string RedisKeys::fleet(absl::string_view what) const {
  return absl::StrCat("{", prefix_, "}:fleet:", what);
}
std::string RedisKeys::fleet_topic() const { return absl::StrCat(prefix_, ":fleet"); }

std::string RedisKeys::ChannelTag(absl::string_view channel) const {
  return absl::StrCat("{", prefix_, ":ch:", channel, "}");
}

std::string RedisKeys::history(absl::string_view channel) const {
  return absl::StrCat(ChannelTag(channel), ":h");
}
std::string RedisKeys::meta(absl::string_view channel) const {
  return absl::StrCat(ChannelTag(channel), ":m");
}
std::string RedisKeys::retained(absl::string_view channel) const {
  return absl::StrCat(ChannelTag(channel), ":r");
}
std::string RedisKeys::retained_public(absl::string_view channel) const {
  return absl::StrCat(ChannelTag(channel), ":rp");
}
std::string RedisKeys::retained_user(absl::string_view channel, absl::string_view user) const {
  return absl::StrCat(ChannelTag(channel), ":ru:", user);
}
std::string RedisKeys::retained_bytes() const {
  return absl::StrCat("{", prefix_, "}:retained:bytes");
}
std::string RedisKeys::retained_index() const {
  return absl::StrCat("{", prefix_, "}:retained:index");
}
std::string RedisKeys::topic(absl::string_view channel) const {
  return absl::StrCat(prefix_, ":live:", channel);
}

bool RedisKeys::ChannelOfTopic(absl::string_view topic, std::string* channel) const {
  if (!absl::ConsumePrefix(&topic, prefix_) || !absl::ConsumePrefix(&topic, ":live:") ||
      topic.empty()) {
    return false;
  }
  channel->assign(topic.data(), topic.size());
  return true;
}

std::string RetainedField(absl::string_view type, const std::vector<std::string>& user_ids) {
  std::string key = absl::StrCat(type, std::string(1, '\0'));
  for (const auto& user : user_ids) absl::StrAppend(&key, user.size(), ":", user);
  return key;
}

}  // namespace ssebridge
