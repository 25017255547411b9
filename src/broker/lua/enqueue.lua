--[[ enqueue: adds jobs to a queue (one or a bulk batch). An id that exists is left untouched:
enqueueing it again is idempotent.
KEYS[1] wait (LIST)   KEYS[2] prio (ZSET)   KEYS[3] delayed (ZSET)   KEYS[4] meta (HASH)
ARGV[1] key base "taskq:{q}:"   ARGV[2] n, the number of jobs
ARGV[3 + 5*(i-1) ..] per job: id, body, priority, delay_ms, run_at_ms
  body: the job's JSON object; the script adds "c" (created, Redis time in ms) in front.
  priority: integer; 0 goes to the wait list, others to the prio zset.
  run_at_ms >= 0 wins over delay_ms; a due time not after now means "waiting now".
Returns: an array of n integers: 1 created waiting, 2 created delayed, 0 the id existed.
  Everything is validated before the first write: a bad argument returns an error reply and
  writes nothing.
Publishes: "" on base.."wake" when at least one job was created.
Writes: base.."j:"..id (STRING); base.."m:"..id (HASH, field p) only for a delayed job with a
  non-zero priority, so that promotion knows where it goes.
]]
--!include now.lua
local base = ARGV[1]
local n = tonumber(ARGV[2])
if not n or n < 1 or #ARGV ~= 2 + 5 * n then
  return redis.error_reply('ERR invalid argument count')
end
local kPriorityLimit = 1000000
for i = 0, n - 1 do
  local a = 3 + 5 * i
  local id, body = ARGV[a], ARGV[a + 1]
  local priority, delay, run_at = tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3]), tonumber(ARGV[a + 4])
  if id == '' or string.sub(body, 1, 1) ~= '{' or #body < 3 then
    return redis.error_reply('ERR invalid id or body at ' .. i)
  end
  if not priority or priority ~= math.floor(priority) or math.abs(priority) > kPriorityLimit then
    return redis.error_reply('ERR invalid priority at ' .. i)
  end
  if not delay or delay < 0 or not run_at then
    return redis.error_reply('ERR invalid delay at ' .. i)
  end
end

local now = now_ms()
local results = {}
local to_wait = {}
local created = 0
local seq = nil
for i = 0, n - 1 do
  local a = 3 + 5 * i
  local id = ARGV[a]
  local body = '{"c":' .. now .. ',' .. string.sub(ARGV[a + 1], 2)
  local priority, delay, run_at = tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3]), tonumber(ARGV[a + 4])
  if redis.call('SET', base .. 'j:' .. id, body, 'NX') then
    created = created + 1
    local due = now + delay
    if run_at >= 0 then due = run_at end
    if due > now then
      redis.call('ZADD', KEYS[3], due, id)
      if priority ~= 0 then redis.call('HSET', base .. 'm:' .. id, 'p', priority) end
      results[#results + 1] = 2
    elseif priority == 0 then
      to_wait[#to_wait + 1] = id
      results[#results + 1] = 1
    else
      -- FIFO within a priority: the low 32 bits of the score are a per-queue sequence number.
      if not seq then seq = redis.call('HINCRBY', KEYS[4], 'seq', n) - n end
      seq = seq + 1
      redis.call('ZADD', KEYS[2], priority * 4294967296 + (seq % 4294967296), id)
      results[#results + 1] = 1
    end
  else
    results[#results + 1] = 0
  end
end
if #to_wait > 0 then redis.call('RPUSH', KEYS[1], unpack(to_wait)) end
if created > 0 then redis.call('PUBLISH', base .. 'wake', '') end
return results
