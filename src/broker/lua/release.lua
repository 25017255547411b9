--[[ release: a worker shutting down hands back the jobs it still runs, so other workers take them at
once instead of waiting for the leases to expire. The interrupted attempt is not counted.
KEYS[1] active   KEYS[2] wait   KEYS[3] prio   KEYS[4] meta   KEYS[5] state
ARGV[1] key base   ARGV[2 ..] pairs: id, token
Returns: the number of jobs handed back (a pair whose token is stale is skipped, and so is a job
  whose cancel was requested: recover sends it to dead once its lease expires).
Writes: state record st = waiting, tk = "", a - 1; the jobs go to the head of their priority, in
  the order given; their overrun marks (overrun.lua) are dropped.
Publishes: "" on base.."wake" when a job was handed back.
Events (events.lua): 'waiting' with the released ids, when there are any.
]]
--!include now.lua
--!include state.lua
--!include parts.lua
--!include attempt_end.lua
--!include requeue.lua
--!include slots_freed.lua
--!include events.lua
local base = ARGV[1]
if #ARGV % 2 ~= 1 then return redis.error_reply('ERR invalid arguments') end
if #ARGV == 1 then return 0 end
local ids = {}
for i = 2, #ARGV, 2 do ids[#ids + 1] = ARGV[i] end
-- Read before the first write; long lists go in parts (parts.lua).
local records = read_in_parts('HMGET', KEYS[5], ids)
local released, priorities, states, seen = {}, {}, {}, {}
for k, id in ipairs(ids) do
  local token = ARGV[1 + 2 * k]
  local record = leased_record(records[k], id, token, seen)
  -- A job whose cancel was requested is not handed back: its lease expires and recover sends it
  -- to dead.
  if record and record.cx ~= '1' then
    uncount_attempt(record, id, 'waiting', states)
    released[#released + 1] = id
    priorities[#released] = tonumber(record.p)
  end
end
if #released == 0 then return 0 end
leave_active(KEYS[1], KEYS[5], states, released)
call_in_parts('HDEL', base .. 'overrun', released)  -- their overrun marks (overrun.lua)
slots_freed(base, KEYS[4], released, now_ms(), true)  -- it publishes below anyway
requeue(base, KEYS[2], KEYS[3], KEYS[4], released, priorities, true)
redis.call('SPUBLISH', base .. 'wake', '')
emit_event(base, 'waiting', released)
return #released
