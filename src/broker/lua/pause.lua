--[[ pause: pauses or resumes a queue. While paused, claim hands out nothing; running jobs finish.
KEYS[1] meta
ARGV[1] key base   ARGV[2] "1" pause | "0" resume
Returns: 1 the state changed, 0 it was already so.
Publishes: "" on base.."wake" on resume, so idle workers claim at once.
Events (events.lua): 'paused' or 'resumed' (no jobs) when the state changed.
]]
--!include events.lua
local base, paused = ARGV[1], ARGV[2]
if paused == '1' then
  local changed = redis.call('HSET', KEYS[1], 'paused', '1')
  if changed == 1 then emit_queue_event(base, 'paused') end
  return changed
elseif paused == '0' then
  local changed = redis.call('HDEL', KEYS[1], 'paused')
  if changed == 1 then
    redis.call('SPUBLISH', base .. 'wake', '')
    emit_queue_event(base, 'resumed')
  end
  return changed
end
return redis.error_reply('ERR invalid pause flag')
