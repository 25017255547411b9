--[[ batch_commit: writes a batch (flows.lua, docs/workflows.md), or an addition to one, in one
atomic step: its members become waiting or delayed as enqueue.lua would make them, its callbacks
held until the batch finishes.
KEYS[1] wait   KEYS[2] prio   KEYS[3] delayed   KEYS[4] meta   KEYS[5] state   KEYS[6] held
ARGV[1] key base   ARGV[2] u, the batch key (1..64 of [A-Za-z0-9_-])
ARGV[3] keep_ms: how long the batch's keys outlive it (0..10 years; 0: kept); a creation only
ARGV[4] open: 1 holds the callbacks back until batch_close.lua, even when every member settled;
  a creation only
ARGV[5] addition: "" to create the batch; else the addition's id (1..24 of [A-Za-z0-9_-]),
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
  oc and os = w or -, j:* = the members' join, whose override is 1 when there is no on_success) and a
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
--!include delete_jobs.lua
--!include flows.lua
--!include flow_jobs.lua
-- An addition's id leaves room in a ref (32 bytes) for "-" and a position of up to 7 digits.
local kMaxAdditionBytes = 24
local base, u, addition = ARGV[1], ARGV[2], ARGV[5]
local keep, open, n = tonumber(ARGV[3]), ARGV[4], tonumber(ARGV[6])
if #ARGV < 6 or not is_flow_name(u, 64) or not keep or keep < 0 or keep > kFlowMaxMs
    or keep ~= math.floor(keep) or (open ~= '0' and open ~= '1')
    or (addition ~= '' and not is_flow_name(addition, kMaxAdditionBytes)) or not n or n < 0
    or (addition ~= '' and n < 1) or n ~= math.floor(n) or #ARGV ~= 6 + 6 * n then
  return redis.error_reply('ERR invalid arguments')
end
-- The members come first (parent "*"). When they are all plain (options "0:0:-1") and the queue
-- has no group field and no aging, they take enqueue.lua's way for a common bulk: no table per
-- job, one HSET of bodies, one of hooks (all the same: flow_hook_value), one RPUSH.
-- The ref of the i-th member (from 0) of this creation or addition.
local function member_ref(i)
  if addition == '' then return tostring(i) end
  return addition .. '-' .. i
end
local m = 0
while m < n and ARGV[8 + 6 * m] == '*' do m = m + 1 end
local queue_config = redis.call('HMGET', KEYS[4], 'gf', 'ag')
local plain = m > 0 and not queue_config[1] and not queue_config[2]
for i = 0, m - 1 do
  if ARGV[12 + 6 * i] ~= kPlainJobOptions then
    plain = false
    break
  end
end
local jobs, member_ids = nil, {}
if plain then
  for i = 0, m - 1 do
    local a = 7 + 6 * i
    local ref, id, body = ARGV[a], ARGV[a + 3], ARGV[a + 4]
    if ref ~= member_ref(i) or ARGV[a + 2] ~= 'fail' or id ~= u .. '.' .. ref or #body < 3
        or string.byte(body, 1) ~= 123 then
      return redis.error_reply('ERR invalid batch job at ' .. i)
    end
    member_ids[i + 1] = id
  end
  local err
  jobs, err = flow_jobs_read(u, 7 + 6 * m, n - m)
  if not jobs then return redis.error_reply(err) end
else
  local err
  jobs, err = flow_jobs_read(u, 7, n)
  if not jobs then return redis.error_reply(err) end
end
local members, callbacks = {}, {}
for i, job in ipairs(jobs) do
  local ok
  if job.parent == '^' then
    ok = addition == '' and (job.ref == 'on_complete' or job.ref == 'on_success')
    job.held = true
    callbacks[job.ref] = job
  else
    ok = not plain and job.parent == '*' and job.ref == member_ref(#members)
      and next(callbacks) == nil
    members[#members + 1] = job
  end
  if not ok or job.policy ~= 'fail' then
    return redis.error_reply('ERR invalid batch job at ' .. (plain and m + i - 1 or i - 1))
  end
end
if plain then
  m = #member_ids
else
  m = #members
  member_ids = flow_jobs_ids(members)
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
local ids = flow_jobs_ids(jobs)
for _, id in ipairs(member_ids) do ids[#ids + 1] = id end
if not flow_ids_free(base, ids) then return -2 end
local full = flow_jobs_room(KEYS, base, m)
if full then return redis.error_reply(full) end

local now, now_us = now_ms()
if addition == '' then
  gen = redis.call('HINCRBY', KEYS[4], 'flows', 1)
  local fields = {'kind', 'batch', 'st', 'running', 'g', gen, 'c', now, 'keep', keep, 'n', n,
                  'open', open, 'oc', callbacks.on_complete and 'w' or '-',
                  'os', callbacks.on_success and 'w' or '-',
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
if plain then
  local prefix = '{"c":' .. now .. ','
  local hook = flow_hook_value(false, u, gen, '*', '*', 'fail')
  local bodies, hooks = {}, {}
  for i = 0, m - 1 do
    local id = member_ids[i + 1]
    bodies[2 * i + 1], bodies[2 * i + 2] = id, prefix .. string.sub(ARGV[11 + 6 * i], 2)
    hooks[2 * i + 1], hooks[2 * i + 2] = id, hook
  end
  call_in_parts('HSET', base .. 'jobs', bodies)
  call_in_parts('HSET', base .. 'hooks', hooks)
  call_in_parts('RPUSH', KEYS[1], member_ids)
  redis.call('HINCRBY', KEYS[4], 'enqueued', m)
  redis.call('SPUBLISH', base .. 'wake', '')
  emit_event(base, 'enqueued', member_ids)
end
flow_jobs_write(KEYS, base, u, gen, jobs, now, now_us)
if addition == '' and m == 0 and open == '0' then
  local ctx = flow_ctx(base, now)
  batch_check(ctx, u, record, nil)
  flow_events(ctx)
end
return 1
