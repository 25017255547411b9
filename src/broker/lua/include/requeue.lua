-- Queueing jobs by priority. A prio zset score is priority * 2^32 + an offset in (-2^31, 2^31):
-- at the tail, the per-queue sequence meta.seq (so jobs of one priority run in FIFO order); at the
-- head, minus the sequence meta.hseq (so a later head requeue goes ahead of an earlier one, as
-- LPUSH does on the wait list). Offsets are integers: scores stay exact up to |priority| = 2^20.
-- The priority is the score divided by 2^32, rounded to the nearest integer.
local kScoreShift = 4294967296
local kOffsetWrap = 2147483648

local function priority_of(score)
  return math.floor(tonumber(score) / kScoreShift + 0.5)
end

-- Grouped jobs (docs/limits.md) wait in their group's zset base.."gw:"..group, scored like prio,
-- instead of wait/prio. A group with waiting jobs is in the ring base.."gring" (the order in
-- which groups take turns; its element "" is the turn of the queue's ungrouped jobs) or, while a
-- group limit holds it back, in base.."gheld" (score = when to look again). meta.gwaiting counts
-- grouped waiting jobs: claim looks at groups only when it is above 0.
local function group_ring_add(base, group)
  local ring = base .. 'gring'
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

-- requeue(base, wait, prio, meta, ids, priorities, at_head, groups): queues jobs, in the given
-- order, at the tail of their priority (or at its head when at_head, keeping their order there).
-- groups[i] is the group of ids[i] (false: none); nil: read from base.."g" (id -> group), which
-- costs one EXISTS for a queue that never had a grouped job. One call per structure, plus a few
-- per group, whatever the number of jobs. Needs parts.lua.
local function requeue(base, wait, prio, meta, ids, priorities, at_head, groups)
  if #ids == 0 then return end
  if groups == nil and redis.call('EXISTS', base .. 'g') == 1 then
    groups = redis.call('HMGET', base .. 'g', unpack(ids))
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
    seq = redis.call('HINCRBY', meta, at_head and 'hseq' or 'seq', n_scored) - n_scored
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
          offset = -((seq + n_scored - k) % kOffsetWrap)  -- the first given is the most negative
        else
          offset = (seq + k + 1) % kOffsetWrap
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
