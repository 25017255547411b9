--[[ retry_dead: gives dead jobs a fresh set of attempts: they go back to waiting (tail of their
priority). Either the given ids, or the oldest `limit` dead jobs when no id is given.
KEYS[1] dead   KEYS[2] wait   KEYS[3] prio   KEYS[4] meta   KEYS[5] state
ARGV[1] key base   ARGV[2] limit (1..1000)   ARGV[3 ..] ids (optional)
Returns: the number of jobs moved (ids that are not dead are skipped; a repeated id moves once).
Writes: state record st = waiting, a = 0, s = 0, tf = 0, tk = "", cx = 0; the error history is kept.
Publishes: "" on base.."wake" when a job moved.
Events (events.lua): 'waiting' with the moved ids, when there are any.
]]
--!include state.lua
--!include parts.lua
--!include requeue.lua
--!include events.lua
local base = ARGV[1]
local limit = tonumber(ARGV[2])
if not limit or limit < 1 or limit > 1000 then return redis.error_reply('ERR invalid limit') end
local ids = {}
if #ARGV > 2 then
  for i = 3, #ARGV do
    -- one ZREM per id: a repeated id is removed (and so queued) only once
    if redis.call('ZREM', KEYS[1], ARGV[i]) == 1 then ids[#ids + 1] = ARGV[i] end
  end
else
  ids = redis.call('ZRANGE', KEYS[1], 0, limit - 1)
  if #ids > 0 then redis.call('ZREM', KEYS[1], unpack(ids)) end
end
if #ids == 0 then return 0 end
local records = redis.call('HMGET', KEYS[5], unpack(ids))
local states, priorities = {}, {}
for i, id in ipairs(ids) do
  local record = decode_state(records[i]) or decode_state(nil)
  record.st, record.a, record.s, record.tf, record.tk, record.cx = 'waiting', '0', '0', '0', '', '0'
  states[#states + 1] = id
  states[#states + 1] = encode_state(record)
  priorities[i] = tonumber(record.p)
end
redis.call('HSET', KEYS[5], unpack(states))
requeue(base, KEYS[2], KEYS[3], KEYS[4], ids, priorities, false)
redis.call('PUBLISH', base .. 'wake', '')
emit_event(base, 'waiting', ids)
return #ids
