--[[ extend: renews the leases a worker holds (its heartbeat), and tells it which of its jobs it has
lost and which were asked to stop.
KEYS[1] active   KEYS[2] state
ARGV[1] key base   ARGV[2] lease_ms   ARGV[3 ..] pairs: id, token
Returns: {lost ids}, {cancel-requested ids}: two arrays. A lost job's lease expired and was
  recovered (or the job finished elsewhere); the worker should stop it: its result will be refused.
Writes: active scores of the held jobs become now + lease_ms.
]]
--!include now.lua
--!include state.lua
local lease = tonumber(ARGV[2])
if not lease or lease < 1 or #ARGV % 2 ~= 0 then return redis.error_reply('ERR invalid arguments') end
if #ARGV == 2 then return {{}, {}} end
local deadline = tostring(now_ms() + lease)
local ids = {}
for i = 3, #ARGV, 2 do ids[#ids + 1] = ARGV[i] end
local records = redis.call('HMGET', KEYS[2], unpack(ids))
local lost, cancel, renew = {}, {}, {}
for k, id in ipairs(ids) do
  local token = ARGV[2 + 2 * k]
  local tk, cx = lease_of(records[k])
  if token ~= '' and tk == token then
    renew[#renew + 1] = deadline
    renew[#renew + 1] = id
    if cx == '1' then cancel[#cancel + 1] = id end
  else
    lost[#lost + 1] = id
  end
end
-- XX: never re-create an entry that another script removed in between (defensive).
if #renew > 0 then redis.call('ZADD', KEYS[1], 'XX', unpack(renew)) end
return {lost, cancel}
