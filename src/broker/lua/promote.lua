--[[ promote: makes a delayed or retrying job waiting now (at the tail of its priority).
KEYS[1] delayed   KEYS[2] retry   KEYS[3] wait   KEYS[4] prio   KEYS[5] meta   KEYS[6] state
ARGV[1] key base   ARGV[2] id
Returns: 1 promoted, 0 the job is not delayed or retrying (or does not exist).
Writes: its state record (if it has one) gets st = waiting.
Publishes: "" on base.."wake" when promoted.
Events (events.lua): 'waiting' with the id, when there are any.
]]
--!include state.lua
--!include parts.lua
--!include requeue.lua
--!include events.lua
local base, id = ARGV[1], ARGV[2]
if redis.call('ZREM', KEYS[1], id) == 0 and redis.call('ZREM', KEYS[2], id) == 0 then return 0 end
local value = redis.call('HGET', KEYS[6], id)
local record = decode_state(value)
local priority = 0
if value and record then
  priority = tonumber(record.p)
  record.st = 'waiting'
  redis.call('HSET', KEYS[6], id, encode_state(record))
end
requeue(base, KEYS[3], KEYS[4], KEYS[5], {id}, {priority}, false)
redis.call('SPUBLISH', base .. 'wake', '')
emit_event(base, 'waiting', {id})
return 1
