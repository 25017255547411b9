-- Sliding-window rate limits: at most `max` starts in any interval of `window` ms. A window is a
-- zset of claim batches (member "token:count", score = Redis ms of the claim) plus the running sum
-- of their counts in a string key. A check then costs a few calls whatever the rate: each batch
-- is added once and, when it has left the window, read once (to subtract it) and removed. A batch
-- started at t counts while t > now - window. Both keys expire one window after the last start,
-- together, so an idle window (a group that went quiet) leaves nothing behind.

-- parse_rate(text) -> max, window_ms: a limit as queue_limits.lua stores it ("max:window_ms");
-- nil, nil for none.
local function parse_rate(text)
  if not text then return nil, nil end
  local max, window = string.match(text, '^(%d+):(%d+)$')
  return tonumber(max), tonumber(window)
end

-- window_wait(zkey, window, now): ms until the oldest batch leaves the window (-1: empty).
local function window_wait(zkey, window, now)
  local first = redis.call('ZRANGE', zkey, 0, 0, 'WITHSCORES')
  if #first == 0 then return -1 end
  return math.max(1, tonumber(first[2]) + window - now)
end

-- window_room(zkey, sum_key, max, window, now) -> room, wait_ms: how many more may start now,
-- and, when none may, how long until the oldest batch leaves the window (else -1).
local function window_room(zkey, sum_key, max, window, now)
  local edge = now - window
  local old = redis.call('ZRANGEBYSCORE', zkey, '-inf', edge)
  local used
  if #old > 0 then
    local gone = 0
    for _, member in ipairs(old) do gone = gone + tonumber(string.match(member, ':(%d+)$')) end
    redis.call('ZREMRANGEBYSCORE', zkey, '-inf', edge)
    used = redis.call('DECRBY', sum_key, gone)
  else
    used = tonumber(redis.call('GET', sum_key)) or 0
  end
  if used < max then return max - used, -1 end
  local wait = window_wait(zkey, window, now)
  if wait < 0 then
    -- a sum without batches (a key removed behind taskq's back): start afresh
    redis.call('DEL', sum_key)
    return max, -1
  end
  return 0, wait
end

-- window_add: records that `count` jobs started now; token makes the member unique.
local function window_add(zkey, sum_key, count, token, now, window)
  redis.call('ZADD', zkey, now, token .. ':' .. count)
  redis.call('INCRBY', sum_key, count)
  redis.call('PEXPIRE', zkey, window)
  redis.call('PEXPIRE', sum_key, window)
end
