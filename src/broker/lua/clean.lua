--[[ clean: removes finished jobs (completed or dead) that finished at least older_than_ms ago.
KEYS[1] the completed or dead zset
ARGV[1] key base   ARGV[2] older_than_ms (>= 0)   ARGV[3] limit (1..10000)
Returns: the number of jobs removed (call again while it returns `limit`).
Events (events.lua): 'removed' with the removed ids, when there are any.
]]
--!include now.lua
--!include delete_jobs.lua
--!include events.lua
local base = ARGV[1]
local older, limit = tonumber(ARGV[2]), tonumber(ARGV[3])
if not older or older < 0 or not limit or limit < 1 or limit > 10000 then
  return redis.error_reply('ERR invalid arguments')
end
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now_ms() - older, 'LIMIT', 0, limit)
for i = 1, #ids, 1000 do
  local chunk = {unpack(ids, i, math.min(i + 999, #ids))}
  delete_jobs(base, chunk)
  redis.call('ZREM', KEYS[1], unpack(chunk))
end
emit_event(base, 'removed', ids)
return #ids
