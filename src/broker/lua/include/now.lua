-- now_ms() -> ms, us: Redis' own clock in Unix milliseconds (rounded down), and the same reading in
-- microseconds (exact in a Lua number). Every due time and lease deadline comes from here, so a
-- worker or producer with a skewed clock cannot move them.
local function now_ms()
  local t = redis.call('TIME')
  local us = tonumber(t[1]) * 1000000 + tonumber(t[2])
  return math.floor(us / 1000), us
end

-- due_after_ms(now_us, delay): the due time of a job `delay` ms after now_us. The delay counts
-- from now rounded up to the next whole millisecond: claim promotes a job once now_ms (rounded
-- down) reaches its due time, so rounding down here would let it start up to 1 ms before the full
-- delay passed ("no earlier than" is the promise). A delay of 0 is due now.
local function due_after_ms(now_us, delay)
  if delay <= 0 then return math.floor(now_us / 1000) end
  return math.ceil(now_us / 1000) + delay
end
