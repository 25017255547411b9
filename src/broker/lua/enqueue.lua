--[[ enqueue: adds jobs to a queue (one or a bulk batch). An id that exists is left untouched:
enqueueing it again is idempotent.
KEYS[1] wait (LIST)   KEYS[2] prio (ZSET)   KEYS[3] delayed (ZSET)   KEYS[4] meta (HASH)
KEYS[5] state (HASH)
ARGV[1] key base "taskq:{q}:"   ARGV[2] n, the number of jobs
ARGV[3 + 3*(i-1) ..] per job: id, body, options
ARGV[3 + 3*n] (optional) the shard layout version the producer placed the jobs by
  (shard_layout.lua); absent: the producer knows the queue as never sharded.
  body: the job's JSON object; the script adds "c" (created, Redis time in ms) in front.
  options: "" for a plain job (priority 0, no delay, no group), else
    "priority:delay_ms:run_at_ms" or "priority:delay_ms:run_at_ms:group".
    priority: integer; 0 goes to the wait list, others to the prio zset.
    run_at_ms >= 0 wins over delay_ms (-1: none); a due time not after now means "waiting now".
    group: 1 to 128 bytes; the job then waits in its group's zset (requeue.lua). A job given no
    group gets the value of its data field meta.gf, when the queue names one (queue_limits.lua)
    and the field holds a string or a number. A group cannot hold "|".
    A unique job appends "|mode:ttl_ms:key" (unique.lua, unique_enqueue.lua): mode
    until_completed, ttl or debounce; ttl_ms > 0 for mode ttl only (at most 30 days), else 0;
    key 1..256 bytes, any bytes (it is last).
    Flags may come first (then the options are never ""): "h", a job with a completion callback,
    gets the hook "u" in base.."hooks" (hooks.lua) when it is created; "l", last in first out,
    is queued at the head of its priority (and group) instead of the tail when it is created
    waiting (a delayed one joins the tail when it is due). Within one batch, a later "l" job runs
    before an earlier one.
  Three arguments per job, not five: Redis parses and Lua copies every argument, and a bulk
  batch is mostly plain jobs.
Returns: an array of n integers: 1 created waiting, 2 created delayed, 0 the id existed; for a
  unique job whose key is held, the holder's id (a string) instead: nothing was created. A
  repeated id in the batch is never created twice: it answers like its first occurrence when
  that one got a holder's id, else 0; it takes no unique key and replaces no holder.
  Everything is validated before the first write: a bad argument returns an error reply and
  writes nothing. A queue with a maximum length (meta.ml, queue_limits.lua) refuses the whole
  batch, writing nothing, when its new ids (those not in base.."jobs") would make more than that
  many jobs waiting, delayed or retrying: the error reply "QUEUEFULL <jobs> of <maximum>".
  A layout version that is not meta.sv (a version named where meta.sv is absent, or none named
  where it is present) is refused, writing nothing, with the error reply "LAYOUT <sv>" (<sv>
  "0" when absent): the producer reads the queue's layout again.
Publishes: "" on base.."wake" when at least one job was created.
Writes: meta.enqueued counts the created jobs; the body as field id of base.."jobs" (HASH); for unique jobs base.."u:"..key (STRING,
  id; PX in mode ttl) and base.."uk" (HASH, id -> key; not in mode ttl); debounce deletes the
  waiting job it replaces. A job with a non-zero priority also gets a state record (st = delayed
  or waiting, p), so that promotion knows where it goes and the priority survives aging being
  switched on or off while it waits. A grouped job: base.."g" id -> group.
Cost: a batch whose ids are all new (and distinct) is stored with one HMGET and one HSET;
  otherwise one HSETNX per job. A batch of plain jobs only, to a queue without a group field or
  aging, whose ids are all new and distinct, then takes one RPUSH and returns without the
  general code (same writes, wake, event and answer); when some id exists it goes the general
  way. Any batch size is one call, so one atomic step: lists longer than Lua's unpack limit go
  to Redis in parts (parts.lua). Redis runs nothing else meanwhile: the bulk limit
  (kMaxBulkJobs in include/taskq/client.h) bounds that pause.
A single plain job goes to enqueue_one.lua instead (cheaper); this script takes any job as well.
Events (events.lua): 'enqueued' with the created ids (delayed ones first), when there are any.
]]
--!include now.lua
--!include queue_entry.lua
--!include events.lua
--!include state.lua
--!include parts.lua
--!include requeue.lua
--!include unique.lua
--!include delete_jobs.lua
--!include group_unqueue.lua
--!include unique_enqueue.lua
local base = ARGV[1]
-- The queue's group field and priority aging (queue_limits.lua).
local queue_config = redis.call('HMGET', KEYS[4], 'gf', 'ag', 'ml', 'gwaiting', 'sv')
local group_field, aging, max_length = queue_config[1], queue_config[2], tonumber(queue_config[3])
local n = tonumber(ARGV[2])
if not n or n < 1 or (#ARGV ~= 2 + 3 * n and #ARGV ~= 3 + 3 * n) then
  return redis.error_reply('ERR invalid argument count')
end
if queue_config[5] ~= (ARGV[3 + 3 * n] or false) then
  return redis.error_reply('LAYOUT ' .. (queue_config[5] or '0'))
end
-- Validation, all before the first write. A plain job (options "") is checked by string
-- comparison alone: most bulk batches hold only plain jobs, and each Lua builtin call costs
-- about as much as a Redis reply element.
local kPriorityLimit = 1000000
local now, now_us = now_ms()
local prefix = '{"c":' .. now .. ','
local seen, repeated, special, ids, bodies, groups = {}, false, {}, {}, {}, {}
local repeats = {}  -- index -> the index of the id's first occurrence in this batch
local uniques = {}  -- unique_enqueue.lua
local hooked = {}   -- index -> true: a job with a completion callback (hooks.lua)
local lifo = {}     -- index -> true: queued at the head
for i = 0, n - 1 do
  local a = 3 + 3 * i
  local id, body, options = ARGV[a], ARGV[a + 1], ARGV[a + 2]
  if id == '' or #body < 3 or string.byte(body, 1) ~= 123 then
    return redis.error_reply('ERR invalid id or body at ' .. i)
  end
  local again = seen[id]
  if again then
    repeated = true
    repeats[i] = again
  else
    seen[id] = i
  end
  local group = false
  local flag = string.byte(options, 1)
  while flag == 104 or flag == 108 do  -- "h", "l"
    if flag == 104 then hooked[i] = true else lifo[i] = true end
    options = string.sub(options, 2)
    if options == '' then return redis.error_reply('ERR invalid options at ' .. i) end
    flag = string.byte(options, 1)
  end
  if options ~= '' then
    options = unique_split(options, i, id, uniques)
    if not options then return redis.error_reply('ERR invalid unique key or mode at ' .. i) end
    -- a repeated id "existed" (the first one is created): it must not take or debounce a key
    if again and uniques[i] then uniques[i].skip = true end
    local p, d, r, g = string.match(options, '^([^:]*):([^:]*):([^:]*):?(.*)$')
    if g and g ~= '' then
      if #g > kGroupMaxBytes then return redis.error_reply('ERR invalid group at ' .. i) end
      group = g
    end
    local priority, delay, run_at = tonumber(p), tonumber(d), tonumber(r)
    if not priority or priority ~= math.floor(priority) or math.abs(priority) > kPriorityLimit then
      return redis.error_reply('ERR invalid priority at ' .. i)
    end
    if not delay or delay < 0 or not run_at then
      return redis.error_reply('ERR invalid delay at ' .. i)
    end
    special[i] = {priority, delay, run_at}
  end
  if not group and group_field then group = data_group(body, group_field) end
  groups[i + 1] = group
  -- the stored body, built while validating (nothing is written before the end)
  ids[i + 1] = id
  bodies[2 * i + 1] = id
  bodies[2 * i + 2] = prefix .. string.sub(body, 2)
end

-- Backpressure: the jobs this batch adds (new distinct ids) must fit under the maximum.
if max_length then
  local present = read_in_parts('HMGET', base .. 'jobs', ids)
  local adding, counted = 0, {}
  for i, id in ipairs(ids) do
    if not present[i] and not counted[id] then
      counted[id] = true
      adding = adding + 1
    end
  end
  local backlog = queue_backlog(base, KEYS[1], KEYS[2], KEYS[3], queue_config[4])
  if adding > 0 and backlog + adding > max_length then
    return redis.error_reply('QUEUEFULL ' .. backlog .. ' of ' .. max_length ..
                             ' jobs waiting, delayed or retrying; ' .. adding .. ' more refused')
  end
end

-- The common bulk: plain jobs only (priority 0, no delay, no group, not unique), distinct ids, a
-- queue without a group field or aging. When none of the ids exists they all go to the tail of
-- wait in order, as requeue() would put them, without the general code's per-job tables (a large
-- share of the script's cost per job; bench/RESULTS.md).
local jobs = base .. 'jobs'
local some_existed = false  -- hset_all_new failed: some id exists, so each job goes by HSETNX
if n > 1 and not repeated and not group_field and not aging and next(special) == nil then
  some_existed = not hset_all_new(jobs, ids, bodies)
  if not some_existed then
    local results = {}
    for i = 1, n do results[i] = 1 end
    call_in_parts('RPUSH', KEYS[1], ids)
    redis.call('HINCRBY', KEYS[4], 'enqueued', n)
    redis.call('SPUBLISH', base .. 'wake', '')
    emit_event(base, 'enqueued', ids)
    return results
  end
end
local created = {}
local hits = unique_resolve(base, n, uniques, KEYS)  -- jobs whose key is held are not created
-- One HSET would store a repeated id twice: with one, each job goes by HSETNX (repeats skipped).
if n > 1 and not repeated and not hits and not some_existed then
  if hset_all_new(jobs, ids, bodies) then
    for i = 1, n do created[i] = true end
  end
end
if #created == 0 then
  for i = 0, n - 1 do
    created[i + 1] = not repeats[i] and not (hits and hits[i]) and
      redis.call('HSETNX', jobs, ids[i + 1], bodies[2 * i + 2]) == 1
  end
end

local results, ready, ready_priorities, delayed, new_states = {}, {}, {}, {}, {}
local hooks = {}  -- {id, value, ...} of created jobs with a hook
local ready_groups, group_fields = {}, {}
local first, first_priorities, first_groups = {}, {}, {}  -- LIFO jobs, in batch order
-- A state record for a job never claimed yet: the place it goes to depends on its priority.
local function add_record(id, state, priority)
  local record = decode_state(nil)
  record.st = state
  record.p = priority
  new_states[#new_states + 1] = id
  new_states[#new_states + 1] = encode_state(record)
end
local any = false
for i = 0, n - 1 do
  local id = ARGV[3 + 3 * i]
  local group = groups[i + 1] or false
  if created[i + 1] and hooked[i] then
    hooks[#hooks + 1] = id
    hooks[#hooks + 1] = 'u'
  end
  if created[i + 1] and group then
    group_fields[#group_fields + 1] = id
    group_fields[#group_fields + 1] = group
  end
  if not created[i + 1] then
    results[i + 1] = 0
  elseif not special[i] then
    any = true
    ready[#ready + 1] = id
    ready_priorities[#ready] = 0
    ready_groups[#ready] = group
    results[i + 1] = 1
  else
    any = true
    local priority, delay, run_at = special[i][1], special[i][2], special[i][3]
    local due = due_after_ms(now_us, delay)
    if run_at >= 0 then due = run_at end
    if due > now then
      delayed[#delayed + 1] = due
      delayed[#delayed + 1] = id
      if priority ~= 0 then add_record(id, 'delayed', priority) end
      results[i + 1] = 2
    elseif lifo[i] then
      first[#first + 1] = id
      first_priorities[#first] = priority
      first_groups[#first] = group
      results[i + 1] = 1
      if priority ~= 0 then add_record(id, 'waiting', priority) end
    else
      ready[#ready + 1] = id
      ready_priorities[#ready] = priority
      ready_groups[#ready] = group
      results[i + 1] = 1
      -- The record holds every priority other than 0: an aged score does not hold it
      -- (requeue.lua), and aging may be switched on or off while the job waits.
      if priority ~= 0 then add_record(id, 'waiting', priority) end
    end
  end
end
if #group_fields > 0 then call_in_parts('HSET', base .. 'g', group_fields) end
if #hooks > 0 then call_in_parts('HSET', base .. 'hooks', hooks) end
requeue(base, KEYS[1], KEYS[2], KEYS[4], ready, ready_priorities, false, ready_groups)
if #first > 0 then  -- the latest first: requeue keeps the given order at the head
  local n_first = #first
  for i = 1, math.floor(n_first / 2) do
    local j = n_first + 1 - i
    first[i], first[j] = first[j], first[i]
    first_priorities[i], first_priorities[j] = first_priorities[j], first_priorities[i]
    first_groups[i], first_groups[j] = first_groups[j], first_groups[i]
  end
  requeue(base, KEYS[1], KEYS[2], KEYS[4], first, first_priorities, true, first_groups)
end
if #delayed > 0 then call_in_parts('ZADD', KEYS[3], delayed) end
if #new_states > 0 then call_in_parts('HSET', KEYS[5], new_states) end
unique_finish(base, n, uniques, hits, created, results)
-- A repeated id is never created again: it answers like its first occurrence when that one
-- returned a key's holder, else "existed".
for i, first in pairs(repeats) do
  results[i + 1] = type(results[first + 1]) == 'string' and results[first + 1] or 0
end
local enqueued = ids_of_scored(delayed)
for _, id in ipairs(ready) do enqueued[#enqueued + 1] = id end
for _, id in ipairs(first) do enqueued[#enqueued + 1] = id end
if any then
  redis.call('HINCRBY', KEYS[4], 'enqueued', #enqueued)
  redis.call('SPUBLISH', base .. 'wake', '')
end
emit_event(base, 'enqueued', enqueued)
return results
