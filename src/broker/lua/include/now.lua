-- now_ms(): Redis' own clock in Unix milliseconds. Every due time and lease deadline comes from
-- here, so a worker or producer with a skewed clock cannot move them.
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
