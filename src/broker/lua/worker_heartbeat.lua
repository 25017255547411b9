--[[ worker_heartbeat: records that a worker process is alive and what it runs, and sweeps a few
records of workers that stopped without removing theirs (killed, host lost). The API's
GET /api/workers and the dashboard read these records (worker_list.lua).
KEYS[1] workers (HASH, "<prefix>:{:workers}"; ':' cannot start a queue name, so this slot is
        no queue's)
KEYS[2] the sweep's HSCAN cursor (STRING, "<prefix>:{:workers}:sweep")
ARGV[1] worker id   ARGV[2] the worker's description, a JSON object ("{...}")
        ARGV[2] = "" removes the worker's record (clean shutdown).
ARGV[3] sweep age in ms (>= 1): a record whose heartbeat is older, or that is not a record, goes
Returns: Redis time in ms.
Writes: field id = the description with "hb":<Redis ms> in front, e.g. {"hb":1700000000000,...}.
  One clock: heartbeat times come from Redis, so a worker with a skewed clock still ages right.
  The sweep looks at about 20 records per call, resuming where the last call stopped, so the
  registry stays bounded by the workers alive within the sweep age (plus what one pass has not
  reached yet) even when no one lists workers, at O(1) cost per heartbeat.
]]
local id, info, sweep_age = ARGV[1], ARGV[2], tonumber(ARGV[3])
if id == nil or id == '' or info == nil then
  return redis.error_reply('ERR invalid worker id or description')
end
if not sweep_age or sweep_age < 1 or sweep_age ~= math.floor(sweep_age) then
  return redis.error_reply('ERR invalid sweep age')
end
if info ~= '' and (string.byte(info, 1) ~= 123 or #info < 2) then
  return redis.error_reply('ERR the description must be a JSON object')
end
--!include now.lua
--!include parts.lua
local now = now_ms()
if info == '' then
  redis.call('HDEL', KEYS[1], id)
else
  local rest = string.sub(info, 2)
  if rest ~= '}' then rest = ',' .. rest end
  redis.call('HSET', KEYS[1], id, '{"hb":' .. now .. rest)
end

local scan = redis.call('HSCAN', KEYS[1], redis.call('GET', KEYS[2]) or '0', 'COUNT', 20)
local stale = {}
local fields = scan[2]
for i = 1, #fields, 2 do
  local hb = tonumber(string.match(fields[i + 1], '^{"hb":(%d+)'))
  if not hb or now - hb > sweep_age then stale[#stale + 1] = fields[i] end
end
if #stale > 0 then call_in_parts('HDEL', KEYS[1], stale) end
if scan[1] == '0' then
  redis.call('DEL', KEYS[2])
else
  redis.call('SET', KEYS[2], scan[1])
end
return now
