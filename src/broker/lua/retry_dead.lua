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
if not limit or limit < 1 or limit > 1000 or limit ~= math.floor(limit) then
  return redis.error_reply('ERR invalid limit')
end
-- Everything is read before the first write, and every long list goes to Redis in parts
-- (parts.lua): any number of ids is one atomic step, and nothing can fail halfway (Redis has no
-- rollback; a failure after the ZREM would leave jobs in no state at all).
local ids = {}
if #ARGV > 2 then
  local given, seen = {}, {}
  for i = 3, #ARGV do
    if not seen[ARGV[i]] then  -- a repeated id moves once
      seen[ARGV[i]] = true
      given[#given + 1] = ARGV[i]
    end
  end
  local scores = read_in_parts('ZMSCORE', KEYS[1], given)
  for i = 1, #given do
    if scores[i] then ids[#ids + 1] = given[i] end
  end
else
  ids = redis.call('ZRANGE', KEYS[1], 0, limit - 1)
end
if #ids == 0 then return 0 end
local records = read_in_parts('HMGET', KEYS[5], ids)
local states, priorities = {}, {}
for i, id in ipairs(ids) do
  local record = decode_state(records[i]) or decode_state(nil)
  record.st, record.a, record.s, record.tf, record.tk, record.cx = 'waiting', '0', '0', '0', '', '0'
  states[#states + 1] = id
  states[#states + 1] = encode_state(record)
  priorities[i] = tonumber(record.p)
end
call_in_parts('ZREM', KEYS[1], ids)
call_in_parts('HSET', KEYS[5], states)
requeue(base, KEYS[2], KEYS[3], KEYS[4], ids, priorities, false)
redis.call('SPUBLISH', base .. 'wake', '')
emit_event(base, 'waiting', ids)
return #ids
