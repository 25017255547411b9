--[[ fail: records a failed attempt of claimed jobs; each either waits in retry for its backoff
delay or, with no retry left, goes to the dead-letter zset. A stale token changes nothing.
KEYS[1] active   KEYS[2] retry   KEYS[3] dead   KEYS[4] meta   KEYS[5] state
ARGV[1] key base   ARGV[2] n   ARGV[3] max errors kept per job
ARGV[4] dead keep_count   ARGV[5] dead keep_age_ms
ARGV[6 + 3*(i-1) ..] per job: id, token, retry_delay_ms
ARGV[6 + 3*n + (i-1)] per job: the error, a JSON object; the script adds "at" (now) in front.
  retry_delay_ms >= 0: retry after that delay (the worker decided from max_attempts and backoff);
  -1: no retry, the job is dead. A job whose cancel was requested (cx = 1) is dead either way.
Returns: an array of n integers: 2 retrying, 3 dead, 0 rejected (stale token).
Writes: e:<id> gets the error pushed at its head, trimmed to the cap (job_lists.lua); the state
  record gets st = retrying | dead, tk = "", and for dead jobs tf = now; retry/dead gets the id;
  retention is applied to dead; meta.failed counts the attempts, meta.retried and meta.dead
  the jobs that went to retry and to dead. Unique keys held by dead jobs are released
  (unique.lua). A dead job with a completion callback gets an outbox entry (hooks.lua). A flow's
  job gone dead is counted in its parent's join, which may fail or release the parent, and so on
  up the tree (flows.lua), before the retention is applied.
Publishes: "" on base.."wake" when a job went to retry, so idle workers re-arm their timers, or
  when the queue has a concurrency limit (a slot is free).
Events (events.lua): 'retrying' and 'dead' with those ids, when there are any.
]]
--!include now.lua
--!include events.lua
--!include state.lua
--!include parts.lua
--!include attempt_end.lua
--!include unique.lua
--!include job_lists.lua
--!include delete_jobs.lua
--!include requeue.lua
--!include group_unqueue.lua
--!include hooks.lua
--!include flows.lua
--!include slots_freed.lua
local base = ARGV[1]
local n, max_errors = tonumber(ARGV[2]), tonumber(ARGV[3])
local keep_count, keep_age = tonumber(ARGV[4]), tonumber(ARGV[5])
if not n or n < 1 or #ARGV ~= 5 + 4 * n or not max_errors or max_errors < 1 or not keep_count
    or not keep_age then
  return redis.error_reply('ERR invalid arguments')
end
local ids = {}
for i = 0, n - 1 do
  local delay = tonumber(ARGV[8 + 3 * i])
  local err = ARGV[6 + 3 * n + i]
  if not delay or delay < -1 or string.sub(err, 1, 1) ~= '{' or #err < 3 then
    return redis.error_reply('ERR invalid retry delay or error at ' .. i)
  end
  ids[i + 1] = ARGV[6 + 3 * i]
end
local now, now_us = now_ms()
local now_s = tostring(now)
-- Everything is read and decided before the first write; long lists go in parts (parts.lua).
local records = read_in_parts('HMGET', KEYS[5], ids)
local results, left_active, states, retry, dead, finished = {}, {}, {}, {}, {}, {}
local errors = {}  -- {id, entry, ...}: pushed after the bulk writes
for i = 0, n - 1 do
  local id, token, delay = ARGV[6 + 3 * i], ARGV[7 + 3 * i], tonumber(ARGV[8 + 3 * i])
  local record = leased_record(records[i + 1], id, token, finished)
  if record then
    errors[#errors + 1] = id
    errors[#errors + 1] = '{"at":' .. now_s .. ',' .. string.sub(ARGV[6 + 3 * n + i], 2)
    left_active[#left_active + 1] = id
    record.tk = ''
    if delay >= 0 and record.cx ~= '1' then  -- a cancelled job is never retried
      record.st = 'retrying'
      retry[#retry + 1] = due_after_ms(now_us, delay)  -- a number: converted once per job
      retry[#retry + 1] = id
      results[#results + 1] = 2
    else
      record.st = 'dead'
      record.tf = now_s
      dead[#dead + 1] = now_s
      dead[#dead + 1] = id
      results[#results + 1] = 3
    end
    states[#states + 1] = id
    states[#states + 1] = encode_state(record)
  else
    results[#results + 1] = 0
  end
end
local hooked = hooks_read(base, ids_of_scored(dead))  -- before the first write
local details = {}
if hooked then
  for e = 1, #errors, 2 do details[errors[e]] = errors[e + 1] end
end
if #left_active > 0 then
  leave_active(KEYS[1], KEYS[5], states, left_active)
  redis.call('HINCRBY', KEYS[4], 'failed', #left_active)
  for e = 1, #errors, 2 do push_job_error(base, errors[e], errors[e + 1], max_errors) end
end
slots_freed(base, KEYS[4], left_active, now, #retry > 0)  -- a retry publishes below
if #retry > 0 then
  call_in_parts('ZADD', KEYS[2], retry)
  redis.call('HINCRBY', KEYS[4], 'retried', #retry / 2)
  redis.call('SPUBLISH', base .. 'wake', '')
  emit_event(base, 'retrying', ids_of_scored(retry))
end
if #dead > 0 then
  call_in_parts('ZADD', KEYS[3], dead)
  redis.call('HINCRBY', KEYS[4], 'dead', #dead / 2)
  unique_release(base, dead, 2)
  hooks_finished(base, hooked, 'dead', now_s, details)
  flow_events(flow_finish_jobs(base, hooked, 'dead', now, details))
  trim_finished(base, KEYS[3], keep_count, keep_age, now)
  emit_event(base, 'dead', ids_of_scored(dead))
end
return results
