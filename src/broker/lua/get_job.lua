--[[ get_job: reads one job atomically (a consistent snapshot). Changes nothing.
KEYS[1] delayed   KEYS[2] retry   KEYS[3] state   KEYS[4] result   KEYS[5] progress
ARGV[1] key base   ARGV[2] id
Returns: {body or nil, state record or nil, result or nil, progress or nil, errors (newest first),
          logs, delayed due ms or nil, retry due ms or nil, group or nil, overrun mark or nil}
  The overrun mark (overrun.lua) describes the attempt whose token it names, if that one runs.
  A job with no state record (or st = "") was never claimed: delayed if it has a delayed score,
  else waiting.
]]
local base, id = ARGV[1], ARGV[2]
local body = redis.call('HGET', base .. 'jobs', id)
if not body then return {false} end
return {body, redis.call('HGET', KEYS[3], id), redis.call('HGET', KEYS[4], id),
        redis.call('HGET', KEYS[5], id), redis.call('LRANGE', base .. 'e:' .. id, 0, -1),
        redis.call('LRANGE', base .. 'l:' .. id, 0, -1),
        redis.call('ZSCORE', KEYS[1], id) or false, redis.call('ZSCORE', KEYS[2], id) or false,
        redis.call('HGET', base .. 'g', id), redis.call('HGET', base .. 'overrun', id)}
