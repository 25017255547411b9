--[[ group_page: a page of the queue's grouped waiting jobs, for listings. Changes nothing.
KEYS[1] group ring (LIST)   KEYS[2] held groups (ZSET)   KEYS[3] wait   KEYS[4] prio
ARGV[1] key base   ARGV[2] offset in the queue's waiting jobs (>= 0)   ARGV[3] count (1..1000)
  Waiting jobs list the ungrouped ones (wait, prio) first: the grouped page starts at
  offset - (their number), so a caller needs no round trip to count them.
Returns: job ids, the groups in name order and each group's jobs in run order (requeue.lua).
Cost: O(groups with waiting jobs) plus the page; fine for an operator's listing, not a hot path.
]]
local base = ARGV[1]
local skip, count = tonumber(ARGV[2]), tonumber(ARGV[3])
if not skip or skip < 0 or not count or count < 1 or count > 1000 then
  return redis.error_reply('ERR invalid arguments')
end
skip = math.max(0, skip - redis.call('LLEN', KEYS[3]) - redis.call('ZCARD', KEYS[4]))
local seen, names = {}, {}
local function add(group)
  if group ~= '' and not seen[group] then
    seen[group] = true
    names[#names + 1] = group
  end
end
for _, group in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do add(group) end
for _, group in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do add(group) end
table.sort(names)
local ids = {}
for _, group in ipairs(names) do
  if #ids >= count then break end
  local key = base .. 'gw:' .. group
  local size = redis.call('ZCARD', key)
  if skip >= size then
    skip = skip - size
  else
    local page = redis.call('ZRANGE', key, skip, skip + count - #ids - 1)
    for _, id in ipairs(page) do ids[#ids + 1] = id end
    skip = 0
  end
end
return ids
