--[[ scheduler_lease: takes, renews or gives up the scheduler leadership lease. One scheduler
process (the holder) scans for due schedules; the others retry every tick, so a dead holder is
replaced once its lease expires. Correctness does not rest on it (schedule_advance.lua is a
compare-and-set and job ids are deterministic): two holders at once would only do the work twice.
KEYS[1] leader (STRING "<prefix>:{:schedules}:leader", value = the holder's token, PX = lease)
ARGV[1] the caller's token (unique per process)   ARGV[2] lease in ms; 0 gives the lease up
Returns: 1 the caller holds the lease (taken or renewed) or, for 0, gave it up; 0 another process
  holds it (nothing written).
]]
local token, lease = ARGV[1], tonumber(ARGV[2])
if not token or token == '' then return redis.error_reply('ERR invalid token') end
if not lease or lease < 0 or lease ~= math.floor(lease) then
  return redis.error_reply('ERR invalid lease')
end
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= token then return 0 end
if lease == 0 then
  redis.call('DEL', KEYS[1])
else
  redis.call('SET', KEYS[1], token, 'PX', lease)
end
return 1
