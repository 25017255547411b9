--[[ recover: returns jobs whose lease expired (their worker died or hung) to the head of waiting,
counting a stall; a job that stalled more than max_stalls times, or whose cancel was requested,
goes to dead instead. Clearing the
token makes the old worker's late complete/fail a no-op.
KEYS[1] active   KEYS[2] wait   KEYS[3] prio   KEYS[4] dead   KEYS[5] meta   KEYS[6] state
ARGV[1] key base   ARGV[2] max_stalls (>= 0)   ARGV[3] limit per call (1..1000)   ARGV[4] max errors kept
ARGV[5] dead keep_count   ARGV[6] dead keep_age_ms
Returns: {requeued, dead}
Writes: state record s + 1, tk = "", st = waiting | dead (tf = now); e:<id> gets a
  "lease expired" error for dead jobs; meta.stalled counts, and meta.dead the jobs gone dead; overrun marks (overrun.lua) are
  dropped. Requeued jobs keep the order in which their leases expired, at the head of their
  priority. Unique keys held by dead jobs are released (unique.lua). A dead job with a
  completion callback gets an outbox entry (hooks.lua); a flow's job gone dead is counted in its
  parent's join (flows.lua).
Publishes: "" on base.."wake" when a job was requeued, or went dead in a queue with a concurrency
  limit (a slot is free).
Events (events.lua): 'waiting' (requeued) and 'dead' with those ids, when there are any.
]]
--!include now.lua
--!include events.lua
--!include parts.lua
--!include state.lua
--!include unique.lua
--!include job_lists.lua
--!include delete_jobs.lua
--!include hooks.lua
--!include requeue.lua
--!include group_unqueue.lua
--!include flows.lua
--!include slots_freed.lua
local base = ARGV[1]
local max_stalls, limit, max_errors = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local keep_count, keep_age = tonumber(ARGV[5]), tonumber(ARGV[6])
if not max_stalls or max_stalls < 0 or max_stalls ~= math.floor(max_stalls) or not limit
    or limit < 1 or limit > 1000 or not max_errors or max_errors < 1
    or not keep_count or not keep_age then
  return redis.error_reply('ERR invalid arguments')
end
local now = now_ms()
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. now, 'LIMIT', 0, limit)
if #expired == 0 then return {0, 0} end
redis.call('ZREM', KEYS[1], unpack(expired))
redis.call('HDEL', base .. 'overrun', unpack(expired))  -- their overrun marks (overrun.lua)
local records = redis.call('HMGET', KEYS[6], unpack(expired))
local states, requeued, priorities, dead, errors = {}, {}, {}, {}, {}
for i, id in ipairs(expired) do
  local record = decode_state(records[i]) or decode_state(nil)
  record.s = tonumber(record.s) + 1
  record.tk = ''
  if record.s > max_stalls or record.cx == '1' then
    local message = 'lease expired ' .. record.s .. ' times (worker died or hung)'
    if record.cx == '1' then message = 'cancelled (its lease expired before it stopped)' end
    errors[id] = '{"at":' .. now .. ',"attempt":' .. record.a .. ',"message":"' .. message ..
      '"}'
    push_job_error(base, id, errors[id], max_errors)
    record.st = 'dead'
    record.tf = now
    dead[#dead + 1] = now
    dead[#dead + 1] = id
  else
    record.st = 'waiting'
    requeued[#requeued + 1] = id
    priorities[#requeued] = tonumber(record.p)
  end
  states[#states + 1] = id
  states[#states + 1] = encode_state(record)
end
redis.call('HSET', KEYS[6], unpack(states))
redis.call('HINCRBY', KEYS[5], 'stalled', #expired)
slots_freed(base, KEYS[5], expired, now, #requeued > 0)  -- a requeue publishes below
requeue(base, KEYS[2], KEYS[3], KEYS[5], requeued, priorities, true)
if #dead > 0 then
  redis.call('ZADD', KEYS[4], unpack(dead))
  redis.call('HINCRBY', KEYS[5], 'dead', #dead / 2)
  unique_release(base, dead, 2)
  local hooked = hooks_read(base, ids_of_scored(dead))
  hooks_finished(base, hooked, 'dead', now, errors)
  flow_events(flow_finish_jobs(base, hooked, 'dead', now, errors))
  trim_finished(base, KEYS[4], keep_count, keep_age, now)
end
if #requeued > 0 then redis.call('SPUBLISH', base .. 'wake', '') end
emit_event(base, 'waiting', requeued)
emit_event(base, 'dead', ids_of_scored(dead))
return {#requeued, #dead / 2}
