--[[ share_move: moves concurrency between the shards of a sharded queue (docs/limits.md,
"Sharded queues"). Each shard's claims enforce its own share, meta.cc (claim.lua); the shares
add up to the queue's concurrency, meta.cct (queue_limits.lua writes both, and the generation
meta.lg, on every shard). A mover reads every shard, lowers the shares of shards with more than
their work needs, and raises others' by what it took: a share is never lowered below the jobs
active on its shard, and a raise only hands out what a lowering freed, so the jobs active on all
shards together never exceed the queue's concurrency. Movers are fenced: each takes a token from
the home shard's meta.cbn, and a shard refuses the calls of a mover older than the newest that
read it, so every write a mover makes was seen by any newer mover's read (which then hands out
what an interrupted move freed and never gave).
KEYS[1] meta   KEYS[2] active (ZSET)   KEYS[3] wait (LIST)   KEYS[4] prioritized (ZSET)
ARGV[1] key base
ARGV[2] mode: "read", "give" or "take"
ARGV[3] the mover's token: an integer, 1 to 2^53
ARGV[4] the limits generation (meta.lg) the mover read on this shard; ignored by "read"
ARGV[5] give: at most this much; take: exactly this much; 1 to 1000000 ("read": 0)
ARGV[6] the layout version the mover read the queue's shards by (meta.sv; 0: none)
Checks, before any write: the arguments and a share of at most 1000000 after a take ("ERR
  invalid share move"); meta.sv equal to ARGV[6], else "LAYOUT <sv>" (the shards changed since
  the mover read them: its sums would be of another set of shards); the token not below
  meta.cbt, else "FENCED <cbt>"; give and take: meta.lg equal to ARGV[4] and meta.cc set, else
  "LIMITS ..." (the limits were set since the read: the shares are theirs). queue_limits.lua,
  setting a sharded queue's limits, is a mover too: it takes a token and is fenced alike.
Writes: meta.cbt = the token. give: meta.cc lowered by at most the amount, to no less than the
  jobs active on the shard and no less than 1. take: meta.cc raised by the amount, and "" published
  on base.."wake" (jobs held back by the share may start).
Returns: read: {cc, active, waiting, lg, cct}: the share (0: none), the jobs active, the jobs
  waiting (wait, prioritized and grouped), the generation ("" when none) and the queue's
  concurrency (0: none); give: the amount taken off the share (0 to the amount); take: the new
  share.
]]
local base, mode = ARGV[1], ARGV[2]
local token, amount = tonumber(ARGV[3]), tonumber(ARGV[5])
local function whole(x, low, high)
  return x and x == math.floor(x) and x >= low and x <= high
end
if #KEYS ~= 4 or #ARGV ~= 6 or not whole(token, 1, 9007199254740992)
    or not whole(tonumber(ARGV[6]), 0, 9007199254740992)
    or (mode == 'read' and amount ~= 0)
    or (mode ~= 'read' and not ((mode == 'give' or mode == 'take') and whole(amount, 1, 1000000))) then
  return redis.error_reply('ERR invalid share move')
end
local meta = redis.call('HMGET', KEYS[1], 'cbt', 'cc', 'lg', 'cct', 'gwaiting', 'sv')
if (tonumber(meta[6]) or 0) ~= tonumber(ARGV[6]) then
  return redis.error_reply('LAYOUT ' .. (meta[6] or '0'))
end
local fence = tonumber(meta[1]) or 0
if token < fence then return redis.error_reply('FENCED ' .. meta[1]) end
local share = tonumber(meta[2])
if mode ~= 'read' and (not share or meta[3] ~= ARGV[4]) then
  return redis.error_reply('LIMITS set since the read')
end
if mode == 'take' and share + amount > 1000000 then
  return redis.error_reply('ERR invalid share move')
end
if token > fence then redis.call('HSET', KEYS[1], 'cbt', ARGV[3]) end
local active = redis.call('ZCARD', KEYS[2])
if mode == 'read' then
  local waiting = redis.call('LLEN', KEYS[3]) + redis.call('ZCARD', KEYS[4])
      + (tonumber(meta[5]) or 0)
  return {share or 0, active, waiting, meta[3] or '', tonumber(meta[4]) or 0}
elseif mode == 'give' then
  local lowest = math.max(active, 1)
  local given = math.max(0, math.min(amount, share - lowest))
  if given > 0 then redis.call('HSET', KEYS[1], 'cc', share - given) end
  return given
end
redis.call('HSET', KEYS[1], 'cc', share + amount)
redis.call('SPUBLISH', base .. 'wake', '')
return share + amount
