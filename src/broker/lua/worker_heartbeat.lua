--[[ worker_heartbeat: records that a worker process is alive and what it runs. The API's
GET /api/workers and the dashboard read these records (worker_list.lua).
KEYS[1] workers (HASH, "<prefix>:{:workers}"; ':' cannot start a queue name, so this slot is
        no queue's)
ARGV[1] worker id   ARGV[2] the worker's description, a JSON object ("{...}")
        ARGV[2] = "" removes the worker's record (clean shutdown).
Returns: Redis time in ms.
Writes: field id = the description with "hb":<Redis ms> in front, e.g. {"hb":1700000000000,...}.
  One clock: heartbeat times come from Redis, so a worker with a skewed clock still ages right.
]]
local id, info = ARGV[1], ARGV[2]
if id == nil or id == '' or info == nil then
  return redis.error_reply('ERR invalid worker id or description')
end
--!include now.lua
local now = now_ms()
if info == '' then
  redis.call('HDEL', KEYS[1], id)
  return now
end
if string.byte(info, 1) ~= 123 or #info < 2 then
  return redis.error_reply('ERR the description must be a JSON object')
end
local rest = string.sub(info, 2)
if rest ~= '}' then rest = ',' .. rest end
redis.call('HSET', KEYS[1], id, '{"hb":' .. now .. rest)
return now
