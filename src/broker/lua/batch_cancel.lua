--[[ batch_cancel: cancels a batch (flows.lua), in steps of at most `limit` members: every
member not yet finished goes dead, cancelled (a running one is asked to stop, and counts when
it ends), and so do its held callbacks; the batch never releases a callback after it. Finished
members stay as they are. The first step marks the batch cancelled; each later step goes on
from the position the last one returned, so that no call holds Redis for long.
KEYS[1] meta   KEYS[2] held
ARGV[1] key base   ARGV[2] u, the batch key   ARGV[3] from: 0 for the first step, else the
  position the last step returned   ARGV[4] limit: members per step (1..10000)
Returns: {1, next}: cancelled, with the position to go on from (0: done); {0, 0}: the batch had
  finished or was cancelled already (a first step; nothing written); {-3, 0}: no such batch, or
  (a later step) one that is not being cancelled.
Members are in the order of their refs: the creation's "0".."k-1", then each addition's
  "<addition>-0".. by addition id, bytewise.
Writes: the first step: open = 0, the join cancelled (st = x), oc and os = x where they were w,
  the held callbacks dead; each step: the state records and dead entries of the members it
  cancelled, counted in the join, outbox entries for those with a completion callback; the
  batch finishes (st = finished) once no member is left running.
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
--!include delete_jobs.lua
--!include flows.lua
local base, u = ARGV[1], ARGV[2]
local from, limit = tonumber(ARGV[3]), tonumber(ARGV[4])
if #ARGV ~= 4 or u == '' or not from or from < 0 or from ~= math.floor(from) or not limit
    or limit < 1 or limit > 10000 or limit ~= math.floor(limit) then
  return redis.error_reply('ERR invalid arguments')
end
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
if r.kind ~= 'batch' then return {-3, 0} end
local join = join_decode(r['j:*'])
if not join then return {-3, 0} end
if from == 0 and (r.st == 'finished' or join.st == 'x') then return {0, 0} end
if from > 0 and join.st ~= 'x' then return {-3, 0} end
table.sort(additions, function(a, b) return a[1] < b[1] end)
-- The members' refs from position `from`, at most `limit` of them.
local created = join.total
for _, a in ipairs(additions) do created = created - a[2] end
local refs = {}
local position = 0  -- of the first member of the range being taken
local function take_range(prefix, count)
  local first, last = math.max(from, position), math.min(position + count, from + limit) - 1
  for p = first, last do
    local i = p - position
    refs[#refs + 1] = prefix and prefix .. '-' .. i or tostring(i)
  end
  position = position + count
end
take_range(nil, created)
for _, a in ipairs(additions) do
  if position >= from + limit then break end
  take_range(a[1], a[2])
end
local next_from = from + limit < join.total and from + limit or 0
local ctx = flow_ctx(base, now_ms())
if from == 0 then
  redis.call('HSET', record, 'open', '0')
  for _, mark in ipairs({'oc', 'os'}) do
    if r[mark] == 'w' then redis.call('HSET', record, mark, 'x') end
  end
  flow_fail_held(ctx, u .. '.on_complete', 'cancelled: batch cancelled')
  flow_fail_held(ctx, u .. '.on_success', 'cancelled: batch cancelled')
end
flow_cancel_below(ctx, u, r.g, '*', {['*'] = refs}, {})
flow_settle(ctx)
batch_check(ctx, u, record, nil)
flow_events(ctx)
return {1, next_from}
