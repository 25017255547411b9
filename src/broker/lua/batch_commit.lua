--[[ batch_commit: writes a batch (flows.lua, docs/workflows.md), or an addition to one, in one
atomic step: its members become waiting or delayed as enqueue.lua would make them, its callbacks
held until the batch finishes.
KEYS[1] wait   KEYS[2] prio   KEYS[3] delayed   KEYS[4] meta   KEYS[5] state   KEYS[6] held
ARGV[1] key base   ARGV[2] u, the batch key (1..64 of [A-Za-z0-9_-])
ARGV[3] keep_ms: how long the batch's keys outlive it (0..10 years; 0: kept); a creation only
ARGV[4] open: 1 holds the callbacks back until batch_close.lua, even when every member settled;
  a creation only
ARGV[5] addition: "" to create the batch; else the addition's id (1..32 of [A-Za-z0-9_-]),
  which makes a repeated addition change nothing
ARGV[6] n, the number of jobs (>= 0 for a creation, >= 1 for an addition)
ARGV[7 + 6*(i-1) ..] per job, as flow_jobs.lua reads them: first the members, ref "<i>" (i from
  0) for a creation and "<addition>-<i>" for an addition, parent "*", policy "fail"; then, in a
  creation, at most one each of the callbacks, ref "on_complete" or "on_success", parent "^",
  policy "fail". A callback's delay counts from its release.
Returns: 1 written; 0 the batch (creation) or the addition exists: nothing written; -2 the key
  belongs to a flow, or one of the ids exists: nothing written; -3 (addition) no such batch;
  -4 (addition) the batch finished or was cancelled: nothing written. Invalid arguments are an
  error reply, and so is a queue with a maximum length the members would pass ("QUEUEFULL ...").
Writes: creation: the record (kind = batch, st = running, g = meta.flows + 1, c, keep, n, open,
  oc = w or -, j:* = the members' join, whose override is 1 when there is no on_success) and a
  tree holding the callbacks; addition: the join's total and pending and n raised, a:<addition>
  = its size. Both: the jobs as flow_jobs.lua writes them. A closed creation with no member
  finishes at once (batch_check).
Publishes: "" on base.."wake" when a job was queued.
Events (events.lua): 'enqueued' with the members, 'held' with the callbacks, flows.lua's for a
  callback released at once.
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
--!include flows.lua
--!include flow_jobs.lua
local base, u, addition = ARGV[1], ARGV[2], ARGV[5]
local keep, open, n = tonumber(ARGV[3]), ARGV[4], tonumber(ARGV[6])
if not is_flow_name(u, 64) or not keep or keep < 0 or keep > kFlowMaxMs
    or keep ~= math.floor(keep) or (open ~= '0' and open ~= '1')
    or (addition ~= '' and not is_flow_name(addition, 32)) or not n or n < 0
    or (addition ~= '' and n < 1) or n ~= math.floor(n) or #ARGV ~= 6 + 6 * n then
  return redis.error_reply('ERR invalid arguments')
end
local jobs, by_ref = flow_jobs_read(u, 7, n)
if not jobs then return redis.error_reply(by_ref) end
local members, callbacks = {}, {}
for i, job in ipairs(jobs) do
  local ok
  if job.parent == '^' then
    ok = addition == '' and (job.ref == 'on_complete' or job.ref == 'on_success')
    job.held = true
    callbacks[job.ref] = job
  else
    local expected = tostring(#members)
    if addition ~= '' then expected = addition .. '-' .. expected end
    ok = job.parent == '*' and job.ref == expected and next(callbacks) == nil
    members[#members + 1] = job
  end
  if not ok or job.policy ~= 'fail' then
    return redis.error_reply('ERR invalid batch job at ' .. (i - 1))
  end
end

local record = base .. 'flow:' .. u
local found = redis.call('HMGET', record, 'kind', 'g', 'sd', 'j:*')
local gen
if addition == '' then
  if found[1] == 'batch' then return 0 end
  if found[2] then return -2 end
else
  if found[1] ~= 'batch' then return -3 end
  if redis.call('HEXISTS', record, 'a:' .. addition) == 1 then return 0 end
  local join = join_decode(found[4])
  if found[3] == '1' or not join or join.st == 'x' then return -4 end
  gen = found[2]
end
if not flow_jobs_free(base, jobs) then return -2 end
local full = flow_jobs_room(KEYS, base, jobs)
if full then return redis.error_reply(full) end

local now, now_us = now_ms()
local m = #members
if addition == '' then
  gen = redis.call('HINCRBY', KEYS[4], 'flows', 1)
  local fields = {'kind', 'batch', 'st', 'running', 'g', gen, 'c', now, 'keep', keep, 'n', n,
                  'open', open, 'oc', callbacks.on_complete and 'w' or '-',
                  'j:*', 'w:' .. m .. ':' .. m .. ':0:0:0:0:' .. (callbacks.on_success and 0 or 1)}
  redis.call('HSET', record, unpack(fields))
  local tree = {}
  for ref in pairs(callbacks) do
    tree[#tree + 1] = ref
    tree[#tree + 1] = '^\tfail'
  end
  if #tree > 0 then redis.call('HSET', record .. ':tree', unpack(tree)) end
else
  local join = join_decode(found[4])
  join.total, join.pending = join.total + m, join.pending + m
  redis.call('HSET', record, 'j:*', join_encode(join), 'a:' .. addition, m)
  redis.call('HINCRBY', record, 'n', m)
end
flow_jobs_write(KEYS, base, u, gen, jobs, now, now_us)
if addition == '' and m == 0 and open == '0' then
  local ctx = flow_ctx(base, now)
  batch_check(ctx, u, record, nil)
  flow_events(ctx)
end
return 1
