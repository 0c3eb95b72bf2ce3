#include "bridge/broker/redis/redis_snapshot.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "bridge/broker/memory/memory_broker.h"
#include "bridge/broker/redis/redis_codec.h"
#include "bridge/broker/reset_notice.h"

namespace ssebridge {

namespace {

absl::Status BadSnapshot(absl::string_view what) {
  return absl::DataLossError(absl::StrCat("redis script reply: ", what));
}

bool AsString(const redisReply* r, std::string* out) {
  if (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_STATUS) return false;
  out->assign(r->str, r->len);
  return true;
}

void SortBySeq(std::vector<EventPtr>::iterator first, std::vector<EventPtr>::iterator last) {
  std::sort(first, last, [](const EventPtr& a, const EventPtr& b) { return a->seq < b->seq; });
}

}  // namespace

absl::StatusOr<ScriptReply> ParseScriptReply(const redisReply& reply) {
  if (reply.type != REDIS_REPLY_ARRAY || reply.elements != 4) return BadSnapshot("shape");
  ScriptReply out;
  if (!AsString(reply.element[0], &out.epoch) || out.epoch.empty()) {
    return BadSnapshot("epoch");
  }
  if (reply.element[1]->type != REDIS_REPLY_INTEGER || reply.element[1]->integer < 0) {
    return BadSnapshot("head");
  }
  out.head = static_cast<uint64_t>(reply.element[1]->integer);
  const redisReply* third = reply.element[2];
  if (third->type == REDIS_REPLY_ARRAY) {
    for (size_t i = 0; i < third->elements; ++i) {
      if (third->element[i]->type != REDIS_REPLY_INTEGER) return BadSnapshot("flags");
      out.too_old.push_back(third->element[i]->integer != 0);
    }
  } else if (!AsString(third, &out.reason)) {
    return BadSnapshot("reason");
  }
  const redisReply* items = reply.element[3];
  if (items->type != REDIS_REPLY_ARRAY || items->elements % 3 != 0) return BadSnapshot("items");
  out.items.reserve(items->elements / 3);
  for (size_t i = 0; i < items->elements; i += 3) {
    const redisReply* index = items->element[i];
    if (index->type != REDIS_REPLY_INTEGER || index->integer < 1) return BadSnapshot("index");
    ScriptItem item;
    item.channel = static_cast<size_t>(index->integer - 1);
    if (!AsString(items->element[i + 1], &item.stream_id) ||
        !AsString(items->element[i + 2], &item.payload)) {
      return BadSnapshot("item");
    }
    out.items.push_back(std::move(item));
  }
  return out;
}

EventPtr ItemEvent(const ScriptItem& item, absl::string_view epoch,
                   const std::vector<std::string>& channels, const EventEncoder& encoder) {
  if (item.channel >= channels.size()) return nullptr;
  uint64_t seq = 0;
  absl::string_view payload = item.payload;
  if (item.stream_id.empty()) {
    if (!ParseSeqPrefixed(item.payload, &seq, &payload)) return nullptr;
  } else if (!ParseStreamId(item.stream_id, &seq)) {
    return nullptr;
  }
  absl::StatusOr<StoredEvent> stored = DecodeStoredEvent(payload);
  if (!stored.ok()) return nullptr;
  return BuildEvent(epoch, seq, channels[item.channel], std::move(*stored), encoder);
}

EventPtr HeadCursorEvent(absl::string_view epoch, uint64_t head, const EventEncoder& encoder) {
  auto cursor = std::make_shared<Event>();
  cursor->seq = head;
  cursor->id = absl::StrCat(epoch, "-", head);
  cursor->frame = encoder.EncodeCursor(cursor->id);
  return cursor;
}

std::vector<EventPtr> BuildCatchUp(const Subscription& sub, const ScriptReply& reply, bool fresh,
                                   absl::string_view reason, absl::string_view cursor,
                                   absl::Time now, const EventEncoder& encoder) {
  if (reason.empty()) reason = reply.reason;
  std::vector<EventPtr> out;
  if (!reason.empty()) {
    out.push_back(MakeResetNotice(reply.epoch, reply.head, reason, cursor, now, encoder));
  }
  const size_t first = out.size();
  for (const ScriptItem& item : reply.items) {
    EventPtr ev = ItemEvent(item, reply.epoch, sub.channels(), encoder);
    if (ev != nullptr && Audience(*ev, sub)) out.push_back(std::move(ev));
  }
  SortBySeq(out.begin() + static_cast<std::ptrdiff_t>(first), out.end());
  if (fresh || !reason.empty()) {
    out.push_back(HeadCursorEvent(reply.epoch, reply.head, encoder));
  }
  return out;
}

}  // namespace ssebridge
