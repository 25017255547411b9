-- A schedule's state record: field <id> of the `{:schedules}:state` hash,
-- "rev:next:runs:last_fire:paused:created:last_job" = revision of the definition (grows by one
-- with every change of it), next fire time in ms (-1: ended, fires no more), jobs enqueued for
-- fire times so far, the latest fire time enqueued (0: none), paused (0/1), created (Redis ms),
-- id of the latest job enqueued ("" before the first). The job id comes last because it may
-- contain ':'. The schedule is in the `due` zset (score = next) exactly when next >= 0 and it is
-- not paused.
local kSchedulePattern = '^(%d+):(%-?%d+):(%d+):(%d+):([01]):(%d+):(.*)$'

-- The record as a table of strings; nil when absent or malformed.
local function decode_schedule(value)
  if not value then return nil end
  local rev, next_, runs, last, paused, created, job = string.match(value, kSchedulePattern)
  if not rev then return nil end
  return {rev = rev, next = next_, runs = runs, last = last, paused = paused, created = created,
          job = job}
end

local function encode_schedule(r)
  return r.rev .. ':' .. r.next .. ':' .. r.runs .. ':' .. r.last .. ':' .. r.paused .. ':' ..
    r.created .. ':' .. r.job
end

-- Writes the record and keeps the due zset in step with it.
local function store_schedule(state_key, due_key, id, r)
  redis.call('HSET', state_key, id, encode_schedule(r))
  if tonumber(r.next) >= 0 and r.paused == '0' then
    redis.call('ZADD', due_key, r.next, id)
  else
    redis.call('ZREM', due_key, id)
  end
end

-- A decimal integer argument (optionally negative), or nil.
local function integer_arg(text)
  if not text or not string.match(text, '^%-?%d+$') or #text > 16 then return nil end
  return tonumber(text)
end
