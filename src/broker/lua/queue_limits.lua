--[[ queue_limits: sets a queue's limits, which claim.lua enforces for every worker at once.
KEYS[1] meta   KEYS[2] rate window (ZSET)   KEYS[3] active (ZSET)
ARGV[1] key base   ARGV[2] rate max (0: no rate limit)   ARGV[3] rate window ms
ARGV[4] concurrency (0: no limit)
ARGV[5] per-group rate max (0: none)   ARGV[6] per-group rate window ms
ARGV[7] per-group concurrency (0: none)   ARGV[8] group field ("": none; 1 to 128 bytes)
ARGV[9] priority aging ms (0: none; 1 to 86400000): a waiting job gains one priority step per
  this many ms (requeue.lua). It orders jobs queued from then on; jobs already waiting keep their
  scores, so turn it on or off while the queue is empty for a clean order.
ARGV[10] maximum length (0: none; at most 2^40): enqueue.lua refuses jobs that would make more
  than this many jobs waiting, delayed or retrying.
ARGV[11] (optional, with ARGV[12..15]) "share": the limits are this shard's share of a sharded
  queue's (docs/limits.md, "Sharded queues"), written on each of its shards; then ARGV[12] is the
  layout version the shares were made for, and a shard at another version (meta.sv) refuses
  with the error reply "LAYOUT <sv>", writing nothing: the shares are made again. ARGV[13..15]:
  the whole queue's concurrency (0: none), the generation of these limits
  (1 to 64 bytes, the same on every shard: share_move.lua moves concurrency between shards within
  one generation) and the setter's mover token (share_move.lua: refused with "FENCED <cbt>",
  writing nothing, when a newer mover read this shard). With them the concurrency share only
  lowers: meta.cc becomes the lesser of the one it had and ARGV[4] (the setter then raises the
  shares below their targets with share_move.lua take), so the shares never add up to more than
  the old limit while they change.
Returns: 1; a share: {the share meta.cc now holds (0: none), the jobs active on the shard}.
  On a sharded queue's home shard (meta.shards above 1, shard_layout.lua) a call
  without "share" that sets any limit or setting other than "none" is refused with the error
  reply "SHARDED", writing nothing: the broker splits a sharded queue's limits into shares.
Writes: meta.rl = "max:window_ms", meta.cc, meta.cct, meta.lg and meta.cbt (with ARGV[13..15]), meta.grl = "max:window_ms", meta.gcc, meta.gf, meta.ag,
  meta.ml, each removed when "none". Removing the queue's rate limit also removes its window (the zset and
  base.."rls"); changing it keeps the window, so jobs started under the old limit still count
  under the new one. Group windows expire by themselves (rate_window.lua). The group field
  applies to jobs enqueued from now on. Groups held back (gheld) are looked at again at once.
Publishes: "" on base.."wake": a raised or removed limit may let held-back jobs start.
All arguments are validated before the first write.
]]
local base = ARGV[1]
local rate_max, window, concurrency = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local group_max, group_window, group_cc = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local group_field = ARGV[8]
local aging = tonumber(ARGV[9])
local max_length = tonumber(ARGV[10])
local function whole(x, low, high)
  return x and x == math.floor(x) and x >= low and x <= high
end
local share = ARGV[11] == 'share'
local generation, token = ARGV[14], tonumber(ARGV[15])
if (#ARGV ~= 10 and not (#ARGV == 15 and share)) or not whole(max_length, 0, 1099511627776) or not whole(aging, 0, 86400000) or not whole(rate_max, 0, 1000000000) or not whole(window, 1, 86400000)
    or not whole(concurrency, 0, 1000000) or not whole(group_max, 0, 1000000000)
    or not whole(group_window, 1, 86400000) or not whole(group_cc, 0, 1000000)
    or #group_field > 128
    or (share and (not whole(tonumber(ARGV[12]), 0, 9007199254740992)
      or not whole(tonumber(ARGV[13]), 0, 1000000) or #generation < 1
      or #generation > 64 or not whole(token, 1, 9007199254740992))) then
  return redis.error_reply('ERR invalid limits')
end
if not share and (tonumber(redis.call('HGET', KEYS[1], 'shards')) or 1) > 1 and (rate_max > 0
    or concurrency > 0 or group_max > 0 or group_cc > 0 or group_field ~= '' or aging > 0
    or max_length > 0) then
  return redis.error_reply('SHARDED a sharded queue takes no limits, group field, aging or maximum length')
end
local had_share  -- with a token: the share before, nil when none
if share then
  local sv = redis.call('HGET', KEYS[1], 'sv')
  if (tonumber(sv) or 0) ~= tonumber(ARGV[12]) then
    return redis.error_reply('LAYOUT ' .. (sv or '0'))
  end
  if token then
    local fence = redis.call('HMGET', KEYS[1], 'cbt', 'cc')
    if token < (tonumber(fence[1]) or 0) then return redis.error_reply('FENCED ' .. fence[1]) end
    had_share = tonumber(fence[2])
  end
end
local function set_or_clear(field, value, keep)
  if keep then
    redis.call('HSET', KEYS[1], field, value)
  else
    redis.call('HDEL', KEYS[1], field)
  end
end
set_or_clear('rl', string.format('%d:%d', rate_max, window), rate_max > 0)
if rate_max == 0 then redis.call('DEL', KEYS[2], base .. 'rls') end
if token and had_share and concurrency > 0 then concurrency = math.min(concurrency, had_share) end
set_or_clear('cc', string.format('%d', concurrency), concurrency > 0)
if token then
  set_or_clear('cct', ARGV[13], concurrency > 0 and tonumber(ARGV[13]) > 0)
  redis.call('HSET', KEYS[1], 'lg', generation, 'cbt', ARGV[15])
end
set_or_clear('grl', string.format('%d:%d', group_max, group_window), group_max > 0)
set_or_clear('gcc', string.format('%d', group_cc), group_cc > 0)
set_or_clear('gf', group_field, group_field ~= '')
set_or_clear('ag', string.format('%d', aging), aging > 0)
set_or_clear('ml', string.format('%d', max_length), max_length > 0)
-- groups held back under the old limits are looked at again at the next claim
redis.call('ZUNIONSTORE', base .. 'gheld', 1, base .. 'gheld', 'WEIGHTS', 0)
redis.call('SPUBLISH', base .. 'wake', '')
if token then return {concurrency, redis.call('ZCARD', KEYS[3])} end
return 1
