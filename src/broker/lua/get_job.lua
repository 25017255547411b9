--[[ get_job: reads one job atomically (a consistent snapshot of its keys). Changes nothing.
KEYS[1] delayed   KEYS[2] retry
ARGV[1] key base   ARGV[2] id
Returns: {body or nil, state fields (HGETALL of m:<id>), errors (newest first), logs,
          delayed due ms or nil, retry due ms or nil}
  A job never claimed has no m:<id>; it is delayed if it has a delayed score, else waiting.
]]
local base, id = ARGV[1], ARGV[2]
local body = redis.call('GET', base .. 'j:' .. id)
if not body then return {false} end
return {body, redis.call('HGETALL', base .. 'm:' .. id),
        redis.call('LRANGE', base .. 'e:' .. id, 0, -1),
        redis.call('LRANGE', base .. 'l:' .. id, 0, -1),
        redis.call('ZSCORE', KEYS[1], id) or false, redis.call('ZSCORE', KEYS[2], id) or false}
