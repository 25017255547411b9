--[[ postpone: a handler answered "rate limited, try again after X" (HandlerResult::RateLimited),
or the worker has no handler for the job's type (a rolling deploy: older workers meet a new
type): the claimed jobs wait in delayed until then, and the attempt is not counted. Nothing failed: no
error is recorded, meta.failed is not counted, and the attempts left are what they were before
the claim (a - 1, as release does). A stale token changes nothing.
KEYS[1] active   KEYS[2] delayed   KEYS[3] state
ARGV[1] key base   ARGV[2] n   ARGV[3] max log lines kept per job
ARGV[4 + 4*(i-1) ..] per job: id, token, delay_ms (>= 0) or "handback", a log line ("": none)
  "handback": the worker has no handler for the job's type. The delay is 1 s, doubled for each
  hand-back in a row, at most 60 s; the count is kept in the job's log, whose last line then
  starts "handed back <n> time(s)" (a line logged in between starts the count again). The log
  line is required then; the script prefixes it with the count and the delay.
Returns: an array of n integers: 1 postponed, 0 refused: a stale token, or a job whose cancel was
  requested (it is not handed back, as with release: recover sends it to dead once its lease
  expires).
Writes: the state record gets st = delayed, a - 1, tk = ""; delayed gets the id scored
  now + delay_ms (claim promotes it when due, to the tail of its priority); l:<id> gets the log
  line appended, trimmed to the newest max lines. Grouped jobs free their group's slot
  (slots_freed.lua); when due they go back to their group.
Publishes: "" on base.."wake" when a job was postponed: idle workers re-arm their timers for its
  due time, and a slot of a concurrency limit is free.
Events (events.lua): 'delayed' with the postponed ids, when there are any.
]]
--!include now.lua
--!include state.lua
--!include parts.lua
--!include attempt_end.lua
--!include job_lists.lua
--!include slots_freed.lua
--!include events.lua
local base = ARGV[1]
local n, max_logs = tonumber(ARGV[2]), tonumber(ARGV[3])
if not n or n < 1 or #ARGV ~= 3 + 4 * n or not max_logs or max_logs < 1 then
  return redis.error_reply('ERR invalid arguments')
end
local ids = {}
for i = 0, n - 1 do
  local delay = tonumber(ARGV[6 + 4 * i])
  local handback = ARGV[6 + 4 * i] == 'handback' and ARGV[7 + 4 * i] ~= ''
  if not handback and (not delay or delay < 0 or delay ~= math.floor(delay)) then
    return redis.error_reply('ERR invalid delay at ' .. i)
  end
  ids[i + 1] = ARGV[4 + 4 * i]
end
local now, now_us = now_ms()
-- Everything is read and decided before the first write; long lists go in parts (parts.lua).
local records = read_in_parts('HMGET', KEYS[3], ids)
local results, postponed, states, delayed, seen = {}, {}, {}, {}, {}
local logs = {}  -- {id, line, ...}: appended after the bulk writes
for i = 0, n - 1 do
  local id, token, line = ARGV[4 + 4 * i], ARGV[5 + 4 * i], ARGV[7 + 4 * i]
  local record = leased_record(records[i + 1], id, token, seen)
  if record and record.cx ~= '1' then
    uncount_attempt(record, id, 'delayed', states)
    postponed[#postponed + 1] = id
    local delay = tonumber(ARGV[6 + 4 * i])
    if not delay then  -- "handback", checked above
      local last = redis.call('LINDEX', base .. 'l:' .. id, -1)
      local count = (last and tonumber(string.match(last, '^handed back (%d+) time'))) or 0
      count = count + 1
      delay = math.min(1000 * 2 ^ math.min(count - 1, 6), 60000)
      line = 'handed back ' .. count .. ' time(s), due again in ' .. delay .. ' ms: ' .. line
    end
    delayed[#delayed + 1] = due_after_ms(now_us, delay)
    delayed[#delayed + 1] = id
    if line ~= '' then
      logs[#logs + 1] = id
      logs[#logs + 1] = line
    end
    results[#results + 1] = 1
  else
    results[#results + 1] = 0
  end
end
if #postponed > 0 then
  leave_active(KEYS[1], KEYS[3], states, postponed)
  call_in_parts('ZADD', KEYS[2], delayed)
  for e = 1, #logs, 2 do append_job_log(base, logs[e], max_logs, logs[e + 1]) end
  slots_freed(base, base .. 'meta', postponed, now, true)  -- it publishes below anyway
  redis.call('SPUBLISH', base .. 'wake', '')
  emit_event(base, 'delayed', postponed)
end
return results
