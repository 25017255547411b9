--[[ extend: renews the leases a worker holds (its heartbeat), and tells it which of its jobs it has
lost and which were asked to stop.
KEYS[1] active
ARGV[1] key base   ARGV[2] lease_ms   ARGV[3 ..] pairs: id, token
Returns: {lost ids}, {cancel-requested ids}: two arrays. A lost job's lease expired and was
  recovered (or the job finished elsewhere); the worker should stop it: its result will be refused.
Writes: active scores of the held jobs become now + lease_ms.
]]
--!include now.lua
local base = ARGV[1]
local lease = tonumber(ARGV[2])
if not lease or lease < 1 or #ARGV % 2 ~= 0 then return redis.error_reply('ERR invalid arguments') end
local deadline = now_ms() + lease
local lost, cancel, renew = {}, {}, {}
for i = 3, #ARGV, 2 do
  local id, token = ARGV[i], ARGV[i + 1]
  local state = redis.call('HMGET', base .. 'm:' .. id, 'tk', 'cx')
  if state[1] == token and token ~= '' then
    renew[#renew + 1] = deadline
    renew[#renew + 1] = id
    if state[2] == '1' then cancel[#cancel + 1] = id end
  else
    lost[#lost + 1] = id
  end
end
if #renew > 0 then redis.call('ZADD', KEYS[1], 'XX', unpack(renew)) end
return {lost, cancel}
