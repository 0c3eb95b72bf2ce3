// The shapes of RESP replies the pub/sub side reads: a pushed message
// ["message", topic, text] and PING's answer. Pure functions over hiredis'
// reply tree; the reply stays owned by the caller.
#ifndef SSEBRIDGE_BROKER_REDIS_REDIS_REPLY_H_
#define SSEBRIDGE_BROKER_REDIS_REDIS_REPLY_H_

#include <hiredis/hiredis.h>

#include <cstddef>

#include "absl/strings/string_view.h"

namespace ssebridge {

// An array of `n` elements whose first is the string `kind`.
bool IsArrayOf(const redisReply& r, absl::string_view kind, size_t n);

// PING's answer: ["pong", token] once subscribed, the bare token before.
bool IsPong(const redisReply& r, absl::string_view* token);

// A string-typed reply's bytes (the reply must be a string or status).
inline absl::string_view ReplyView(const redisReply* r) { return {r->str, r->len}; }

}  // namespace ssebridge

#endif  // SSEBRIDGE_BROKER_REDIS_REDIS_REPLY_H_
