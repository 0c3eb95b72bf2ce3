#include "bridge/broker/redis/redis_scripts.h"

#include "absl/strings/str_cat.h"

namespace ssebridge {

// The epoch is created on first use with SET NX semantics (GET, then SET
// inside one script): if Redis lost its data, the next user makes a new
// one, and every old cursor is then told to reset.
//
// The epoch's owner (KEYS[#KEYS], ARGV[#ARGV]: the identity of the server
// running the script, "<run_id>:<master_replid>", '' to skip the check) is
// the server history that handed out its seqs. Another process, or the
// same one promoted again, holding the same data is a restart or a
// failover, and then the data may lack seqs that were acknowledged or
// delivered: a replica that lagged, a snapshot older than the last write.
// No bridge replica can rule that out (each saw only its own channels'
// seqs), so the epoch is replaced and every id from then on is new. A
// missing owner with an epoch present is data written before owners
// existed: it is adopted.
#define SSEBRIDGE_EPOCH_LUA                                           \
  "local epoch = redis.call('GET', KEYS[1])\n"                        \
  "local owner = ARGV[#ARGV]\n"                                       \
  "if not epoch then\n"                                               \
  "  epoch = ARGV[1]\n"                                               \
  "  redis.call('SET', KEYS[1], epoch)\n"                             \
  "  if owner ~= '' then redis.call('SET', KEYS[#KEYS], owner) end\n" \
  "elseif owner ~= '' then\n"                                         \
  "  local was = redis.call('GET', KEYS[#KEYS])\n"                    \
  "  if was ~= owner then\n"                                          \
  "    if was then\n"                                                 \
  "      epoch = ARGV[1]\n"                                           \
  "      redis.call('SET', KEYS[1], epoch)\n"                         \
  "    end\n"                                                         \
  "    redis.call('SET', KEYS[#KEYS], owner)\n"                       \
  "  end\n"                                                           \
  "end\n"                                                             \
  "local head = tonumber(redis.call('GET', KEYS[2]) or '0')\n"

// Redis went back in time (restored from an older snapshot, failed over to
// a lagging replica): the epoch is the one a replica knows (ARGV[ke]) but
// the counter is below the highest seq it saw (ARGV[kh]). The seqs after
// `head` were handed out already, so the epoch is replaced; seq goes on
// from head, and every id from now on is new.
#define SSEBRIDGE_REWIND_LUA(ke, kh)               \
  "if ARGV[" #ke "] ~= '-' and epoch == ARGV[" #ke \
  "] and\n"                                        \
  "   head < tonumber(ARGV[" #kh                   \
  "]) then\n"                                      \
  "  epoch = ARGV[1]\n"                            \
  "  redis.call('SET', KEYS[1], epoch)\n"          \
  "end\n"

const RedisScript kPublishScript = {0, SSEBRIDGE_EPOCH_LUA SSEBRIDGE_REWIND_LUA(13, 14) R"lua(
if ARGV[9] == '1' then
  local seen = redis.call('GET', KEYS[6])
  if seen then return {epoch, seen, 1} end
end
local rfield, rsize, rold = ARGV[5], 0, 0
if rfield ~= '' then
  -- Retained caps before anything is taken: a refusal stores nothing.
  rold = redis.call('HSTRLEN', KEYS[5], rfield)
  if rold == 0 and redis.call('HLEN', KEYS[5]) >= tonumber(ARGV[10]) then
    return {epoch, 'max_retained_per_channel', 2}
  end
  if rold > 0 then rold = rold + #rfield end
  rsize = #string.format('%d', head + 1) + 1 + #ARGV[2] + #rfield
  local total = tonumber(redis.call('GET', KEYS[7]) or '0')
  if total - rold + rsize > tonumber(ARGV[11]) then
    return {epoch, 'max_retained_bytes', 2}
  end
end
local s = string.format('%d', redis.call('INCR', KEYS[2]))
local before = redis.call('XLEN', KEYS[3])
if before == 0 then
  -- history expired (or never existed): whatever it held is gone
  local last = redis.call('HGET', KEYS[4], 'l')
  if last then redis.call('HSET', KEYS[4], 't', last) end
end
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[3], s .. '-0', 'e', ARGV[2])
if redis.call('XLEN', KEYS[3]) <= before then
  -- trimmed: every seq before the oldest kept entry may be gone
  local first = redis.call('XRANGE', KEYS[3], '-', '+', 'COUNT', 1)
  local f = tonumber(string.match(first[1][1], '^(%d+)'))
  redis.call('HSET', KEYS[4], 't', string.format('%d', f - 1))
end
redis.call('HSET', KEYS[4], 'l', s)
if ARGV[4] ~= '0' then redis.call('PEXPIRE', KEYS[3], ARGV[4]) end
if rfield ~= '' then
  redis.call('HSET', KEYS[5], rfield, s .. '\n' .. ARGV[2])
  redis.call('INCRBY', KEYS[7], rsize - rold)
  redis.call('ZADD', KEYS[8], ARGV[8], ARGV[12] .. '\0' .. rfield)
  if #KEYS == 10 then
    redis.call('SADD', KEYS[9], rfield)
  else
    for k = 10, #KEYS - 1 do redis.call('SADD', KEYS[k], rfield) end
  end
end
redis.call('PUBLISH', ARGV[6], epoch .. ' ' .. s .. '\n' .. ARGV[2])
local record = epoch .. '-' .. s .. ' ' .. ARGV[8]
if ARGV[9] == '1' then redis.call('SET', KEYS[6], record, 'PX', ARGV[7]) end
return {epoch, record, 0}
)lua"};

