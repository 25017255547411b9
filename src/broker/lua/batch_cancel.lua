--[[ batch_cancel: cancels a batch (flows.lua): every member not yet finished goes dead,
cancelled (a running one is asked to stop, and counts when it ends), and so do its held
callbacks; on_complete is never released after it. Finished members stay as they are.
KEYS[1] meta   KEYS[2] held
ARGV[1] key base   ARGV[2] u, the batch key
Returns: 1 cancelled; 0 the batch had finished or was cancelled already (nothing written); -3 no
  such batch.
Writes: open = 0, the join cancelled (st = x) with the members' deaths counted, oc = x when it was w, the
  state records and dead entries of the jobs cancelled, outbox entries for those with a
  completion callback; the batch finishes (st = finished) when no member is left running.
Events (events.lua): 'dead' with the jobs cancelled.
]]
--!include now.lua
--!include events.lua
--!include state.lua
--!include parts.lua
--!include requeue.lua
--!include job_lists.lua
--!include group_unqueue.lua
--!include hooks.lua
--!include flows.lua
local base, u = ARGV[1], ARGV[2]
local record = base .. 'flow:' .. u
local fields = redis.call('HGETALL', record)
local r = {}
local additions = {}
for i = 1, #fields, 2 do
  r[fields[i]] = fields[i + 1]
  if string.sub(fields[i], 1, 2) == 'a:' then
    additions[#additions + 1] = {string.sub(fields[i], 3), tonumber(fields[i + 1]) or 0}
  end
end
if r.kind ~= 'batch' then return -3 end
local join = join_decode(r['j:*'])
if not join or r.sd == '1' or join.st == 'x' then return 0 end
-- The members' refs: "0".."k-1" from the creation, then "<addition>-<i>" per addition.
local created = join.total
for _, a in ipairs(additions) do created = created - a[2] end
local refs = {}
for i = 0, created - 1 do refs[#refs + 1] = tostring(i) end
for _, a in ipairs(additions) do
  for i = 0, a[2] - 1 do refs[#refs + 1] = a[1] .. '-' .. i end
end
redis.call('HSET', record, 'open', '0')
local ctx = flow_ctx(base, now_ms())
flow_cancel_below(ctx, u, r.g, '*', {['*'] = refs}, {})
if r.oc == 'w' then redis.call('HSET', record, 'oc', 'x') end
flow_fail_held(ctx, u .. '.on_complete', 'cancelled: batch cancelled')
flow_fail_held(ctx, u .. '.on_success', 'cancelled: batch cancelled')
flow_settle(ctx)
batch_check(ctx, u, record, nil)
flow_events(ctx)
return 1
