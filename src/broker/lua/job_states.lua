--[[ job_states: the state of each of the given jobs of a queue, as one consistent snapshot (a
flow's jobs in this queue: flows.lua, "Flows across queues"). Changes nothing.
KEYS[1] delayed   KEYS[2] state
ARGV[1] key base   ARGV[2 ..] ids (at most 10000)
Returns: per id, in order, its state ("" when there is no such job) and cancelled ("1" when its
  state record asks a stop, else "0"). A job without a state record (or st = "") is delayed if it
  has a delayed score, else waiting.
]]
--!include parts.lua
--!include state.lua
local base = ARGV[1]
if #ARGV < 2 or #ARGV > 10001 then return redis.error_reply('ERR 1 to 10000 ids') end
local ids = {}
for i = 2, #ARGV do ids[i - 1] = ARGV[i] end
local present = read_in_parts('HMGET', base .. 'jobs', ids)
local values = read_in_parts('HMGET', KEYS[2], ids)
local out = {}
for i, id in ipairs(ids) do
  local st, cancelled = '', '0'
  if present[i] then st, cancelled = shown_state(values[i], KEYS[1], id) end
  out[#out + 1] = st
  out[#out + 1] = cancelled
end
return out
