-- groups_finished(base, meta, ids, now): jobs that were active are not any more (completed,
-- failed, recovered, released): their groups' active counts go down, and a group held back by
-- its concurrency limit is looked at again at once. Costs one EXISTS for a queue without groups.
local function groups_finished(base, meta, ids, now)
  if #ids == 0 or redis.call('EXISTS', base .. 'g') == 0 then return end
  local groups = redis.call('HMGET', base .. 'g', unpack(ids))
  local counts, order = {}, {}
  for _, group in ipairs(groups) do
    if group then
      if not counts[group] then order[#order + 1] = group end
      counts[group] = (counts[group] or 0) + 1
    end
  end
  if #order == 0 then return end
  for _, group in ipairs(order) do
    if redis.call('HINCRBY', base .. 'gactive', group, -counts[group]) <= 0 then
      redis.call('HDEL', base .. 'gactive', group)
    end
    redis.call('ZADD', base .. 'gheld', 'XX', 'LT', now, group)
  end
  if redis.call('HEXISTS', meta, 'gcc') == 1 then redis.call('PUBLISH', base .. 'wake', '') end
end
