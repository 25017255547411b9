--[[ queue_limits: sets a queue's limits, which claim.lua enforces for every worker at once.
KEYS[1] meta   KEYS[2] rate window (ZSET)
ARGV[1] key base   ARGV[2] rate max (0: no rate limit)   ARGV[3] rate window ms
ARGV[4] concurrency (0: no limit)
Returns: 1.
Writes: meta.rl = "max:window_ms" or no field; meta.cc = concurrency or no field. Removing the
  rate limit also removes its window (the zset and meta.rls); changing it keeps the window, so
  jobs started under the old limit still count under the new one.
Publishes: "" on base.."wake": a raised or removed limit may let held-back jobs start.
All arguments are validated before the first write.
]]
local base = ARGV[1]
local rate_max, window, concurrency = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local function whole(x, low, high)
  return x and x == math.floor(x) and x >= low and x <= high
end
if #ARGV ~= 4 or not whole(rate_max, 0, 1000000000) or not whole(window, 1, 86400000)
    or not whole(concurrency, 0, 1000000) then
  return redis.error_reply('ERR invalid limits')
end
if rate_max > 0 then
  redis.call('HSET', KEYS[1], 'rl', string.format('%d:%d', rate_max, window))
else
  redis.call('HDEL', KEYS[1], 'rl', 'rls')
  redis.call('DEL', KEYS[2])
end
if concurrency > 0 then
  redis.call('HSET', KEYS[1], 'cc', string.format('%d', concurrency))
else
  redis.call('HDEL', KEYS[1], 'cc')
end
redis.call('PUBLISH', base .. 'wake', '')
return 1
