--[[ group_page: a page of the queue's grouped waiting jobs, for listings. Changes nothing.
KEYS[1] group ring (LIST)   KEYS[2] held groups (ZSET)
ARGV[1] key base   ARGV[2] offset among the grouped waiting jobs (>= 0)   ARGV[3] count (1..1000)
ARGV[4] "rev" for the reverse order (optional; anything else: run order)
  Listings put the grouped jobs after the ungrouped ones (run order) or before them (reversed);
  the caller, which counts the ungrouped jobs anyway, passes the offset within the grouped part.
Returns: job ids; run order is the groups in name order and each group's jobs in run order
  (requeue.lua); reversed, the groups in reverse name order and each group's jobs last-to-run first.
Cost: O(groups with waiting jobs) plus the page; fine for an operator's listing, not a hot path.
]]
local base = ARGV[1]
local skip, count = tonumber(ARGV[2]), tonumber(ARGV[3])
if not skip or skip < 0 or not count or count < 1 or count > 1000 then
  return redis.error_reply('ERR invalid arguments')
end
local reversed = ARGV[4] == 'rev'
local seen, names = {}, {}
local function add(group)
  if group ~= '' and not seen[group] then
    seen[group] = true
    names[#names + 1] = group
  end
end
for _, group in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do add(group) end
for _, group in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do add(group) end
if reversed then
  table.sort(names, function(a, b) return a > b end)
else
  table.sort(names)
end
local range = reversed and 'ZREVRANGE' or 'ZRANGE'
local ids = {}
for _, group in ipairs(names) do
  if #ids >= count then break end
  local key = base .. 'gw:' .. group
  local size = redis.call('ZCARD', key)
  if skip >= size then
    skip = skip - size
  else
    local page = redis.call(range, key, skip, skip + count - #ids - 1)
    for _, id in ipairs(page) do ids[#ids + 1] = id end
    skip = 0
  end
end
return ids
