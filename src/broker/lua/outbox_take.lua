--[[ outbox_take: hands a relay the oldest entries of a queue's outbox (hooks.lua), under a short
lease so that two relays rarely apply the same entries. The lease is an optimisation only:
applying an entry is idempotent, and an entry leaves the outbox only through outbox_ack.lua once
it was applied, so a relay that dies holding the lease delays its entries by the lease.
KEYS[1] outbox (STREAM)   KEYS[2] outbox_lease (STRING)
ARGV[1] token (1..64 bytes, the relay's)   ARGV[2] lease_ms (1..60000)   ARGV[3] max (1..1000)
Returns: the entries, oldest first, as XRANGE answers them ({id, {field, value, ...}}, ...):
  none when the outbox is empty or another relay holds the lease.
Writes: KEYS[2] = token, PX lease_ms, when entries are returned.
]]
local token, lease_ms, max = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
if #ARGV ~= 3 or #token < 1 or #token > 64 or not lease_ms or lease_ms < 1 or lease_ms > 60000
    or lease_ms ~= math.floor(lease_ms) or not max or max < 1 or max > 1000
    or max ~= math.floor(max) then
  return redis.error_reply('ERR invalid arguments')
end
local holder = redis.call('GET', KEYS[2])
if holder and holder ~= token then return {} end
local entries = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', max)
if #entries > 0 then redis.call('SET', KEYS[2], token, 'PX', lease_ms) end
return entries
