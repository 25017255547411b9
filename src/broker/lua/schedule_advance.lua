--[[ schedule_advance: moves a schedule past the fire times whose jobs were just enqueued, as a
compare-and-set, so that of several schedulers that handled the same fire time only one advances
it (the jobs themselves have deterministic ids, so their enqueue was idempotent).
KEYS[1] definitions   KEYS[2] state   KEYS[3] due   (see schedule_save.lua)
KEYS[4] missed (HASH: id -> fire times missed and not caught up, ever)
ARGV[1] id   ARGV[2] revision the caller read   ARGV[3] next fire time the caller read
ARGV[4] the new next fire time (-1: the schedule ends)
ARGV[5] jobs enqueued for fire times (added to runs, >= 0)
ARGV[6] the latest fire time enqueued (0: none, keep the last one)   ARGV[7] its job id ("": keep)
ARGV[8] fire times passed over as missed (>= 0; absent: 0)
Returns: 1 advanced; 0 refused, nothing written: the schedule is gone, paused, its definition
  changed (revision) or another scheduler advanced it already (next differs).
Writes: state[id], due; missed[id] += ARGV[8] when it is above 0.
]]
--!include schedule_state.lua
local id, rev, expected, new_next = ARGV[1], ARGV[2], integer_arg(ARGV[3]), integer_arg(ARGV[4])
local added, last = integer_arg(ARGV[5]), integer_arg(ARGV[6])
if not id or id == '' then return redis.error_reply('ERR invalid id') end
if not integer_arg(rev) or not expected then
  return redis.error_reply('ERR invalid revision or expected fire time')
end
if not new_next or new_next < -1 then return redis.error_reply('ERR invalid next fire time') end
if not added or added < 0 or not last or last < 0 or ARGV[7] == nil then
  return redis.error_reply('ERR invalid run count or last run')
end
if last > 0 and ARGV[7] == '' then return redis.error_reply('ERR a last fire time needs its job') end
local missed = integer_arg(ARGV[8] or '0')
if not missed or missed < 0 then return redis.error_reply('ERR invalid missed count') end
local record = decode_schedule(redis.call('HGET', KEYS[2], id))
if not record or redis.call('HEXISTS', KEYS[1], id) == 0 then return 0 end
if record.rev ~= rev or tonumber(record.next) ~= expected or record.paused == '1' then return 0 end
record.next = ARGV[4]
record.runs = tostring(tonumber(record.runs) + added)
if last > 0 then
  record.last = ARGV[6]
  record.job = ARGV[7]
end
store_schedule(KEYS[2], KEYS[3], id, record)
if missed > 0 then redis.call('HINCRBY', KEYS[4], id, missed) end
return 1
