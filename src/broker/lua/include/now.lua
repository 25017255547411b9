-- now_ms(): Redis' own clock in Unix milliseconds, rounded down. Every due time and lease deadline
-- comes from here, so a worker or producer with a skewed clock cannot move them.
-- due_from_now_ms(now, delay): a job due `delay` ms after now is due at the next whole millisecond
-- after now's (now_ms rounded up), plus delay: claim promotes a job once now_ms reaches its due
-- time, so rounding down would let it start up to 1 ms before the full delay passed ("no
-- earlier than" is the promise). A delay of 0 is due at now. `now` is what now_ms returned.
-- now_us(): the same reading as the last now_ms(), in microseconds (exact in a Lua number).
local now_us_rest_ms = 0  -- 1 when the microseconds of the last now_ms() were not whole ms
local now_us_value = 0
local function now_ms()
  local t = redis.call('TIME')
  local us = tonumber(t[2])
  now_us_rest_ms = (us % 1000 == 0) and 0 or 1
  now_us_value = tonumber(t[1]) * 1000000 + us
  return tonumber(t[1]) * 1000 + math.floor(us / 1000)
end
local function now_us()
  return now_us_value
end
local function due_from_now_ms(now, delay)
  if delay <= 0 then return now end  -- due now: claimable at once
  return now + now_us_rest_ms + delay
end
