--[[ complete: records the success of claimed jobs. A job whose lease this worker no longer holds
(token mismatch: the lease expired and the job was recovered, or it was finished already) is left
untouched: the fencing token makes a late completion harmless.
KEYS[1] active   KEYS[2] completed   KEYS[3] meta   KEYS[4] state   KEYS[5] result
ARGV[1] key base   ARGV[2] n   ARGV[3] keep_count   ARGV[4] keep_age_ms
ARGV[5 + 3*(i-1) ..] per job: id, token, result (JSON text; "null" is not stored). A token of ""
  stands for the token of the job before it in this call (jobs of one claim share a token: a
  batch sends each once); for the first job it is rejected. Tokens are base-36 texts (claim.lua).
Returns: an array of n integers: 1 completed, 0 rejected (stale token).
Writes: the state record gets st = completed, tf = now, tk = ""; result gets the result; completed
  gets id scored now; then the retention (keep_count, keep_age_ms) is applied to the completed
  zset. meta.completed counts completions. Unique keys the jobs held are released (unique.lua).
  A job with a completion callback gets an outbox entry, and loses its hook (hooks.lua). A flow's
  job is counted in its parent's join, which may release the parent (flows.lua).
Publishes: "" on base.."wake" when the queue has a concurrency limit (a slot is free).
Cost: a fixed number of Redis calls per batch (about 8, plus about 9 when retention removes
  jobs: delete_jobs.lua, plus 3 and one per callback when some job has a hook).
Events (events.lua): 'completed' with the completed ids, when there are any.
]]
--!include now.lua
--!include events.lua
--!include state.lua
--!include parts.lua
--!include unique.lua
--!include delete_jobs.lua
--!include job_lists.lua
--!include requeue.lua
--!include group_unqueue.lua
--!include hooks.lua
--!include flows.lua
--!include slots_freed.lua
-- kStatePattern (state.lua) cut into what a completion keeps: 4 captures where decoding takes 8
-- and builds a table, a measurable share of this hot script's instructions.
local kCompletablePattern = '^%a*:(%d+:%d+:%d+:)%d+(:%-?%d+:)(%w*):([01])$'
local base = ARGV[1]
local n, keep_count, keep_age = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
if not n or n < 1 or #ARGV ~= 4 + 3 * n or not keep_count or not keep_age then
  return redis.error_reply('ERR invalid arguments')
end
local now = now_ms()
local ids = {}
for i = 0, n - 1 do ids[i + 1] = ARGV[5 + 3 * i] end
local records = read_in_parts('HMGET', KEYS[4], ids)  -- any batch size: long lists go in parts
local results, done, scored, states, stored, finished = {}, {}, {}, {}, {}, {}
local now_s = tostring(now)
local previous_token = ''
for i = 0, n - 1 do
  local id, token, result = ARGV[5 + 3 * i], ARGV[6 + 3 * i], ARGV[7 + 3 * i]
  if token == '' then token = previous_token else previous_token = token end
  local head, p, tk, cx  -- "a:s:ts:", ":p:", the token, cx: all the completed record keeps
  if records[i + 1] then head, p, tk, cx = string.match(records[i + 1], kCompletablePattern) end
  if token ~= '' and tk == token and not finished[id] then
    finished[id] = true  -- a repeated id in one batch is then stale
    states[#states + 1] = id
    states[#states + 1] = 'completed:' .. head .. now_s .. p .. ':' .. cx
    if result ~= 'null' then
      stored[#stored + 1] = id
      stored[#stored + 1] = result
    end
    done[#done + 1] = id
    scored[#scored + 1] = now_s
    scored[#scored + 1] = id
    results[#results + 1] = 1
  else
    results[#results + 1] = 0
  end
end
if #done > 0 then
  local hooked = hooks_read(base, done)  -- before the first write
  local details = {}  -- the accepted results ("null" ones are not stored, and default to it)
  if hooked then
    for s = 1, #stored, 2 do details[stored[s]] = stored[s + 1] end
  end
  call_in_parts('HSET', KEYS[4], states)
  if #stored > 0 then call_in_parts('HSET', KEYS[5], stored) end
  call_in_parts('ZREM', KEYS[1], done)
  call_in_parts('ZADD', KEYS[2], scored)
  redis.call('HINCRBY', KEYS[3], 'completed', #done)
  unique_release(base, done)
  -- Slots before retention: retention may delete these very jobs, and with them the group entries
  -- slots_freed reads (a group's active count would then never go down).
  slots_freed(base, KEYS[3], done, now, false)
  hooks_finished(base, hooked, 'completed', now_s, details)
  flow_events(flow_finish_jobs(base, hooked, 'completed', now, details))
  trim_finished(base, KEYS[2], keep_count, keep_age, now)
  emit_event(base, 'completed', done)
end
return results
