--[[ retry_dead: gives dead jobs a fresh set of attempts: they go back to waiting (tail of their
priority). Either the given ids, or the oldest `limit` dead jobs when no id is given.
KEYS[1] dead   KEYS[2] wait   KEYS[3] prio   KEYS[4] meta
ARGV[1] key base   ARGV[2] limit (1..1000)   ARGV[3 ..] ids (optional)
Returns: the number of jobs moved (ids that are not dead are skipped).
Writes: m:<id> st = waiting, a = 0, s = 0, tf removed; the error history is kept.
Publishes: "" on base.."wake" when a job moved.
]]
local base = ARGV[1]
local limit = tonumber(ARGV[2])
if not limit or limit < 1 or limit > 1000 then return redis.error_reply('ERR invalid limit') end
local ids = {}
if #ARGV > 2 then
  -- ZREM, not ZSCORE: an id given twice is dead only the first time, so it is queued once.
  for i = 3, #ARGV do
    if redis.call('ZREM', KEYS[1], ARGV[i]) == 1 then ids[#ids + 1] = ARGV[i] end
  end
else
  ids = redis.call('ZRANGE', KEYS[1], 0, limit - 1)
  if #ids > 0 then redis.call('ZREM', KEYS[1], unpack(ids)) end
end
if #ids == 0 then return 0 end
for _, id in ipairs(ids) do
  local mk = base .. 'm:' .. id
  redis.call('HSET', mk, 'st', 'waiting', 'a', 0, 's', 0, 'tk', '')
  redis.call('HDEL', mk, 'tf', 'cx')
  local p = tonumber(redis.call('HGET', mk, 'p') or '0')
  if p == 0 then
    redis.call('RPUSH', KEYS[2], id)
  else
    local seq = redis.call('HINCRBY', KEYS[4], 'seq', 1)
    redis.call('ZADD', KEYS[3], p * 4294967296 + (seq % 4294967296), id)
  end
end
redis.call('PUBLISH', base .. 'wake', '')
return #ids
