-- Groups, the claim side (requeue.lua queues grouped jobs, slots_freed.lua frees their slots;
-- docs/limits.md). Needs requeue.lua and rate_window.lua included first.
--   base.."g"        HASH id -> group, for every grouped job until the job is deleted
--   base.."gactive"  HASH group -> its active jobs (only groups with some)
--   base.."grl:"..g  ZSET group g's rate window; base.."grls:"..g its running sum (STRING)
-- Group limits live in meta: grl = "max:window_ms" (per group), gcc = active jobs per group.
local kGroupHoldMs = 60000  -- a group at its concurrency limit is looked at again after this,
                            -- or at once when one of its jobs finishes (slots_freed.lua)

-- claim_groups(base, meta, budget, now, group_rate_max, group_rate_window, group_cc, ungrouped)
-- Serves the ring round robin, one job per group per turn, at most `budget` jobs; the ring's ""
-- element is the ungrouped jobs' turn (`ungrouped` of them wait in wait/prio; the caller takes as
-- many as the turns they got). A group that its limit holds back leaves the ring for gheld; a
-- group that used up its room in this claim goes to the ring's tail at the end.
-- Cost: about 4 calls per job taken, 3 per group held back and 3 per ring entry whose group has no
-- waiting job left.
-- Returns: {ids, priorities, groups} taken, ungrouped turns, hold_wait (ms until a held group may
--   run again, -1: none), held (a limit held a group back), took (group -> jobs taken), took_order.
local function claim_groups(base, meta, budget, now, rate_max, rate_window, group_cc, ungrouped)
  local ring, held_key = base .. 'gring', base .. 'gheld'
  local due = redis.call('ZRANGEBYSCORE', held_key, '-inf', now, 'LIMIT', 0, 1000)
  if #due > 0 then
    redis.call('ZREM', held_key, unpack(due))
    for _, group in ipairs(due) do
      if redis.call('EXISTS', base .. 'gw:' .. group) == 1 then group_ring_add(base, group) end
    end
  end
  local taken = {ids = {}, priorities = {}, groups = {}}
  local ring_len = redis.call('LLEN', ring)
  local took, took_order, used_up = {}, {}, {}
  local turns, idle, held = 0, 0, false
  -- Every turn takes a job, takes a group out of the ring or is an idle ungrouped turn; the loop
  -- ends when a whole round was idle.
  while budget > 0 and ring_len > 1 and idle < ring_len do
    local group = redis.call('LMOVE', ring, ring, 'LEFT', 'RIGHT')
    if group == '' then
      if turns < ungrouped then
        turns, budget, idle = turns + 1, budget - 1, 0
      else
        idle = idle + 1
      end
    elseif redis.call('EXISTS', base .. 'gw:' .. group) == 0 then
      -- an entry that outlived its group's last waiting job (group_unqueue.lua): out of the ring
      redis.call('RPOP', ring)
      redis.call('SREM', base .. 'gin', group)
      ring_len = ring_len - 1
    else
      local room, hold_until = budget, nil
      if group_cc then
        room = group_cc - (tonumber(redis.call('HGET', base .. 'gactive', group)) or 0) -
          (took[group] or 0)
        if room <= 0 then hold_until = now + kGroupHoldMs end
      end
      if rate_max and room > 0 then
        local rate_room, wait = window_room(base .. 'grl:' .. group, base .. 'grls:' .. group,
                                            rate_max, rate_window, now)
        room = math.min(room, rate_room - (took[group] or 0))
        if room <= 0 then hold_until = now + math.max(wait, 1) end
      end
      local key = base .. 'gw:' .. group
      if room <= 0 then
        redis.call('RPOP', ring)  -- out of the ring: it is at the tail after LMOVE
        redis.call('SREM', base .. 'gin', group)
        ring_len = ring_len - 1
        if took[group] then
          used_up[#used_up + 1] = group  -- its room went to this claim: back in turn later
        else
          redis.call('ZADD', held_key, hold_until, group)
          held = true
        end
      else
        local popped = redis.call('ZPOPMIN', key)
        if #popped > 0 then
          taken.ids[#taken.ids + 1] = popped[1]
          taken.priorities[#taken.ids] = priority_of(popped[2])
          taken.groups[#taken.ids] = group
          if not took[group] then took_order[#took_order + 1] = group end
          took[group] = (took[group] or 0) + 1
          budget, idle = budget - 1, 0
        end
        if #popped == 0 or redis.call('EXISTS', key) == 0 then
          -- no job left (or emptied behind the ring's back by a removal): out of the ring
          redis.call('RPOP', ring)
          redis.call('SREM', base .. 'gin', group)
          ring_len = ring_len - 1
        end
      end
    end
  end
  if ring_len <= 1 then
    redis.call('DEL', ring, base .. 'gin')  -- only the ungrouped turn was left
    local rest = math.min(budget, ungrouped - turns)
    if rest > 0 then turns = turns + rest end
  end
  for _, group in ipairs(used_up) do group_ring_add(base, group) end
  if #taken.ids > 0 then
    redis.call('HINCRBY', meta, 'gwaiting', -#taken.ids)
    for _, group in ipairs(took_order) do
      redis.call('HINCRBY', base .. 'gactive', group, took[group])
    end
  end
  local hold_wait = -1
  if held or redis.call('EXISTS', held_key) == 1 then
    local first = redis.call('ZRANGE', held_key, 0, 0, 'WITHSCORES')
    if #first == 2 then hold_wait = math.max(1, tonumber(first[2]) - now) end
  end
  return taken, turns, hold_wait, held, took, took_order
end

-- groups_record_starts: adds the claim's starts to each group's rate window (after the claim
-- has its token).
local function groups_record_starts(base, took, took_order, token, now, window)
  for _, group in ipairs(took_order) do
    window_add(base .. 'grl:' .. group, base .. 'grls:' .. group, took[group], token, now, window)
  end
end
