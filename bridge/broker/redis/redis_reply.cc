#include "bridge/broker/redis/redis_reply.h"

namespace ssebridge {

bool IsArrayOf(const redisReply& r, absl::string_view kind, size_t n) {
  return r.type == REDIS_REPLY_ARRAY && r.elements == n &&
         r.element[0]->type == REDIS_REPLY_STRING && ReplyView(r.element[0]) == kind;
}

bool IsPong(const redisReply& r, absl::string_view* token) {
  if (IsArrayOf(r, "pong", 2)) {
    *token = ReplyView(r.element[1]);
    return true;
  }
  if (r.type == REDIS_REPLY_STRING || r.type == REDIS_REPLY_STATUS) {
    *token = ReplyView(&r);
    return true;
  }
  return false;
}

}  // namespace ssebridge
