--[[ schedule_pause: pauses or resumes a schedule. A paused schedule fires nothing; on resume it
continues from the next fire time after now (the caller computes it), so the fire times that
passed while it was paused are not caught up.
KEYS[1] definitions   KEYS[2] state   KEYS[3] due   (see schedule_save.lua)
ARGV[1] id   ARGV[2] "1" pause | "0" resume
ARGV[3] resume: the next fire time in ms after now (-1: none left, the schedule ends); pause: ""
Returns: 1 changed, 0 it was already so, -1 no such schedule.
Writes: state[id] (paused flag; next on resume unless the schedule has ended), due (ZREM on pause,
  ZADD on resume).
]]
--!include schedule_state.lua
local id, flag = ARGV[1], ARGV[2]
if not id or id == '' then return redis.error_reply('ERR invalid id') end
if flag ~= '1' and flag ~= '0' then return redis.error_reply('ERR invalid pause flag') end
local next_fire = integer_arg(ARGV[3])
if flag == '0' and (not next_fire or next_fire < -1) then
  return redis.error_reply('ERR invalid next fire time')
end
local record = decode_schedule(redis.call('HGET', KEYS[2], id))
if not record or redis.call('HEXISTS', KEYS[1], id) == 0 then return -1 end
if record.paused == flag then return 0 end
record.paused = flag
if flag == '0' and tonumber(record.next) >= 0 then record.next = ARGV[3] end
store_schedule(KEYS[2], KEYS[3], id, record)
return 1
