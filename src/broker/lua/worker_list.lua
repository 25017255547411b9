--[[ worker_list: the workers that sent a heartbeat recently; drops the records of the others
(workers killed without a clean shutdown), so the hash never grows without bound.
KEYS[1] workers (HASH, see worker_heartbeat.lua)
ARGV[1] max age in ms: a record whose heartbeat is older is removed
Returns: {now_ms, id1, description1, id2, description2, ...}, descriptions as stored.
]]
local max_age = tonumber(ARGV[1])
if not max_age or max_age < 0 then
  return redis.error_reply('ERR invalid max age')
end
--!include now.lua
--!include parts.lua
local now = now_ms()
local all = redis.call('HGETALL', KEYS[1])
local out, stale = {now}, {}
for i = 1, #all, 2 do
  local hb = tonumber(string.match(all[i + 1], '^{"hb":(%d+)'))
  if hb and now - hb <= max_age then
    out[#out + 1] = all[i]
    out[#out + 1] = all[i + 1]
  else
    stale[#stale + 1] = all[i]
  end
end
if #stale > 0 then call_in_parts('HDEL', KEYS[1], stale) end
return out
