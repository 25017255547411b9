-- unqueue_grouped(base, id) -> true when `id` was a grouped waiting job and is now out of its
-- group's zset (requeue.lua): meta.gwaiting goes down, and a group left without waiting jobs
-- leaves gheld. It keeps its ring entry: claim drops an entry whose group has no waiting job when
-- its turn comes (group_claim.lua), and requeue reuses it if jobs come back first (gin), so this
-- costs O(log N) where removing the entry from the list would cost O(groups).
local function unqueue_grouped(base, id)
  local group = redis.call('HGET', base .. 'g', id)
  if not group or redis.call('ZREM', base .. 'gw:' .. group, id) == 0 then return false end
  redis.call('HINCRBY', base .. 'meta', 'gwaiting', -1)
  if redis.call('EXISTS', base .. 'gw:' .. group) == 0 then
    redis.call('ZREM', base .. 'gheld', group)
  end
  return true
end
