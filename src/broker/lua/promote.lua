--[[ promote: makes a delayed or retrying job waiting now (at the tail of its priority).
KEYS[1] delayed   KEYS[2] retry   KEYS[3] wait   KEYS[4] prio   KEYS[5] meta
ARGV[1] key base   ARGV[2] id
Returns: 1 promoted, 0 the job is not delayed or retrying (or does not exist).
Publishes: "" on base.."wake" when promoted.
]]
local base, id = ARGV[1], ARGV[2]
local mk = base .. 'm:' .. id
local removed = redis.call('ZREM', KEYS[1], id)
if removed == 0 then
  removed = redis.call('ZREM', KEYS[2], id)
  if removed == 0 then return 0 end
  redis.call('HSET', mk, 'st', 'waiting')
end
local p = tonumber(redis.call('HGET', mk, 'p') or '0')
if p == 0 then
  redis.call('RPUSH', KEYS[3], id)
else
  local seq = redis.call('HINCRBY', KEYS[5], 'seq', 1)
  redis.call('ZADD', KEYS[4], p * 4294967296 + (seq % 4294967296), id)
end
redis.call('PUBLISH', base .. 'wake', '')
return 1
