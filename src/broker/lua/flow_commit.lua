--[[ flow_commit: writes a whole flow (docs/workflows.md) in one atomic step: its leaves become
waiting or delayed as enqueue.lua would make them, its parents held until their children settle
(flows.lua). Nothing of it runs before all of it exists.
KEYS[1] wait   KEYS[2] prio   KEYS[3] delayed   KEYS[4] meta   KEYS[5] state   KEYS[6] held
ARGV[1] key base   ARGV[2] u, the flow key (1..64 of [A-Za-z0-9_-])
ARGV[3] keep_ms: how long the flow's keys outlive it (0..10 years; 0: kept): they expire once
  its root finished and no parent is held (flows.lua)
ARGV[4] n, the number of jobs (>= 1)
ARGV[5 + 6*(i-1) ..] per job: ref (1..32 of [A-Za-z0-9_-]), parent ref ("" for the root),
  policy (fail | ignore | continue: what its death does to its parent), id (u.."."..ref), body
  (a JSON object; "c" is added in front), options: flags "h" (a completion callback) and "l"
  (LIFO) first, then "priority:delay_ms:run_at_ms" or "priority:delay_ms:run_at_ms:group" as in
  enqueue.lua (delay_ms at most 10 years, run_at_ms -1 or at most 2200-01-01). A parent's delay
  counts from its release.
Returns: 1 created; 0 a flow with this key exists (nothing written); -2 no such flow, but one of
  the ids exists (nothing written). Invalid arguments (refs, parents that are not a tree with one
  root, ids, bodies, options) are an error reply, and so is a queue with a maximum length that
  the leaves would pass ("QUEUEFULL ...", as enqueue.lua): nothing is written.
Writes: the record (st = running, g = meta.flows + 1, its generation, which meta.flows then
  holds; c = now, keep, n, j:<ref> per parent = its join, all children pending), the tree, the
  bodies, a hook per job (naming the generation), the group entries; leaves into wait, prio, a
  group's zset or delayed, with a state record when their priority is not 0; parents into held
  with a state record (st = held). meta.enqueued counts every job.
Publishes: "" on base.."wake" when a leaf was queued.
Events (events.lua): 'enqueued' with the leaves, 'held' with the parents.
]]
--!include now.lua
--!include queue_entry.lua
--!include events.lua
--!include state.lua
--!include parts.lua
--!include requeue.lua
local base, u = ARGV[1], ARGV[2]
local keep, n = tonumber(ARGV[3]), tonumber(ARGV[4])
local function is_name(text, max)
  return #text >= 1 and #text <= max and not string.find(text, '[^%w_%-]')
end
local kMaxMs = 315360000000  -- 10 years: a retention or a delay
local kMaxRunAtMs = 7258118400000  -- 2200-01-01
if not is_name(u, 64) or not keep or keep < 0 or keep > kMaxMs or keep ~= math.floor(keep)
    or not n or n < 1
    or n ~= math.floor(n) or #ARGV ~= 4 + 6 * n then
  return redis.error_reply('ERR invalid arguments')
