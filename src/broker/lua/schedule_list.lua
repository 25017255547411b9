--[[ schedule_list: reads schedules with their state records, and Redis' time, in one snapshot.
KEYS[1] definitions   KEYS[2] state   KEYS[3] due   (see schedule_save.lua)
KEYS[4] missed (see schedule_advance.lua)
ARGV[1] what: "all" (every schedule, by id), "due" (those whose next fire time is not after now,
  earliest first, at most ARGV[2]), or "ids" (the ids ARGV[3..], those that exist, in that order)
ARGV[2] limit for "due" (1 to 10000; ignored otherwise)
Returns: {now_ms, id1, definition1, record1, missed1, id2, ...}; record "" when a definition has
  none; missed: the fire times it missed and did not catch up, ever (0 when none).
Writes: nothing.
]]
--!include now.lua
local what = ARGV[1]
local now = now_ms()
local ids = {}
if what == 'all' then
  ids = redis.call('HKEYS', KEYS[1])
  table.sort(ids)
elseif what == 'due' then
  local limit = tonumber(ARGV[2])
  if not limit or limit < 1 or limit > 10000 or limit ~= math.floor(limit) then
    return redis.error_reply('ERR invalid limit')
  end
  ids = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'LIMIT', 0, limit)
elseif what == 'ids' then
  for i = 3, #ARGV do ids[#ids + 1] = ARGV[i] end
else
  return redis.error_reply('ERR invalid selection')
end
local out = {now}
for _, id in ipairs(ids) do
  local definition = redis.call('HGET', KEYS[1], id)
  if definition then
    out[#out + 1] = id
    out[#out + 1] = definition
    out[#out + 1] = redis.call('HGET', KEYS[2], id) or ''
    out[#out + 1] = tonumber(redis.call('HGET', KEYS[4], id) or '0')
  end
end
return out
