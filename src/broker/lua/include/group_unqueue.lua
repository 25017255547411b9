-- unqueue_grouped(base, id) -> true when `id` was a grouped waiting job and is now out of its
-- group's zset (requeue.lua): meta.gwaiting goes down, and a group left without waiting jobs
-- leaves the ring and gheld. O(number of groups) when the group empties (LREM on the ring).
local function unqueue_grouped(base, id)
  local group = redis.call('HGET', base .. 'g', id)
  if not group or redis.call('ZREM', base .. 'gw:' .. group, id) == 0 then return false end
  redis.call('HINCRBY', base .. 'meta', 'gwaiting', -1)
  if redis.call('EXISTS', base .. 'gw:' .. group) == 0 then
    redis.call('LREM', base .. 'gring', 0, group)
    redis.call('ZREM', base .. 'gheld', group)
    if redis.call('LLEN', base .. 'gring') == 1 then redis.call('DEL', base .. 'gring') end
  end
  return true
end
