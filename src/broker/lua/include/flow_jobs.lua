-- What the scripts that write a flow's or a batch's jobs share (flow_commit.lua, batch_commit.lua):
-- reading the jobs from ARGV, and writing them as enqueue.lua would, but with a hook each and
-- with the jobs that wait for others held (flows.lua). Needs now.lua, queue_entry.lua,
-- events.lua, state.lua, parts.lua, requeue.lua.

local kFlowMaxMs = 315360000000  -- 10 years: a retention or a delay
local kFlowMaxRunAtMs = 7258118400000  -- 2200-01-01
local kFlowPolicies = {fail = true, ignore = true, continue = true}
local kFlowPriorityLimit = 1000000
-- A job with priority 0, no delay, no group, FIFO and no completion callback.
local kPlainJobOptions = '0:0:-1'

local function is_flow_name(text, max)
  return #text >= 1 and #text <= max and not string.find(text, '[^%w_%-]')
end

-- flow_jobs_read(u, first, n) -> jobs, or nil and the error text: the n jobs given from
-- ARGV[first], six arguments each: ref (1..32 of [A-Za-z0-9_-]), parent ref, policy (fail,
-- ignore, continue), id (u.."."..ref), body (a JSON object; "c" is added in front), options:
-- flags "h" (a completion callback) and "l" (LIFO) first, then "priority:delay_ms:run_at_ms" or
-- "priority:delay_ms:run_at_ms:group" as in enqueue.lua (delay_ms at most 10 years, run_at_ms -1
-- or at most 2200-01-01). Refs are unique. by_ref maps each ref to its job.
local function flow_jobs_read(u, first, n)
  local jobs, by_ref = {}, {}
  for i = 0, n - 1 do
    local a = first + 6 * i
    -- Every field in the constructor: a table that grows field by field costs rehashes.
    local job = {ref = ARGV[a], parent = ARGV[a + 1], policy = ARGV[a + 2], id = ARGV[a + 3],
                 body = ARGV[a + 4], options = ARGV[a + 5], children = 0, priority = 0, delay = 0,
                 run_at = -1, hooked = false, lifo = false, held = false, group = false}
    if not is_flow_name(job.ref, 32) or by_ref[job.ref] or not kFlowPolicies[job.policy]
        or job.id ~= u .. '.' .. job.ref or #job.body < 3 or string.byte(job.body, 1) ~= 123 then
      return nil, 'ERR invalid ref, policy, id or body at ' .. i
    end
    local options = job.options
    if options ~= kPlainJobOptions then
      local flag = string.byte(options, 1)
      while flag == 104 or flag == 108 do  -- "h", "l"
        if flag == 104 then job.hooked = true else job.lifo = true end
        options = string.sub(options, 2)
        flag = string.byte(options, 1)
      end
      local p, d, r, g = string.match(options, '^([^:]*):([^:]*):([^:]*):?(.*)$')
      job.priority, job.delay, job.run_at = tonumber(p), tonumber(d), tonumber(r)
      if not job.priority or job.priority ~= math.floor(job.priority)
          or math.abs(job.priority) > kFlowPriorityLimit or not job.delay or job.delay < 0
          or job.delay > kFlowMaxMs or job.delay ~= math.floor(job.delay) or not job.run_at
          or job.run_at < -1 or job.run_at > kFlowMaxRunAtMs
          or job.run_at ~= math.floor(job.run_at) or #g > kGroupMaxBytes
          or string.find(g, '|', 1, true) then
        return nil, 'ERR invalid options at ' .. i
      end
      if g ~= '' then job.group = g end
    end
    by_ref[job.ref] = job
    jobs[#jobs + 1] = job
  end
  return jobs, by_ref
end

-- flow_ids_free(base, ids) -> true when none of the ids is taken.
local function flow_ids_free(base, ids)
  if #ids == 0 then return true end
  local present = read_in_parts('HMGET', base .. 'jobs', ids)
  for i = 1, #ids do
    if present[i] then return false end
  end
  return true
end

-- flow_jobs_ids(jobs) -> their ids; flow_jobs_ready(jobs) -> how many are not held.
local function flow_jobs_ids(jobs)
  local ids = {}
  for i, job in ipairs(jobs) do ids[i] = job.id end
  return ids
end
local function flow_jobs_ready(jobs)
  local ready = 0
  for _, job in ipairs(jobs) do
    if not job.held then ready = ready + 1 end
  end
  return ready
end

-- flow_jobs_room(keys, base, ready) -> nil, or the QUEUEFULL error text when `ready` more jobs
-- waiting or delayed would take the queue past its maximum length. keys: wait, prio, delayed,
-- meta.
local function flow_jobs_room(keys, base, ready)
  local max_length = tonumber(redis.call('HGET', keys[4], 'ml'))
  if not max_length then return nil end
  local backlog = queue_backlog(base, keys[1], keys[2], keys[3],
                                redis.call('HGET', keys[4], 'gwaiting'))
  if backlog + ready <= max_length then return nil end
  return 'QUEUEFULL ' .. backlog .. ' of ' .. max_length ..
    ' jobs waiting, delayed or retrying; ' .. ready .. ' more refused'
end

-- A job's hook (hooks.lua, flow_hook) without its hold. A batch's members all have the same one
-- (ref "*": their refs matter to nothing that reads the hook), so that a finishing script reads
-- it once for all of them.
local function flow_hook_value(hooked, u, gen, ref, parent, policy)
  if parent == '*' then ref = '*' end
  return (hooked and 'fu' or 'f') .. '\t' .. u .. '\t' .. gen .. '\t' .. ref .. '\t' .. parent ..
    '\t' .. policy
end

-- A queue's name, as common/job_codec.h's ValidateName takes it.
local function is_queue_name(text)
  return #text >= 1 and #text <= 64 and string.find(text, '^[%w][%w_%.%-]*$') ~= nil
end

-- flow_jobs_write(keys, base, u, gen, jobs, now, now_us): writes the jobs: bodies, a hook each
-- (naming the generation), group entries; each job marked `held` into held with a state record
-- (its hook carries how it is queued once released), the others waiting or delayed as
-- enqueue.lua would queue them, with a state record when their priority is not 0. Counts them
-- in meta.enqueued, wakes the queue's workers when one was queued, and emits 'enqueued' and
-- 'held'. keys: wait, prio, delayed, meta, state, held.
-- Flows across queues (flows.lua): a job marked `parked` (a parent of another queue) gets the
-- hook flag "q" and no group entry (its own queue groups it once dispatched); a job with an
-- `epoch` (delivered from its flow's queue, u = home..":"..key) gets it in place of a hold; a
-- `raw` body has its "c" already.
local function flow_jobs_write(keys, base, u, gen, jobs, now, now_us)
  if #jobs == 0 then return end  -- a batch created empty, to be added to
  local group_field = redis.call('HGET', keys[4], 'gf')
  local prefix = '{"c":' .. now .. ','
  local bodies, hooks, group_fields, states = {}, {}, {}, {}
  local held, ready, ready_priorities, ready_groups, delayed = {}, {}, {}, {}, {}
  local parked = 0  -- counted by the queue they run in, when dispatched there
  local first, first_priorities, first_groups = {}, {}, {}
  for _, job in ipairs(jobs) do
    local group = job.group
    if not group and group_field then group = data_group(job.body, group_field) or nil end
    if job.parked then
      group = nil
      parked = parked + 1
    end
    bodies[#bodies + 1] = job.id
    bodies[#bodies + 1] = job.raw and job.body or prefix .. string.sub(job.body, 2)
    local hook = flow_hook_value(job.hooked, u, gen, job.ref, job.parent, job.policy)
    if job.parked then hook = 'q' .. hook end
    if job.epoch then hook = hook .. '\t' .. job.epoch end
    if group then
      group_fields[#group_fields + 1] = job.id
      group_fields[#group_fields + 1] = group
    end
    local st = 'waiting'
    if job.held then
      hook = hook .. '\t' .. job.delay .. ':' .. job.run_at .. ':' .. (job.lifo and 1 or 0)
      held[#held + 1] = now
      held[#held + 1] = job.id
      st = 'held'
    else
      local due = due_after_ms(now_us, job.delay)
      if job.run_at >= 0 then due = job.run_at end
      if due > now then
        delayed[#delayed + 1] = due
        delayed[#delayed + 1] = job.id
        st = 'delayed'
      elseif job.lifo then
        first[#first + 1] = job.id
        first_priorities[#first] = job.priority
        first_groups[#first] = group or false
      else
        ready[#ready + 1] = job.id
        ready_priorities[#ready] = job.priority
        ready_groups[#ready] = group or false
      end
    end
    -- A state record only where enqueue.lua writes one: held, or a priority other than 0.
    if job.held or job.priority ~= 0 then
      local record_of = decode_state(nil)
      record_of.p, record_of.st = tostring(job.priority), st
      states[#states + 1] = job.id
      states[#states + 1] = encode_state(record_of)
    end
    hooks[#hooks + 1] = job.id
    hooks[#hooks + 1] = hook
  end
  call_in_parts('HSET', base .. 'jobs', bodies)
  call_in_parts('HSET', base .. 'hooks', hooks)
  if #group_fields > 0 then call_in_parts('HSET', base .. 'g', group_fields) end
  if #states > 0 then call_in_parts('HSET', keys[5], states) end
  if #held > 0 then call_in_parts('ZADD', keys[6], held) end
  requeue(base, keys[1], keys[2], keys[4], ready, ready_priorities, false, ready_groups)
  if #first > 0 then  -- the latest first: requeue keeps the given order at the head
    local reversed, reversed_priorities, reversed_groups = {}, {}, {}
    for i = #first, 1, -1 do
      reversed[#reversed + 1] = first[i]
      reversed_priorities[#reversed] = first_priorities[i]
      reversed_groups[#reversed] = first_groups[i]
    end
    requeue(base, keys[1], keys[2], keys[4], reversed, reversed_priorities, true, reversed_groups)
  end
  if #delayed > 0 then call_in_parts('ZADD', keys[3], delayed) end
  redis.call('HINCRBY', keys[4], 'enqueued', #jobs - parked)
  local enqueued = ids_of_scored(delayed)
  for _, id in ipairs(ready) do enqueued[#enqueued + 1] = id end
  for _, id in ipairs(first) do enqueued[#enqueued + 1] = id end
  if #enqueued > 0 then redis.call('SPUBLISH', base .. 'wake', '') end
  emit_event(base, 'enqueued', enqueued)
  emit_event(base, 'held', ids_of_scored(held))
end