end
local kPolicies = {fail = true, ignore = true, continue = true}
local kPriorityLimit = 1000000
local jobs = {}
local by_ref = {}
local root = nil
for i = 0, n - 1 do
  local a = 5 + 6 * i
  local job = {ref = ARGV[a], parent = ARGV[a + 1], policy = ARGV[a + 2], id = ARGV[a + 3],
               body = ARGV[a + 4], options = ARGV[a + 5], children = 0}
  if not is_name(job.ref, 32) or by_ref[job.ref] or not kPolicies[job.policy]
      or job.id ~= u .. '.' .. job.ref or #job.body < 3 or string.byte(job.body, 1) ~= 123 then
    return redis.error_reply('ERR invalid ref, policy, id or body at ' .. i)
  end
  local options = job.options
  local flag = string.byte(options, 1)
  while flag == 104 or flag == 108 do  -- "h", "l"
    if flag == 104 then job.hooked = true else job.lifo = true end
    options = string.sub(options, 2)
    flag = string.byte(options, 1)
  end
  local p, d, r, g = string.match(options, '^([^:]*):([^:]*):([^:]*):?(.*)$')
  job.priority, job.delay, job.run_at = tonumber(p), tonumber(d), tonumber(r)
  if not job.priority or job.priority ~= math.floor(job.priority)
      or math.abs(job.priority) > kPriorityLimit or not job.delay or job.delay < 0
      or job.delay > kMaxMs or job.delay ~= math.floor(job.delay) or not job.run_at
      or job.run_at < -1 or job.run_at > kMaxRunAtMs or job.run_at ~= math.floor(job.run_at)
      or #g > kGroupMaxBytes
      or string.find(g, '|', 1, true) then
    return redis.error_reply('ERR invalid options at ' .. i)
  end
  if g ~= '' then job.group = g end
  by_ref[job.ref] = job
  jobs[#jobs + 1] = job
end
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
if redis.call('EXISTS', record) == 1 then return 0 end
local ids = {}
for i, job in ipairs(jobs) do ids[i] = job.id end
local present = read_in_parts('HMGET', base .. 'jobs', ids)
for i = 1, n do
  if present[i] then return -2 end
end
local queue_config = redis.call('HMGET', KEYS[4], 'gf', 'ml', 'gwaiting')
local group_field, max_length = queue_config[1], tonumber(queue_config[2])
local leaves = 0
for _, job in ipairs(jobs) do
  if job.children == 0 then leaves = leaves + 1 end
end
if max_length then
  local backlog = queue_backlog(base, KEYS[1], KEYS[2], KEYS[3], queue_config[3])
  if backlog + leaves > max_length then
    return redis.error_reply('QUEUEFULL ' .. backlog .. ' of ' .. max_length ..
                             ' jobs waiting, delayed or retrying; ' .. leaves .. ' more refused')
  end
end

local now, now_us = now_ms()
local gen = redis.call('HINCRBY', KEYS[4], 'flows', 1)
local prefix = '{"c":' .. now .. ','
local bodies, tree, hooks, group_fields, states = {}, {}, {}, {}, {}
local fields = {'st', 'running', 'g', gen, 'c', now, 'keep', keep, 'n', n}
local held, ready, ready_priorities, ready_groups, delayed = {}, {}, {}, {}, {}
local first, first_priorities, first_groups = {}, {}, {}
for _, job in ipairs(jobs) do
  local group = job.group
  if not group and group_field then group = data_group(job.body, group_field) or nil end
  bodies[#bodies + 1] = job.id
  bodies[#bodies + 1] = prefix .. string.sub(job.body, 2)
  tree[#tree + 1] = job.ref
  tree[#tree + 1] = job.parent .. '\t' .. job.policy
  local hook = (job.hooked and 'fu' or 'f') .. '\t' .. u .. '\t' .. gen .. '\t' .. job.ref ..
    '\t' .. job.parent .. '\t' .. job.policy
  if group then
    group_fields[#group_fields + 1] = job.id
    group_fields[#group_fields + 1] = group
  end
  local record_of = decode_state(nil)
  record_of.p = tostring(job.priority)
  if job.children > 0 then
    hook = hook .. '\t' .. job.delay .. ':' .. job.run_at .. ':' .. (job.lifo and 1 or 0)
    fields[#fields + 1] = 'j:' .. job.ref
    fields[#fields + 1] = 'w:' .. job.children .. ':' .. job.children .. ':0:0:0:0:0'
    held[#held + 1] = now
    held[#held + 1] = job.id
    record_of.st = 'held'
  else
    local due = due_after_ms(now_us, job.delay)
    if job.run_at >= 0 then due = job.run_at end
    if due > now then
      delayed[#delayed + 1] = due
      delayed[#delayed + 1] = job.id
      record_of.st = 'delayed'
    elseif job.lifo then
      first[#first + 1] = job.id
      first_priorities[#first] = job.priority
      first_groups[#first] = group or false
      record_of.st = 'waiting'
    else
      ready[#ready + 1] = job.id
      ready_priorities[#ready] = job.priority
      ready_groups[#ready] = group or false
      record_of.st = 'waiting'
    end
  end
  if job.children > 0 or job.priority ~= 0 then
    states[#states + 1] = job.id
    states[#states + 1] = encode_state(record_of)
  end
  hooks[#hooks + 1] = job.id
  hooks[#hooks + 1] = hook
end
call_in_parts('HSET', base .. 'jobs', bodies)
call_in_parts('HSET', record .. ':tree', tree)
call_in_parts('HSET', record, fields)
call_in_parts('HSET', base .. 'hooks', hooks)
if #group_fields > 0 then call_in_parts('HSET', base .. 'g', group_fields) end
if #states > 0 then call_in_parts('HSET', KEYS[5], states) end
if #held > 0 then call_in_parts('ZADD', KEYS[6], held) end
requeue(base, KEYS[1], KEYS[2], KEYS[4], ready, ready_priorities, false, ready_groups)
if #first > 0 then  -- the latest first: requeue keeps the given order at the head
  local reversed, reversed_priorities, reversed_groups = {}, {}, {}
  for i = #first, 1, -1 do
    reversed[#reversed + 1] = first[i]
    reversed_priorities[#reversed] = first_priorities[i]
    reversed_groups[#reversed] = first_groups[i]
  end
  requeue(base, KEYS[1], KEYS[2], KEYS[4], reversed, reversed_priorities, true, reversed_groups)
end
if #delayed > 0 then call_in_parts('ZADD', KEYS[3], delayed) end
redis.call('HINCRBY', KEYS[4], 'enqueued', n)
local enqueued = ids_of_scored(delayed)
for _, id in ipairs(ready) do enqueued[#enqueued + 1] = id end
for _, id in ipairs(first) do enqueued[#enqueued + 1] = id end
if #enqueued > 0 then redis.call('SPUBLISH', base .. 'wake', '') end
emit_event(base, 'enqueued', enqueued)
emit_event(base, 'held', ids_of_scored(held))
return 1
