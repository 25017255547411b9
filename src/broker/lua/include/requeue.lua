-- requeue_front(base, wait, prio, meta, id): puts a job that was active back at the head of its
-- priority (it has waited longest), into the wait list or the prio zset per its m:<id> p field.
local function requeue_front(base, wait, prio, id)
  local p = tonumber(redis.call('HGET', base .. 'm:' .. id, 'p') or '0')
  if p == 0 then
    redis.call('LPUSH', wait, id)
  else
    redis.call('ZADD', prio, p * 4294967296, id)
  end
end
