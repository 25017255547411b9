--[[ claim: leases up to n jobs to a worker, highest priority (lowest number) first, FIFO within a
priority. First moves due delayed and retrying jobs to waiting, so they are claimable the moment
they are due, without a separate poller.
KEYS[1] wait  KEYS[2] prio  KEYS[3] delayed  KEYS[4] retry  KEYS[5] active  KEYS[6] meta
ARGV[1] key base   ARGV[2] n (1..1000)   ARGV[3] lease_ms   ARGV[4] promote limit per call
Returns: {now_ms, paused (0/1), more (0/1), next_due_in_ms (-1: none), count,
          id, body, attempt, token, ... (4 per claimed job)}
  more = 1: jobs are still waiting after this claim (claim again without waiting for a wake).
  next_due_in_ms: when nothing more is waiting, how long until the next delayed/retrying job is due.
  A claimed job whose body is missing (deleted behind taskq's back) comes back with body "".
Writes per claimed job: m:<id> a += 1, st = active, ts = now, tk = token (p = priority if not 0);
  active gets id with score now + lease_ms. Tokens come from meta.fence, so they only grow.
]]
--!include now.lua
local base = ARGV[1]
local n, lease = tonumber(ARGV[2]), tonumber(ARGV[3])
local promote_limit = tonumber(ARGV[4])
if not n or n < 1 or n > 1000 or not lease or lease < 1 or not promote_limit then
  return redis.error_reply('ERR invalid arguments')
end
local now = now_ms()
local kScoreShift = 4294967296

if redis.call('HGET', KEYS[6], 'paused') == '1' then return {now, 1, 0, -1, 0} end

local function promote(zkey, mark_waiting)
  local due = redis.call('ZRANGEBYSCORE', zkey, '-inf', now, 'LIMIT', 0, promote_limit)
  if #due == 0 then return end
  redis.call('ZREM', zkey, unpack(due))
  local plain = {}
  for _, id in ipairs(due) do
    local mk = base .. 'm:' .. id
    local p = tonumber(redis.call('HGET', mk, 'p') or '0')
    if mark_waiting then redis.call('HSET', mk, 'st', 'waiting') end
    if p == 0 then
      plain[#plain + 1] = id
    else
      local seq = redis.call('HINCRBY', KEYS[6], 'seq', 1)
      redis.call('ZADD', KEYS[2], p * kScoreShift + (seq % kScoreShift), id)
    end
  end
  if #plain > 0 then redis.call('RPUSH', KEYS[1], unpack(plain)) end
end
promote(KEYS[3], false)
promote(KEYS[4], true)

-- Order: negative priorities (prio zset), then priority 0 (wait list), then positive ones.
local ids, priorities, from_prio = {}, {}, {}
local head = redis.call('ZRANGE', KEYS[2], 0, n - 1, 'WITHSCORES')
local h = 1
while h <= #head and #ids < n and tonumber(head[h + 1]) < 0 do
  ids[#ids + 1] = head[h]
  priorities[#ids] = math.floor(tonumber(head[h + 1]) / kScoreShift)
  from_prio[#from_prio + 1] = head[h]
  h = h + 2
end
if #ids < n then
  local popped = redis.call('LPOP', KEYS[1], n - #ids)
  if popped then
    for _, id in ipairs(popped) do
      ids[#ids + 1] = id
      priorities[#ids] = 0
    end
  end
end
while h <= #head and #ids < n do
  ids[#ids + 1] = head[h]
  priorities[#ids] = math.floor(tonumber(head[h + 1]) / kScoreShift)
  from_prio[#from_prio + 1] = head[h]
  h = h + 2
end
if #from_prio > 0 then redis.call('ZREM', KEYS[2], unpack(from_prio)) end

local count = #ids
local more, next_due = 0, -1
if count == n then
  if redis.call('LLEN', KEYS[1]) > 0 or redis.call('ZCARD', KEYS[2]) > 0 then more = 1 end
else
  for _, zkey in ipairs({KEYS[3], KEYS[4]}) do
    local first = redis.call('ZRANGE', zkey, 0, 0, 'WITHSCORES')
    if #first == 2 then
      local wait_ms = math.max(0, tonumber(first[2]) - now)
      if next_due < 0 or wait_ms < next_due then next_due = wait_ms end
    end
  end
end
local out = {now, 0, more, next_due, count}
if count == 0 then return out end

local token = redis.call('HINCRBY', KEYS[6], 'fence', count) - count
local deadline = now + lease
local active_args, job_keys = {}, {}
for i, id in ipairs(ids) do
  local mk = base .. 'm:' .. id
  token = token + 1
  local attempt = redis.call('HINCRBY', mk, 'a', 1)
  if priorities[i] ~= 0 then
    redis.call('HSET', mk, 'st', 'active', 'ts', now, 'tk', token, 'p', priorities[i])
  else
    redis.call('HSET', mk, 'st', 'active', 'ts', now, 'tk', token)
  end
  active_args[#active_args + 1] = deadline
  active_args[#active_args + 1] = id
  job_keys[i] = base .. 'j:' .. id
  out[#out + 1] = id
  out[#out + 1] = false
  out[#out + 1] = attempt
  out[#out + 1] = token
end
redis.call('ZADD', KEYS[5], unpack(active_args))
local bodies = redis.call('MGET', unpack(job_keys))
for i = 1, count do out[5 + 4 * (i - 1) + 2] = bodies[i] or '' end
return out
