--[[ flow_apply: counts, in a flow's queue (its home), what jobs of the flow in another queue
reported (flows.lua, "Flows across queues"), in the order they were written: a finish
(completed or dead) and a retry from dead. A report counts only when the record expects it (its
"d:"..ref is epoch..":p" for a finish, (epoch - 1)..":d" for a retry), so one applied twice, or
after a later one, changes nothing. What a count decides follows as in the finishing scripts: a
parent released (a parked one dispatched) or failed, up the tree; a retry revives what its
death had failed.
KEYS[1] wait   KEYS[2] prio   KEYS[3] delayed   KEYS[4] meta   KEYS[5] state   KEYS[6] held
ARGV[1] key base   ARGV[2] the queue the reports come from (the jobs' queue, as the tree names
  it)   ARGV[3] n (1..1000)
ARGV[4 + 7*(i-1) ..] per report: kind ("ff" finish, "fr" retry), u (the flow key), gen (the
  flow's generation), ref, epoch (ff: the job's; fr: its new one), outcome ("completed" or "dead";
  fr: ""), text (ff: the result, or the last error, as JSON; fr: "")
Returns: the number of reports counted.
Writes: the record's "d:"..ref; what flows.lua's steps write (joins, results, released or failed
  parents, outbox entries).
Events: flows.lua's.
Invalid arguments are an error reply, and nothing is written.
]]
--!include now.lua
--!include queue_entry.lua
--!include events.lua
--!include state.lua
--!include parts.lua
--!include requeue.lua
--!include job_lists.lua
--!include group_unqueue.lua
--!include hooks.lua
--!include delete_jobs.lua
--!include flows.lua
--!include flow_jobs.lua
local base, source, n = ARGV[1], ARGV[2], tonumber(ARGV[3])
if not is_queue_name(source) or not n or n < 1 or n > 1000 or n ~= math.floor(n)
    or #ARGV ~= 3 + 7 * n then
  return redis.error_reply('ERR invalid arguments')
end
local reports = {}
for i = 0, n - 1 do
  local a = 4 + 7 * i
  local r = {kind = ARGV[a], u = ARGV[a + 1], gen = ARGV[a + 2], ref = ARGV[a + 3],
             epoch = tonumber(ARGV[a + 4]), outcome = ARGV[a + 5], text = ARGV[a + 6]}
  local outcome_ok = (r.kind == 'ff' and (r.outcome == 'completed' or r.outcome == 'dead'))
    or (r.kind == 'fr' and r.outcome == '' and r.epoch and r.epoch >= 1)
  if not outcome_ok or not is_flow_name(r.u, 64) or not string.match(r.gen, '^%d+$')
      or not is_flow_name(r.ref, 32) or not string.match(ARGV[a + 4], '^%d+$') then
    return redis.error_reply('ERR invalid report at ' .. i)
  end
  if r.text == '' then r.text = 'null' end
  reports[#reports + 1] = r
end

local ctx = flow_ctx(base, now_ms())
local counted = 0
for _, r in ipairs(reports) do
  local record = base .. 'flow:' .. r.u
  local g, known = unpack(redis.call('HMGET', record, 'g', 'd:' .. r.ref))
  local parent, policy, queue = flow_tree_row(redis.call('HGET', record .. ':tree', r.ref) or '')
  if g == r.gen and known and parent and parent ~= '' and queue == source then
    local h = {u = r.u, gen = r.gen, ref = r.ref, parent = parent, policy = policy}
    local id = r.u .. '.' .. r.ref
    if r.kind == 'ff' and known == r.epoch .. ':p' then
      redis.call('HSET', record, 'd:' .. r.ref,
                 r.epoch .. (r.outcome == 'completed' and ':c' or ':d'))
      flow_count(ctx, id, h, r.outcome, r.text)
      counted = counted + 1
    elseif r.kind == 'fr' and known == (r.epoch - 1) .. ':d' then
      flow_settle(ctx)  -- the reports before it first
      redis.call('HSET', record, 'd:' .. r.ref, r.epoch .. ':p')
      flow_revive(ctx, id, h)
      counted = counted + 1
    end
  end
end
flow_settle(ctx)
flow_events(ctx)
return counted
