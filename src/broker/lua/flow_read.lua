--[[ flow_read: reads a flow (flows.lua) and the state of each of its jobs, as one consistent
snapshot. Changes nothing.
KEYS[1] delayed   KEYS[2] state
ARGV[1] key base   ARGV[2] u, the flow key
Returns: {} when the flow has no record; else {record (HGETALL), nodes, {}} where nodes holds per
  job of the tree: ref, parent ref ("" for the root), policy, state ("" when the job is gone:
  removed, or deleted by its retention, or not in this queue), cancelled ("1" when its state
  record asks a stop), queue (the job's queue when it is not the flow's: flows.lua, "Flows
  across queues"; a parked parent is here until it is dispatched).
  A job without a state record (or st = "") is delayed if it has a delayed score, else waiting.
]]
--!include state.lua
local base, u = ARGV[1], ARGV[2]
local record = base .. 'flow:' .. u
local fields = redis.call('HGETALL', record)
if #fields == 0 then return {} end
local dispatched = {}  -- jobs of other queues that left this one ("d:"..ref)
for i = 1, #fields, 2 do
  if string.sub(fields[i], 1, 2) == 'd:' then dispatched[string.sub(fields[i], 3)] = true end
end
local rows = redis.call('HGETALL', record .. ':tree')
local nodes = {}
for i = 1, #rows, 2 do
  local ref = rows[i]
  local parent, policy, queue = string.match(rows[i + 1], '^([^\t]*)\t(%a+)\t?([%w_%.%-]*)$')
  local id = u .. '.' .. ref
  local st, cancelled = '', '0'
  if not dispatched[ref] and redis.call('HEXISTS', base .. 'jobs', id) == 1 then
    st, cancelled = shown_state(redis.call('HGET', KEYS[2], id), KEYS[1], id)
  end
  nodes[#nodes + 1] = ref
  nodes[#nodes + 1] = parent or ''
  nodes[#nodes + 1] = policy or 'fail'
  nodes[#nodes + 1] = st
  nodes[#nodes + 1] = cancelled
  nodes[#nodes + 1] = queue or ''
end
return {fields, nodes, {}}
