--[[ recover: returns jobs whose lease expired (their worker died or hung) to the head of waiting,
counting a stall; a job that stalled more than max_stalls times goes to dead instead. Clearing the
token makes the old worker's late complete/fail a no-op.
KEYS[1] active   KEYS[2] wait   KEYS[3] prio   KEYS[4] dead   KEYS[5] meta
ARGV[1] key base   ARGV[2] max_stalls   ARGV[3] limit per call   ARGV[4] max errors kept
ARGV[5] dead keep_count   ARGV[6] dead keep_age_ms
Returns: {requeued, dead}
Writes: m:<id> s += 1, tk = "", st = waiting | dead; e:<id> gets a "lease expired" error for dead
  jobs; meta.stalled counts.
Publishes: "" on base.."wake" when a job was requeued.
]]
--!include now.lua
--!include delete_jobs.lua
--!include requeue.lua
local base = ARGV[1]
local max_stalls, limit, max_errors = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local keep_count, keep_age = tonumber(ARGV[5]), tonumber(ARGV[6])
if not max_stalls or not limit or limit < 1 or limit > 1000 or not max_errors or max_errors < 1
    or not keep_count
    or not keep_age then
  return redis.error_reply('ERR invalid arguments')
end
local now = now_ms()
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. now, 'LIMIT', 0, limit)
if #expired == 0 then return {0, 0} end
redis.call('ZREM', KEYS[1], unpack(expired))
local requeued, dead = 0, 0
-- Backwards, so that pushing each to the head leaves the longest-waiting job first.
for idx = #expired, 1, -1 do
  local id = expired[idx]
  local mk = base .. 'm:' .. id
  local stalls = redis.call('HINCRBY', mk, 's', 1)
  if stalls > max_stalls then
    local ek = base .. 'e:' .. id
    local attempt = redis.call('HGET', mk, 'a') or '0'
    redis.call('LPUSH', ek, '{"at":' .. now .. ',"attempt":' .. attempt ..
      ',"message":"lease expired ' .. stalls .. ' times (worker died or hung)"}')
    redis.call('LTRIM', ek, 0, max_errors - 1)
    redis.call('HSET', mk, 'st', 'dead', 'tk', '', 'tf', now)
    redis.call('ZADD', KEYS[4], now, id)
    dead = dead + 1
  else
    redis.call('HSET', mk, 'st', 'waiting', 'tk', '')
    requeue_front(base, KEYS[2], KEYS[3], id)
    requeued = requeued + 1
  end
end
redis.call('HINCRBY', KEYS[5], 'stalled', #expired)
if dead > 0 then trim_finished(base, KEYS[4], keep_count, keep_age, now) end
if requeued > 0 then redis.call('PUBLISH', base .. 'wake', '') end
return {requeued, dead}
