--[[ release: a worker shutting down hands back the jobs it still runs, so other workers take them at
once instead of waiting for the leases to expire. The interrupted attempt is not counted.
KEYS[1] active   KEYS[2] wait   KEYS[3] prio
ARGV[1] key base   ARGV[2 ..] pairs: id, token
Returns: the number of jobs handed back (a pair whose token is stale is skipped).
Writes: m:<id> st = waiting, tk = "", a -= 1; the job goes to the head of its priority.
Publishes: "" on base.."wake" when a job was handed back.
]]
--!include requeue.lua
local base = ARGV[1]
if #ARGV % 2 ~= 1 then return redis.error_reply('ERR invalid arguments') end
local released = {}
-- Backwards, so that pushing each to the head keeps the given order at the head.
for i = #ARGV - 1, 2, -2 do
  local id, token = ARGV[i], ARGV[i + 1]
  local mk = base .. 'm:' .. id
  if token ~= '' and redis.call('HGET', mk, 'tk') == token then
    redis.call('HSET', mk, 'st', 'waiting', 'tk', '')
    redis.call('HINCRBY', mk, 'a', -1)
    requeue_front(base, KEYS[2], KEYS[3], id)
    released[#released + 1] = id
  end
end
if #released > 0 then
  redis.call('ZREM', KEYS[1], unpack(released))
  redis.call('PUBLISH', base .. 'wake', '')
end
return #released