// The batch runs each event through the single script's steps, in order,
// with what the single script repeats per call done once per call: the
// epoch, owner and rewind checks, the seq counter (a local, written back
// once), and per channel its stream length before, the 'l'/'t' markers and
// the expiry, settled after the loop. The script is atomic, so nobody sees
// the markers lag: the state it leaves is the one N single calls leave.
// A channel's first entry only moves when an XADD trims, so "fewer entries
// than before + added" is "some XADD trimmed", and the newest trim's 't' is
// the oldest kept entry's seq - 1, as the single script leaves it.
const RedisScript kPublishBatchScript = {5, SSEBRIDGE_EPOCH_LUA SSEBRIDGE_REWIND_LUA(8, 9) R"lua(
local seq = head
local out = {epoch}
local chans, order = {}, {}
local k = 5
for a = 10, #ARGV - 6, 6 do
  local payload, rfield = ARGV[a], ARGV[a + 3]
  local hkey, mkey = KEYS[k], KEYS[k + 1]
  k = k + 2
  local ikey, rkey, sets
  if ARGV[a + 5] == '1' then ikey = KEYS[k]; k = k + 1 end
  if rfield ~= '' then
    rkey, sets = KEYS[k], math.max(tonumber(ARGV[a + 4]), 1)
    k = k + 1 + sets
  end
  local seen = ikey and redis.call('GET', ikey)
  local refused, rsize, rold = nil, 0, 0
  if rkey and not seen then
    rold = redis.call('HSTRLEN', rkey, rfield)
    if rold == 0 and redis.call('HLEN', rkey) >= tonumber(ARGV[6]) then
      refused = 'max_retained_per_channel'
    else
      if rold > 0 then rold = rold + #rfield end
      rsize = #string.format('%d', seq + 1) + 1 + #payload + #rfield
      local total = tonumber(redis.call('GET', KEYS[3]) or '0')
      if total - rold + rsize > tonumber(ARGV[7]) then refused = 'max_retained_bytes' end
    end
  end
  if seen then
    out[#out + 1] = seen; out[#out + 1] = 1
  elseif refused then
    out[#out + 1] = refused; out[#out + 1] = 2
  else
    seq = seq + 1
    local s = string.format('%d', seq)
    local c = chans[hkey]
    if not c then
      local before = redis.call('XLEN', hkey)
      if before == 0 then
        -- history expired (or never existed): whatever it held is gone
        local last = redis.call('HGET', mkey, 'l')
        if last then redis.call('HSET', mkey, 't', last) end
      end
      c = {mkey, before, 0, s}
      chans[hkey] = c
      order[#order + 1] = hkey
    end
    redis.call('XADD', hkey, 'MAXLEN', '~', ARGV[2], s .. '-0', 'e', payload)
    c[3], c[4] = c[3] + 1, s
    if rkey then
      redis.call('HSET', rkey, rfield, s .. '\n' .. payload)
      redis.call('INCRBY', KEYS[3], rsize - rold)
      redis.call('ZADD', KEYS[4], ARGV[5], ARGV[a + 2] .. '\0' .. rfield)
      for j = k - sets, k - 1 do redis.call('SADD', KEYS[j], rfield) end
    end
    redis.call('PUBLISH', ARGV[a + 1], epoch .. ' ' .. s .. '\n' .. payload)
    local record = epoch .. '-' .. s .. ' ' .. ARGV[5]
    if ikey then redis.call('SET', ikey, record, 'PX', ARGV[4]) end
    out[#out + 1] = record; out[#out + 1] = 0
  end
end
if seq > head then redis.call('SET', KEYS[2], string.format('%d', seq)) end
for _, hkey in ipairs(order) do
  local c = chans[hkey]
  if redis.call('XLEN', hkey) < c[2] + c[3] then
    -- trimmed: every seq before the oldest kept entry may be gone
    local first = redis.call('XRANGE', hkey, '-', '+', 'COUNT', 1)
    local f = tonumber(string.match(first[1][1], '^(%d+)'))
    redis.call('HSET', c[1], 't', string.format('%d', f - 1))
  end
  redis.call('HSET', c[1], 'l', c[4])
  if ARGV[3] ~= '0' then redis.call('PEXPIRE', hkey, ARGV[3]) end
end
return out
)lua"};

const RedisScript kSnapshotScript = {1, SSEBRIDGE_EPOCH_LUA SSEBRIDGE_REWIND_LUA(5, 6) R"lua(
local n = (#KEYS - 3) / 5
local reason = ''
local items = {}
if ARGV[2] == 'resume' then
  local c = tonumber(ARGV[4])
  if ARGV[3] ~= epoch then
    reason = 'unknown_epoch'
  elseif c > head then
    reason = 'cursor_ahead'
  else
    local from = string.format('%d', c + 1) .. '-0'
    for i = 1, n do
      local meta = redis.call('HMGET', KEYS[5 * i - 1], 't', 'l')
      local t = tonumber(meta[1] or '0')
      local l = tonumber(meta[2] or '0')
      if t > c then reason = 'cursor_too_old'; break end
      if l > c then
        local entries = redis.call('XRANGE', KEYS[5 * i - 2], from, '+')
        if #entries == 0 then reason = 'cursor_too_old'; break end
        for _, e in ipairs(entries) do
          items[#items + 1] = i
          items[#items + 1] = e[1]
          items[#items + 1] = e[2][2]
        end
      end
    end
    if reason == '' then return {epoch, head, '', items} end
    items = {}
  end
end
-- Retained values by audience: the public ones and the reader's own, so a
-- connect costs what it receives, not what the channel holds.
for i = 1, n do
  local fields = redis.call('SMEMBERS', KEYS[5 * i + 1])
  for _, f in ipairs(redis.call('SMEMBERS', KEYS[5 * i + 2])) do
    fields[#fields + 1] = f
  end
  for from = 1, #fields, 500 do
    local values = redis.call('HMGET', KEYS[5 * i],
                              unpack(fields, from, math.min(from + 499, #fields)))
    for _, v in ipairs(values) do
      if v then
        items[#items + 1] = i
        items[#items + 1] = ''
        items[#items + 1] = v
      end
    end
  end
end
return {epoch, head, reason, items}
)lua"};

const RedisScript kRecoverScript = {2, SSEBRIDGE_EPOCH_LUA SSEBRIDGE_REWIND_LUA(2, 3) R"lua(
if epoch ~= ARGV[2] then return {epoch, head, {}, {}} end
local n = (#KEYS - 3) / 2
local old, items = {}, {}
for i = 1, n do
  old[i] = 0
  if ARGV[3 + i] ~= '-' then
    local c = tonumber(ARGV[3 + i])
    local meta = redis.call('HMGET', KEYS[2 * i + 2], 't', 'l')
    local t = tonumber(meta[1] or '0')
    local l = tonumber(meta[2] or '0')
    if t > c then
      old[i] = 1
    elseif l > c then
      local entries = redis.call('XRANGE', KEYS[2 * i + 1],
                                 string.format('%d', c + 1) .. '-0', '+')
      if #entries == 0 then old[i] = 1 end
      for _, e in ipairs(entries) do
        items[#items + 1] = i
        items[#items + 1] = e[1]
        items[#items + 1] = e[2][2]
      end
    end
  end
end
return {epoch, head, old, items}
)lua"};

// A member is "<channel>\0<field>" (channels hold no NUL); a field is
// "<type>\0" then "<len>:<user>" per user (RetainedField), which tells
// which audience set to leave.
const RedisScript kRetainedSweepScript = {3, R"lua(
local old = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1],
                       'LIMIT', 0, tonumber(ARGV[3]))
local freed = 0
for _, member in ipairs(old) do
  local sep = string.find(member, '\0', 1, true)
  local field = string.sub(member, sep + 1)
  local tag = '{' .. ARGV[2] .. ':ch:' .. string.sub(member, 1, sep - 1) .. '}'
  local len = redis.call('HSTRLEN', tag .. ':r', field)
  if len > 0 then
    redis.call('HDEL', tag .. ':r', field)
    freed = freed + len + #field
  end
  local users = string.sub(field, string.find(field, '\0', 1, true) + 1)
  if users == '' then
    redis.call('SREM', tag .. ':rp', field)
  else
    local pos = 1
    while pos <= #users do
      local colon = string.find(users, ':', pos, true)
      local n = tonumber(string.sub(users, pos, colon - 1))
      redis.call('SREM', tag .. ':ru:' .. string.sub(users, colon + 1, colon + n), field)
      pos = colon + n + 1
    end
  end
  redis.call('ZREM', KEYS[1], member)
end
if freed > 0 then redis.call('DECRBY', KEYS[2], freed) end
return #old
)lua"};

// A ticket's value is "<expires us> <record>" until it is taken ('U') or
// found expired by a take ('X'); KEEPTTL leaves the key's life as Put set
// it, so the markers answer late redeems until the key goes.
const RedisScript kTicketTakeScript = {4, R"lua(
local v = redis.call('GET', KEYS[1])
if not v then return {'unknown'} end
if v == 'U' then return {'used'} end
if v == 'X' then return {'expired'} end
local sp = string.find(v, ' ', 1, true)
local expires = sp and tonumber(string.sub(v, 1, sp - 1))
if not expires then return redis.error_reply('ticket value without its expiry') end
if expires <= tonumber(ARGV[1]) then
  if ARGV[2] == '1' then redis.call('SET', KEYS[1], 'X', 'KEEPTTL') end
  return {'expired'}
end
if ARGV[2] == '1' then redis.call('SET', KEYS[1], 'U', 'KEEPTTL') end
return {'live', string.sub(v, sp + 1)}
)lua"};

#undef SSEBRIDGE_EPOCH_LUA
#undef SSEBRIDGE_REWIND_LUA

std::string OwnerUnknown(absl::string_view why) {
  return absl::StrCat(why,
                      "; without it a restart or failover cannot start a new epoch, and an id "
                      "may be handed out twice after a failover to a replica that lagged: allow "
                      "INFO for the bridge's Redis user, or set "
                      "--redis_reset_on_primary_change=false to accept that");
}

}  // namespace ssebridge
