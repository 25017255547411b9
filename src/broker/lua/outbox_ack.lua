--[[ outbox_ack: deletes outbox entries a relay applied, and frees its lease (outbox_take.lua).
Deleting an entry that is gone already changes nothing, so an acknowledgement may be repeated.
KEYS[1] outbox (STREAM)   KEYS[2] outbox_lease (STRING)
ARGV[1] token   ARGV[2 ..] the entry ids (stream ids "<ms>-<seq>"; at most 1000; none: only the lease)
Returns: the number of entries deleted.
Writes: XDEL of the ids; the lease is deleted when it holds the token.
]]
local token = ARGV[1]
if not token or #token < 1 or #token > 64 then return redis.error_reply('ERR invalid token') end
if #ARGV > 1001 then return redis.error_reply('ERR at most 1000 entries') end
local ids = {}
for i = 2, #ARGV do
  if not string.match(ARGV[i], '^%d+%-%d+$') then
    return redis.error_reply('ERR invalid entry id at ' .. (i - 2))
  end
  ids[#ids + 1] = ARGV[i]
end
local deleted = 0
if #ids > 0 then deleted = redis.call('XDEL', KEYS[1], unpack(ids)) end
if redis.call('GET', KEYS[2]) == token then redis.call('DEL', KEYS[2]) end
return deleted
