-- wake_if_limited(base, meta): a job that finished frees a slot of the queue's concurrency limit;
-- workers held back by it wait for this wake instead of polling.
local function wake_if_limited(base, meta)
  if redis.call('HEXISTS', meta, 'cc') == 1 then redis.call('PUBLISH', base .. 'wake', '') end
end
