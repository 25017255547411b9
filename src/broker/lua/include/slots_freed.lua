-- slots_freed(base, meta, ids, now, woken): the jobs `ids` are no longer active (completed,
-- failed, recovered, released, postponed). Their groups' active counts go down (requeue.lua has
-- the group layout). When a concurrency limit frees a slot, workers held back by it are woken
-- instead of polling: on the queue's limit (meta.cc) always, on the group limit (meta.gcc) when a
-- grouped job finished, in which case its group, if held in gheld, is looked at again at once. One
-- wake at most, none when the caller publishes one anyway (woken = true). Costs an HMGET and an
-- EXISTS for a queue without limits or groups.
local function slots_freed(base, meta, ids, now, woken)
  if #ids == 0 then return end
  local limits = redis.call('HMGET', meta, 'cc', 'gcc')
  local wake = limits[1] ~= false
  if redis.call('EXISTS', base .. 'g') == 1 then
    local groups = read_in_parts('HMGET', base .. 'g', ids)
    local counts, order = {}, {}
    for _, group in ipairs(groups) do
      if group then
        if not counts[group] then order[#order + 1] = group end
        counts[group] = (counts[group] or 0) + 1
      end
    end
    for _, group in ipairs(order) do
      if redis.call('HINCRBY', base .. 'gactive', group, -counts[group]) <= 0 then
        redis.call('HDEL', base .. 'gactive', group)
      end
      if limits[2] then redis.call('ZADD', base .. 'gheld', 'XX', 'LT', now, group) end
    end
    if limits[2] and #order > 0 then wake = true end
  end
  if wake and not woken then redis.call('SPUBLISH', base .. 'wake', '') end
end
