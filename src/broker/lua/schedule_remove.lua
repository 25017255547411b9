--[[ schedule_remove: deletes a schedule. Jobs it already enqueued stay.
KEYS[1] definitions   KEYS[2] state   KEYS[3] due   (see schedule_save.lua)
KEYS[4] missed (see schedule_advance.lua)
ARGV[1] id
Returns: 1 removed, 0 no such schedule.
Writes: deletes definitions[id], state[id], missed[id] and the due entry.
]]
local id = ARGV[1]
if not id or id == '' then return redis.error_reply('ERR invalid id') end
local removed = redis.call('HDEL', KEYS[1], id)
redis.call('HDEL', KEYS[2], id)
redis.call('ZREM', KEYS[3], id)
redis.call('HDEL', KEYS[4], id)
return removed
