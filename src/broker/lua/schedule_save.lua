--[[ schedule_save: creates a schedule, or replaces its definition.
KEYS[1] definitions (HASH "<prefix>:{:schedules}", id -> definition JSON)
KEYS[2] state (HASH, id -> state record, include/schedule_state.lua)   KEYS[3] due (ZSET)
ARGV[1] id   ARGV[2] definition, a JSON object (validated and encoded by the caller, so equal
  definitions are equal strings)
ARGV[3] mode: "create" (an existing id is refused) or "upsert" (created or replaced)
ARGV[4] next fire time in ms the caller computed from the new definition (-1: none, the schedule
  is ended at once); used only when the definition is new or changed
ARGV[5] paused: "1", "0", or "" to keep the current flag (a new schedule is not paused)
ARGV[6] max_runs of the definition (0: no limit): a replaced schedule that already ran that
  often is ended
ARGV[7] created ms of a new schedule: the Redis time the caller computed ARGV[4] at (it anchors
  "@every"); "" for now
Returns: {code, record}: code 1 created, 2 replaced, 0 unchanged (same definition: its next fire
  time, runs and last job are kept, so a restart that re-syncs the config file loses no fire
  time; only the paused flag may change), -1 refused (mode "create" and the id exists; nothing
  written). record: the state record as stored afterwards (the existing one for -1).
Writes: definitions[id], state[id], due (ZADD when active, ZREM when paused or ended). A replaced
  definition keeps runs, last fire, last job and created; its revision grows by one, so an
  advance computed from the old definition is refused (schedule_advance.lua).
Errors (nothing written): empty id, definition not an object, bad mode, next, paused or max_runs.
]]
--!include now.lua
--!include schedule_state.lua
local id, definition, mode, paused = ARGV[1], ARGV[2], ARGV[3], ARGV[5]
local next_fire, max_runs = integer_arg(ARGV[4]), integer_arg(ARGV[6])
if not id or id == '' then return redis.error_reply('ERR invalid id') end
if not definition or string.byte(definition, 1) ~= 123 or string.sub(definition, -1) ~= '}' then
  return redis.error_reply('ERR the definition must be a JSON object')
end
if mode ~= 'create' and mode ~= 'upsert' then return redis.error_reply('ERR invalid mode') end
if not next_fire or next_fire < -1 then return redis.error_reply('ERR invalid next fire time') end
if paused ~= '1' and paused ~= '0' and paused ~= '' then
  return redis.error_reply('ERR invalid paused flag')
end
if not max_runs or max_runs < 0 then return redis.error_reply('ERR invalid max_runs') end
local created = ARGV[7] == '' and now_ms() or integer_arg(ARGV[7])
if not created or created < 0 then return redis.error_reply('ERR invalid created time') end

local stored = redis.call('HGET', KEYS[1], id)
local current = decode_schedule(redis.call('HGET', KEYS[2], id))
if stored and current then
  if mode == 'create' then return {-1, encode_schedule(current)} end
  local code = 0
  if stored ~= definition then
    code = 2
    current.rev = tostring(tonumber(current.rev) + 1)
    current.next = ARGV[4]
    if max_runs > 0 and tonumber(current.runs) >= max_runs then current.next = '-1' end
    redis.call('HSET', KEYS[1], id, definition)
  end
  if paused ~= '' then current.paused = paused end
  store_schedule(KEYS[2], KEYS[3], id, current)
  return {code, encode_schedule(current)}
end
-- New (a definition without a readable record is rebuilt as new).
local record = {rev = '1', next = ARGV[4], runs = '0', last = '0',
                paused = paused == '1' and '1' or '0', created = tostring(created), job = ''}
redis.call('HSET', KEYS[1], id, definition)
store_schedule(KEYS[2], KEYS[3], id, record)
return {1, encode_schedule(record)}
