--[[ state_page: a page of one state kept in a sorted set (delayed, retrying, active, completed,
dead), for listings. Changes nothing.
KEYS[1] the state's set (ZSET)
ARGV[1] "asc" (score, then member, ascending) or "desc" (both descending): Redis' own orders
ARGV[2] count (1..1000)
ARGV[3] "offset" or "after"
ARGV[4] offset: how many entries to skip (>= 0); after: the score of the last entry returned
ARGV[5] after: that entry's member
Returns: member1, score1, member2, score2, ... for at most `count` entries from the position on.
  "after" is stable under inserts and removals: the page starts at the first entry that sorts
  after (score, member) in the given order, whether or not that entry is still in the set, so an
  entry that stays in the set is never skipped or returned twice by consecutive pages.
Cost: O(log N) to find the position (plus O(log N) single-entry reads when the entry has gone
  and others share its score) and O(count) for the page.
]]
local key = KEYS[1]
local descending = ARGV[1] == 'desc'
local count = tonumber(ARGV[2])
if (ARGV[1] ~= 'asc' and not descending) or not count or count < 1 or count > 1000 then
  return redis.error_reply('ERR invalid arguments')
end

-- Members compare bytewise in a sorted set; Lua's string comparison follows the locale.
local function sorts_after(a, b)
  local n = math.min(#a, #b)
  for i = 1, n do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x > y end
  end
  return #a > #b
end

local start
if ARGV[3] == 'offset' then
  start = tonumber(ARGV[4])
  if not start or start < 0 or start ~= math.floor(start) then
    return redis.error_reply('ERR invalid arguments')
  end
elseif ARGV[3] == 'after' then
  local score, member = tonumber(ARGV[4]), ARGV[5]
  if not score or score ~= score or score == math.huge or score == -math.huge or not member
      or member == '' then
    return redis.error_reply('ERR invalid arguments')
  end
  local text = string.format('%.17g', score)
  -- before: the entries sorting strictly before (score, member) in ascending order.
  local before
  local present = tonumber(redis.call('ZSCORE', key, member)) == score
  if present then
    before = redis.call('ZRANK', key, member)
  else
    -- Those of lower score, then, among the entries of equal score (in member order), those
    -- before the member: found by bisection.
    local low = redis.call('ZCOUNT', key, '-inf', '(' .. text)
    local high = low + redis.call('ZCOUNT', key, text, text)
    while low < high do
      local middle = math.floor((low + high) / 2)
      local probe = redis.call('ZRANGE', key, middle, middle)[1]
      if sorts_after(probe, member) then high = middle else low = middle + 1 end
    end
    before = low
  end
  if descending then
    start = redis.call('ZCARD', key) - before
  else
    start = before + (present and 1 or 0)
  end
else
  return redis.error_reply('ERR invalid arguments')
end
return redis.call(descending and 'ZREVRANGE' or 'ZRANGE', key, start, start + count - 1,
                  'WITHSCORES')
