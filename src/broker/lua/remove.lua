--[[ remove: cancels or removes one job.
  mode "cancel": a waiting, delayed or retrying job is removed; an active job is asked to stop
    (its state record gets cx = 1; its worker sees it at the next lease extension and fails it
    without retry); a completed or dead job is refused.
  mode "remove": any job that is not active is removed with all its keys; an active one is refused
    (cancel it first).
KEYS[1] wait  KEYS[2] prio  KEYS[3] delayed  KEYS[4] retry  KEYS[5] active  KEYS[6] completed
KEYS[7] dead  KEYS[8] state
ARGV[1] key base   ARGV[2] id   ARGV[3] mode
Returns: 1 removed, 2 stop requested (active), 0 no such job, -1 refused (active for "remove",
  finished for "cancel").
Unique keys the job held are released (delete_jobs, unique.lua).
Note: removing a waiting priority-0 job is O(length of the wait list) (LREM).
Grouped jobs (requeue.lua): a waiting one is removed from its group's zset (meta.gwaiting - 1);
  a group left without waiting jobs leaves gheld, and its ring entry stays until claim drops it
  (group_unqueue.lua).
A job of a flow (flows.lua) that is not running and not finished is counted in its parent's
  join as dead, by its policy, which may fail or release the parent: cancelled, it stays as a dead
  job with cx = 1 (the tree stays visible); removed, it is gone. A held parent cancelled or
  removed cancels every unfinished job below it (flows.lua, flow_cancel_below). A batch's
  callback that has not run is marked so in its batch (oc or os = x): the batch never releases it.
Events (events.lua): 'removed' with the id (not for a stop request), 'dead' with the jobs a flow
  step cancelled, 'waiting' and 'delayed' with the parents it released.
]]
--!include now.lua
--!include events.lua
--!include state.lua
--!include parts.lua
--!include unique.lua
--!include delete_jobs.lua
--!include group_unqueue.lua
--!include job_lists.lua
--!include requeue.lua
--!include hooks.lua
--!include flows.lua
local base, id, mode = ARGV[1], ARGV[2], ARGV[3]
if mode ~= 'cancel' and mode ~= 'remove' then return redis.error_reply('ERR invalid mode') end
if redis.call('HEXISTS', base .. 'jobs', id) == 0 then return 0 end
if redis.call('ZSCORE', KEYS[5], id) then
  if mode == 'remove' then return -1 end
  local value = redis.call('HGET', KEYS[8], id)
  local record = decode_state(value)
  if value and record then
    record.cx = '1'
    redis.call('HSET', KEYS[8], id, encode_state(record))
  end
  return 2
end
local finished = redis.call('ZSCORE', KEYS[6], id) or redis.call('ZSCORE', KEYS[7], id)
if finished and mode == 'cancel' then return -1 end
local h = nil  -- a flow's job still to finish: counted in its parent's join
if not finished and redis.call('EXISTS', base .. 'hooks') == 1 then
  h = flow_hook(redis.call('HGET', base .. 'hooks', id))
end
if h then
  local now = now_ms()
  local ctx = flow_ctx(base, now)
  local _, record = flow_state_of(base, id)
  flow_unqueue(base, id)
  -- Below first: the cancelled join then takes the children's deaths without deciding anything.
  if h.delay then flow_cancel_below(ctx, h.u, h.gen, h.ref) end  -- a parent
  local err
  if mode == 'cancel' then
    err = flow_make_dead(ctx, id, record, 'cancelled')
  else
    err = '{"at":' .. now .. ',"attempt":' .. record.a .. ',"message":"removed"}'
    delete_jobs(base, {id})
  end
  if h.parent == '^' then batch_callback_dropped(base, h) end
  flow_count(ctx, id, h, 'dead', err)
  flow_settle(ctx)
  if mode == 'remove' then emit_event(base, 'removed', {id}) end
  flow_events(ctx)
  return 1
end
local found = 0
for k = 2, 7 do
  if k ~= 5 then found = found + redis.call('ZREM', KEYS[k], id) end
end
if found == 0 and not unqueue_grouped(base, id) then redis.call('LREM', KEYS[1], 1, id) end
unique_release(base, {id})
delete_jobs(base, {id})
emit_event(base, 'removed', {id})
return 1
