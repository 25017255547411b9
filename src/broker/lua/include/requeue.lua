-- Queueing jobs by priority. A prio zset score is priority * 2^32 + an offset in (-2^31, 2^31):
-- at the tail, the per-queue sequence meta.seq (so jobs of one priority run in FIFO order); at the
-- head, minus the sequence meta.hseq (so a later head requeue goes ahead of an earlier one, as
-- LPUSH does on the wait list). Offsets are integers: scores stay exact up to |priority| = 2^20.
-- The priority is the score divided by 2^32, rounded to the nearest integer.
-- The sequences never wrap (a wrapped offset would sort a new job ahead of older ones of its
-- priority): before one would leave (-2^31, 2^31), renumber_scored gives every scored job a small
-- offset again, in the same order. That costs one pass over the scored waiting jobs, once per
-- 2^31 scored requeues (amortized, far less than one Redis call per job).
local kScoreShift = 4294967296
local kOffsetLimit = 2147483647  -- |offset| <= kOffsetLimit

local function priority_of(score)
  return math.floor(tonumber(score) / kScoreShift + 0.5)
end

-- Grouped jobs (docs/limits.md) wait in their group's zset base.."gw:"..group, scored like prio,
-- instead of wait/prio. A group with waiting jobs is in the ring base.."gring" (the order in
-- which groups take turns; its element "" is the turn of the queue's ungrouped jobs) or, while a
-- group limit holds it back, in base.."gheld" (score = when to look again). The set base.."gin"
-- names the groups with an entry in the ring, one entry each; an entry may outlive its group's
-- last waiting job (group_unqueue.lua) until claim reaches it. meta.gwaiting counts grouped
-- waiting jobs: claim looks at groups only when it is above 0.
local function group_ring_add(base, group)
  local ring, members = base .. 'gring', base .. 'gin'
  if redis.call('EXISTS', members) == 0 and redis.call('EXISTS', ring) == 1 then
    -- A ring whose set is missing (stored by a layout without it): every entry is a member.
    for _, entry in ipairs(redis.call('LRANGE', ring, 0, -1)) do
      if entry ~= '' then redis.call('SADD', members, entry) end
    end
  end
  if redis.call('SADD', members, group) == 0 then return end  -- its entry is still there
  if redis.call('LLEN', ring) == 0 then
    redis.call('RPUSH', ring, '', group)
  else
    redis.call('RPUSH', ring, group)
  end
end

-- Priority aging (meta.ag = A ms, docs/limits.md): every waiting job goes to the prio zset (or its
-- group's) with score priority * A + the time it joined (Redis ms): a job gains one priority step
-- per A ms of waiting, so no priority waits forever behind a stream of better ones. The score then
-- does not hold the priority: the job's state record does (enqueue.lua writes one).
-- aged_score(base, id, priority, aging, now, at_head): at the head, a job keeps the age it had
-- (its created time, from its body).
local function aged_score(base, id, priority, aging, now, at_head)
  local since = now
  if at_head then
    local body = redis.call('HGET', base .. 'jobs', id)
    since = tonumber(body and string.match(body, '^{"c":(%d+)')) or now
  end
  return priority * aging + since
end

-- renumber_scored(base, prio, meta): rewrites the offsets of every job in prio and in the groups'
-- zsets (a group with waiting jobs is in gring or gheld) to 1, 2, ... at the tail and -1, -2, ...
-- at the head, per priority, keeping their order, and sets meta.seq and meta.hseq to the largest
-- used. Only for queues without aging (aged scores hold no sequence).
local function renumber_scored(base, prio, meta)
  local zsets = {prio}
  local groups = redis.call('LRANGE', base .. 'gring', 0, -1)
  for _, group in ipairs(redis.call('ZRANGE', base .. 'gheld', 0, -1)) do
    groups[#groups + 1] = group
  end
  for _, group in ipairs(groups) do
    if group ~= '' then zsets[#zsets + 1] = base .. 'gw:' .. group end
  end
  local max_tail, max_head = 0, 0
  for _, zkey in ipairs(zsets) do
    local entries = redis.call('ZRANGE', zkey, 0, -1, 'WITHSCORES')
    local scored = {}
    local i = 1
    while i <= #entries do
      -- one priority: its head entries (negative offsets) come first, in order, then its tail
      local p = priority_of(entries[i + 1])
      local j = i
      local heads = 0
      while j <= #entries and priority_of(entries[j + 1]) == p do
        if tonumber(entries[j + 1]) - p * kScoreShift < 0 then heads = heads + 1 end
        j = j + 2
      end
      local k = 0
      for e = i, j - 2, 2 do
        k = k + 1
        local offset = k <= heads and -(heads - k + 1) or (k - heads)
        scored[#scored + 1] = p * kScoreShift + offset
        scored[#scored + 1] = entries[e]
      end
      max_head = math.max(max_head, heads)
      max_tail = math.max(max_tail, k - heads)
      i = j
    end
    if #scored > 0 then call_in_parts('ZADD', zkey, scored) end
  end
  redis.call('HSET', meta, 'seq', max_tail, 'hseq', max_head)
end

-- requeue(base, wait, prio, meta, ids, priorities, at_head, groups): queues jobs, in the given
-- order, at the tail of their priority (or at its head when at_head, keeping their order there).
-- groups[i] is the group of ids[i] (false: none); nil: read from base.."g" (id -> group), which
-- costs one EXISTS for a queue that never had a grouped job. One call per structure, plus a few
-- per group, whatever the number of jobs. Needs parts.lua.
local function requeue(base, wait, prio, meta, ids, priorities, at_head, groups)
  if #ids == 0 then return end
  if groups == nil and redis.call('EXISTS', base .. 'g') == 1 then
    groups = read_in_parts('HMGET', base .. 'g', ids)
  end
  local plain, scored = {}, {}
  local by_group, group_order, n_grouped = {}, {}, 0
  local aging = tonumber(redis.call('HGET', meta, 'ag'))
  local now
  if aging then
    local t = redis.call('TIME')
    now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  end
  local n_scored = 0
  for i = 1, #ids do
    if priorities[i] ~= 0 or (groups and groups[i]) or aging then n_scored = n_scored + 1 end
  end
  local seq = nil
  if n_scored > 0 and not aging then
    local field = at_head and 'hseq' or 'seq'
    seq = redis.call('HINCRBY', meta, field, n_scored) - n_scored
    if seq + n_scored > kOffsetLimit then
      renumber_scored(base, prio, meta)
      seq = redis.call('HINCRBY', meta, field, n_scored) - n_scored
    end
  end
  local k = 0
  for i, id in ipairs(ids) do
    local p = priorities[i]
    local group = groups and groups[i]
    if p == 0 and not group and not aging then
      plain[#plain + 1] = id
    else
      local score
      if aging then
        score = aged_score(base, id, p, aging, now, at_head)
      else
        local offset
        if at_head then
          offset = -(seq + n_scored - k)  -- the first given is the most negative
        else
          offset = seq + k + 1
        end
        score = p * kScoreShift + offset
      end
      k = k + 1
      local target = scored
      if group then
        target = by_group[group]
        if not target then
          target = {}
          by_group[group] = target
          group_order[#group_order + 1] = group
        end
        n_grouped = n_grouped + 1
      end
      target[#target + 1] = score
      target[#target + 1] = id
    end
  end
  if #plain > 0 then
    if at_head then
      local reversed = {}
      for i = #plain, 1, -1 do reversed[#reversed + 1] = plain[i] end
      call_in_parts('LPUSH', wait, reversed)
    else
      call_in_parts('RPUSH', wait, plain)
    end
  end
  if #scored > 0 then call_in_parts('ZADD', prio, scored) end
  for _, group in ipairs(group_order) do
    local key = base .. 'gw:' .. group
    local before = redis.call('ZCARD', key)
    call_in_parts('ZADD', key, by_group[group])
    if before == 0 and not redis.call('ZSCORE', base .. 'gheld', group) then
      group_ring_add(base, group)
    end
  end
  if n_grouped > 0 then redis.call('HINCRBY', meta, 'gwaiting', n_grouped) end
end
