--[[ flow_commit: writes a whole flow (docs/workflows.md) in one atomic step: its leaves become
waiting or delayed as enqueue.lua would make them, its parents held until their children settle
(flows.lua). Nothing of it runs before all of it exists.
KEYS[1] wait   KEYS[2] prio   KEYS[3] delayed   KEYS[4] meta   KEYS[5] state   KEYS[6] held
ARGV[1] key base   ARGV[2] u, the flow key (1..64 of [A-Za-z0-9_-])
ARGV[3] keep_ms: how long the flow's keys outlive it (0..10 years; 0: kept): they expire once
  its root finished and no parent is held (flows.lua)
ARGV[4] n, the number of jobs (>= 1)
ARGV[5 + 6*(i-1) ..] per job: ref, parent ref ("" for the root), policy (what its death does to
  its parent), id, body, options, as flow_jobs.lua reads them. A parent's delay counts from its
  release.
ARGV[5 + 6n] m, the number of jobs of other queues (remote jobs; 0 when the flow is in one
  queue), then m times: ref, queue (a queue name; the root is never remote). Their ids are
  checked in their queues when they are delivered (flow_deliver.lua).
Returns: 1 created; 0 a flow with this key exists (nothing written); -2 no such flow, but one of
  the ids exists, or the key is a batch's (nothing written). Invalid arguments (refs, parents that are not a tree with one
  root, ids, bodies, options) are an error reply, and so is a queue with a maximum length that
  the leaves would pass ("QUEUEFULL ...", as enqueue.lua): nothing is written.
Writes: the record (st = running, g = meta.flows + 1, its generation, which meta.flows then
  holds; c = now, keep, n, j:<ref> per parent = its join, all children pending), the tree, the
  bodies, a hook per job (naming the generation), the group entries; leaves into wait, prio, a
  group's zset or delayed, with a state record when their priority is not 0; parents into held
  with a state record (st = held). meta.enqueued counts every job written here but parked ones
  (their own queue counts them when they are dispatched there).
  Remote jobs (flows.lua, "Flows across queues"): a remote parent is written held, parked (hook
  flag "q", no group entry), with "o:"..ref = queue.."\t"..options in the record; a remote leaf
  is not written here: an outbox entry "fd" asks for its dispatch, and "d:"..ref = "0:p". Tree
  rows of remote jobs end with "\t"..queue.
Publishes: "" on base.."wake" when a leaf was queued.
Events (events.lua): 'enqueued' with the leaves, 'held' with the parents.
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
local base, u = ARGV[1], ARGV[2]
local keep, n = tonumber(ARGV[3]), tonumber(ARGV[4])
if not is_flow_name(u, 64) or not keep or keep < 0 or keep > kFlowMaxMs
    or keep ~= math.floor(keep) or not n or n < 1 or n ~= math.floor(n) or #ARGV < 5 + 6 * n then
  return redis.error_reply('ERR invalid arguments')
end
local m = tonumber(ARGV[5 + 6 * n])
if not m or m < 0 or m > n or m ~= math.floor(m) or #ARGV ~= 5 + 6 * n + 2 * m then
  return redis.error_reply('ERR invalid arguments')
end
local jobs, by_ref = flow_jobs_read(u, 5, n)
if not jobs then return redis.error_reply(by_ref) end
for i = 0, m - 1 do
  local a = 6 + 6 * n + 2 * i
  local job = by_ref[ARGV[a]]
  if not job or job.queue or job.parent == '' or not is_queue_name(ARGV[a + 1]) then
    return redis.error_reply('ERR invalid remote job at ' .. i)
  end
  job.queue = ARGV[a + 1]
end
local root = nil
for i, job in ipairs(jobs) do
  if job.parent == '' then
    if root then return redis.error_reply('ERR two roots') end
    root = job
  else
    local parent = by_ref[job.parent]
    if not parent or parent == job then
      return redis.error_reply('ERR unknown parent at ' .. (i - 1))
    end
    parent.children = parent.children + 1
    parent.held = true
  end
end
if not root then return redis.error_reply('ERR no root') end
-- A tree: every job reached from the root (a cycle is reached by none).
local kids = {}
for _, job in ipairs(jobs) do
  if job.parent ~= '' then
    kids[job.parent] = kids[job.parent] or {}
    table.insert(kids[job.parent], job.ref)
  end
end
local reached, stack = 0, {root.ref}
while #stack > 0 do
  local ref = table.remove(stack)
  reached = reached + 1
  for _, child in ipairs(kids[ref] or {}) do stack[#stack + 1] = child end
end
if reached ~= n then return redis.error_reply('ERR the jobs are not a tree') end

local record = base .. 'flow:' .. u
local found, kind = unpack(redis.call('HMGET', record, 'g', 'kind'))
if kind == 'batch' then return -2 end
if found then return 0 end
-- The jobs written here: the flow's own, and parked parents; remote leaves are dispatched.
local here, dispatched = {}, {}
for _, job in ipairs(jobs) do
  if not job.queue or job.held then
    if job.queue then job.parked = true end
    here[#here + 1] = job
  else
    dispatched[#dispatched + 1] = job
  end
end
if not flow_ids_free(base, flow_jobs_ids(here)) then return -2 end
local full = flow_jobs_room(KEYS, base, flow_jobs_ready(here))
if full then return redis.error_reply(full) end

local now, now_us = now_ms()
local gen = redis.call('HINCRBY', KEYS[4], 'flows', 1)
local tree = {}
local fields = {'st', 'running', 'g', gen, 'c', now, 'keep', keep, 'n', n}
for _, job in ipairs(jobs) do
  tree[#tree + 1] = job.ref
  tree[#tree + 1] = job.parent .. '\t' .. job.policy .. (job.queue and '\t' .. job.queue or '')
  if job.held then
    fields[#fields + 1] = 'j:' .. job.ref
    fields[#fields + 1] = 'w:' .. job.children .. ':' .. job.children .. ':0:0:0:0:0'
  end
  if job.parked then
    fields[#fields + 1] = 'o:' .. job.ref
    fields[#fields + 1] = job.queue .. '\t' .. job.options
  elseif job.queue then
    fields[#fields + 1] = 'd:' .. job.ref
    fields[#fields + 1] = '0:p'
  end
end
call_in_parts('HSET', record .. ':tree', tree)
call_in_parts('HSET', record, fields)
flow_jobs_write(KEYS, base, u, gen, here, now, now_us)
local created = '{"c":' .. now .. ','
for _, job in ipairs(dispatched) do
  flow_send_dispatch(base, job.queue, u, gen, job.ref, job.parent, job.policy,
                     created .. string.sub(job.body, 2), job.options, keep)
end
return 1
