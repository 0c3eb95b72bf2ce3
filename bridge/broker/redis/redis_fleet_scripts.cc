#include "bridge/broker/redis/redis_fleet_scripts.h"

namespace ssebridge {

// Script ids 20-26: the broker's own scripts use the low ones.
const RedisScript kFleetBeatScript = {20, R"lua(
local existed = redis.call('EXISTS', KEYS[1])
redis.call('SET', KEYS[1], ARGV[2], 'PX', tonumber(ARGV[3]))
redis.call('SADD', KEYS[2], ARGV[1])
return existed
)lua"};

const RedisScript kFleetReapScript = {21, R"lua(
local reaped = 0
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if redis.call('EXISTS', ARGV[1] .. id) == 0 then
    local held = ARGV[2] .. id
    for _, key in ipairs(redis.call('SMEMBERS', held)) do
      redis.call('HDEL', ARGV[3] .. key, id)
    end
    redis.call('DEL', held)
    redis.call('SREM', KEYS[1], id)
    reaped = reaped + 1
  end
end
return reaped
)lua"};

const RedisScript kFleetTakeScript = {22, R"lua(
local fields = redis.call('HGETALL', KEYS[1])
local held = 0
for i = 1, #fields, 2 do
  local id = fields[i]
  if id ~= ARGV[1] and redis.call('EXISTS', ARGV[3] .. id) == 0 then
    redis.call('HDEL', KEYS[1], id)
  else
    held = held + tonumber(fields[i + 1])
  end
end
local limit = tonumber(ARGV[2])
if limit > 0 and held >= limit then return {0, held} end
redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
redis.call('SADD', KEYS[2], ARGV[4])
return {1, held}
)lua"};

const RedisScript kFleetReleaseScript = {23, R"lua(
local left = redis.call('HINCRBY', KEYS[1], ARGV[1], -tonumber(ARGV[2]))
if left <= 0 then
  redis.call('HDEL', KEYS[1], ARGV[1])
  redis.call('SREM', KEYS[2], ARGV[3])
end
return left
)lua"};

const RedisScript kFleetResyncScript = {24, R"lua(
for _, key in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  redis.call('HDEL', ARGV[2] .. key, ARGV[1])
end
redis.call('DEL', KEYS[1])
for i = 3, #ARGV, 2 do
  redis.call('HSET', ARGV[2] .. ARGV[i], ARGV[1], ARGV[i + 1])
  redis.call('SADD', KEYS[1], ARGV[i])
end
return 1
)lua"};

const RedisScript kFleetStatsScript = {25, R"lua(
local out = {}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local v = redis.call('GET', ARGV[1] .. id)
  if v then
    out[#out + 1] = id
    out[#out + 1] = v
  end
end
return out
)lua"};

const RedisScript kFleetReplyScript = {26, R"lua(
redis.call('RPUSH', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
return 1
)lua"};

}  // namespace ssebridge
