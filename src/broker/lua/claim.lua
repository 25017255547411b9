--[[ claim: leases up to n jobs to a worker, highest priority (lowest number) first, FIFO within a
priority. First moves due delayed and retrying jobs to waiting, so they are claimable the moment
they are due, without a separate poller.
KEYS[1] wait  KEYS[2] prio  KEYS[3] delayed  KEYS[4] retry  KEYS[5] active  KEYS[6] meta
KEYS[7] state   KEYS[8] rate window (ZSET)
ARGV[1] key base   ARGV[2] n (1..1000)   ARGV[3] lease_ms   ARGV[4] promote limit per call (1..1000)
ARGV[5] (optional) a receipt name, 1..64 bytes, unique per claim call of a worker: when jobs are
  claimed, base.."rc:"..name is set to "<token>:<lease deadline>" for the lease's length, so
  that a worker whose reply was lost (connection dropped, reply timed out) can hand the jobs back
  without a stall (lost_claim.lua), instead of leaving them to expire.
Returns: {now_ms, paused (0/1), more (0/1), next_due_in_ms (-1: none), count, token,
  id, body, attempt, ... (3 per claimed job)}
  token is the text of the fencing token every job of this claim holds ("" when none was
  claimed): once per reply, not per job.
  attempt is negated when the job has started before without using it up: handed back at
  shutdown (release), postponed, or retried from dead. Its wait since due was counted then.
  more = 1: all n were claimed and no limit held any back, so more may be waiting (claim again
  without waiting for a wake).
  next_due_in_ms: when fewer than n were claimed, how long until the next delayed/retrying job
  is due or the queue's rate limit lets more start, whichever is first.
Limits (queue_limits.lua keeps them in meta): with meta.cc, at most cc jobs are active at once
  (finishing scripts publish a wake when a slot frees up); with meta.rl = "max:window_ms", at
  most max jobs start in any window (rate_window.lua; base.."rls" is the window's running sum).
  Jobs a limit holds back stay waiting, in order.
Groups (meta.gwaiting > 0; groups.lua): grouped jobs are served round robin, one per group per
  turn, the ungrouped jobs taking one turn like a group; meta.grl and meta.gcc limit each group
  (a group held back waits in gheld, costing nothing until its time or a finish of its jobs).
  A claimed job whose body is missing (deleted behind taskq's back) comes back with body "".
Writes per claimed job: its state record gets st = active, a + 1, ts = now, tk = token, p;
  active gets id with score now + lease_ms. The token is max(meta.fence + 1, Redis' clock in
  microseconds), stored back in meta.fence (decimal), once per claim, so tokens stay unique
  across a failover to a replica that missed the last claims. The jobs of one claim share it (a
  token only has to differ between two claims of the same job), and tokens only grow. Records,
  replies, receipts and callers carry its text in base 36 (10 characters, not 16 digits: every
  active job's record holds it, src/broker/token_text.h); scripts only compare texts.
Cost: a fixed number of Redis calls per claim (about 11, 4 to 6 more with a rate limit),
  whatever n is.
Events (events.lua): 'waiting' with the due jobs it promoted, and 'active' with the claimed ids,
  when there are any.
]]
--!include now.lua
--!include state.lua
--!include parts.lua
--!include requeue.lua
--!include rate_window.lua
--!include group_claim.lua
--!include events.lua
local base = ARGV[1]
local n, lease = tonumber(ARGV[2]), tonumber(ARGV[3])
local promote_limit = tonumber(ARGV[4])
local receipt = ARGV[5]
if not n or n < 1 or n > 1000 or n ~= math.floor(n) or not lease or lease < 1
    or not promote_limit or promote_limit < 1 or promote_limit > 1000
    or promote_limit ~= math.floor(promote_limit) or #ARGV > 5
    or (receipt and (#receipt < 1 or #receipt > 64)) then
  return redis.error_reply('ERR invalid arguments')
end
local now, now_us = now_ms()

local config = redis.call('HMGET', KEYS[6], 'paused', 'cc', 'rl', 'gwaiting', 'grl', 'gcc', 'ag',
                           'fence')
local aging = config[7]  -- scores are then aged (requeue.lua): priorities come from records
if config[1] == '1' then return {now, 1, 0, -1, 0, ''} end

local function promote(zkey)
  local due = redis.call('ZRANGEBYSCORE', zkey, '-inf', now, 'LIMIT', 0, promote_limit)
  if #due == 0 then return 0 end
  redis.call('ZREM', zkey, unpack(due))
  local records = redis.call('HMGET', KEYS[7], unpack(due))
  local priorities, updates = {}, {}
  for i, id in ipairs(due) do
    local record = decode_state(records[i])
    priorities[i] = record and tonumber(record.p) or 0
    if records[i] and record then
      record.st = 'waiting'
      updates[#updates + 1] = id
      updates[#updates + 1] = encode_state(record)
    end
  end
  if #updates > 0 then redis.call('HSET', KEYS[7], unpack(updates)) end
  requeue(base, KEYS[1], KEYS[2], KEYS[6], due, priorities, false)
  emit_event(base, 'waiting', due)
  return #due
end
if promote(KEYS[3]) + promote(KEYS[4]) > 0 then
  config[4] = redis.call('HGET', KEYS[6], 'gwaiting')  -- promoted jobs may be grouped
end

-- Limits shrink n; `limited` then says that more may be waiting than this claim takes.
local wanted, limited, limit_wait = n, false, -1
if config[2] then
  local room = tonumber(config[2]) - redis.call('ZCARD', KEYS[5])
  if room < n then n, limited = math.max(room, 0), true end
end
local rate_max, rate_window = parse_rate(config[3])
local rate_filled = false  -- this claim takes the last room of the rate window
if rate_max and n > 0 then
  local room, wait = window_room(KEYS[8], base .. 'rls', rate_max, rate_window, now)
  if room <= n then rate_filled = true end
  if room < n then n, limited, limit_wait = room, true, wait end
end

-- Grouped jobs first (group_claim.lua): the groups and the ungrouped jobs take turns; `ungrouped` is
-- then how many of this claim come from wait/prio.
local budget = n
local grouped, took, took_order
local group_max, group_window = parse_rate(config[5])
local ungrouped = n
if n > 0 and tonumber(config[4] or '0') > 0 then
  local waiting_ungrouped = redis.call('LLEN', KEYS[1]) + redis.call('ZCARD', KEYS[2])
  local hold_wait, held
  grouped, ungrouped, hold_wait, held, took, took_order = claim_groups(
    base, KEYS[6], n, now, group_max, group_window, tonumber(config[6]), waiting_ungrouped)
  if held then limited = true end
  if hold_wait >= 0 and (limit_wait < 0 or hold_wait < limit_wait) then limit_wait = hold_wait end
end

-- Order: negative priorities (prio zset), then priority 0 (wait list), then positive ones.
local ids, priorities, from_prio = {}, {}, {}
n = ungrouped
local head = n > 0 and redis.call('ZRANGE', KEYS[2], 0, n - 1, 'WITHSCORES') or {}
local h = 1
while h <= #head and #ids < n and tonumber(head[h + 1]) < 0 do
  ids[#ids + 1] = head[h]
  priorities[#ids] = priority_of(head[h + 1])
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
  priorities[#ids] = priority_of(head[h + 1])
  from_prio[#from_prio + 1] = head[h]
  h = h + 2
end
if #from_prio > 0 then redis.call('ZREM', KEYS[2], unpack(from_prio)) end
if grouped then
  for i, id in ipairs(grouped.ids) do
    ids[#ids + 1] = id
    priorities[#ids] = grouped.priorities[i]
  end
  n = n + #grouped.ids
end

-- The base-36 text of a whole number below 2^53 (exact in a Lua number).
local function token_text(value)
  local digits = '0123456789abcdefghijklmnopqrstuvwxyz'
  local out = ''
  repeat
    local d = value % 36
    out = string.sub(digits, d + 1, d + 1) .. out
    value = (value - d) / 36
  until value == 0
  return out
end

local count = #ids
local token, token_s
if count > 0 then
  -- The token is the larger of meta.fence + 1 and Redis' clock in microseconds: it only grows,
  -- and a replica promoted after missing the last claims (its fence behind) still never hands out
  -- a token an earlier master gave, because its clock is past the failover. That holds while the
  -- Redis hosts' clocks agree to better than a failover takes (seconds).
  token = math.max((tonumber(config[8]) or 0) + 1, now_us)
  -- (tostring would print 16 digits in exponent form)
  redis.call('HSET', KEYS[6], 'fence', string.format('%.0f', token))
  token_s = token_text(token)
  if rate_max then window_add(KEYS[8], base .. 'rls', count, token_s, now, rate_window) end
  if took and group_max then
    groups_record_starts(base, took, took_order, token_s, now, group_window)
  end
end
if rate_filled and count == budget and limit_wait < 0 then
  limit_wait = window_wait(KEYS[8], rate_window, now)
  limited = true
end
local next_due = limit_wait
if count < wanted then
  for _, zkey in ipairs({KEYS[3], KEYS[4]}) do
    local first = redis.call('ZRANGE', zkey, 0, 0, 'WITHSCORES')
    if #first == 2 then
      local wait_ms = math.max(0, tonumber(first[2]) - now)
      if next_due < 0 or wait_ms < next_due then next_due = wait_ms end
    end
  end
end
local out = {now, 0, (count == wanted and not limited) and 1 or 0, next_due, count, token_s or ''}
if count == 0 then return out end

local now_s = tostring(now)
local deadline_s = tostring(now + lease)
local fresh = 'active:1:0:' .. now_s .. ':0:0:' .. token_s .. ':0'  -- first attempt, priority 0
local records = redis.call('HMGET', KEYS[7], unpack(ids))
local active_args, state_args = {}, {}
for i, id in ipairs(ids) do
  local attempt, restarted = 1, false
  local value
  if not records[i] and (priorities[i] == 0 or aging) then
    value = fresh
  else
    local record = decode_state(records[i]) or decode_state(nil)
    attempt = tonumber(record.a) + 1
    restarted = attempt == 1 and record.ts ~= '0'
    -- cx is kept: a cancel requested before a requeue still applies; p is kept: every job of
    -- another priority than 0 has a record holding it (enqueue.lua), whatever its score is
    record.st, record.a, record.ts, record.tk = 'active', attempt, now_s, token_s
    value = encode_state(record)
  end
  state_args[#state_args + 1] = id
  state_args[#state_args + 1] = value
  active_args[#active_args + 1] = deadline_s
  active_args[#active_args + 1] = id
  out[#out + 1] = id
  out[#out + 1] = false
  out[#out + 1] = restarted and -attempt or attempt
end
redis.call('HSET', KEYS[7], unpack(state_args))
redis.call('ZADD', KEYS[5], unpack(active_args))
if receipt then redis.call('SET', base .. 'rc:' .. receipt, token_s .. ':' .. deadline_s, 'PX', lease) end
local bodies = redis.call('HMGET', base .. 'jobs', unpack(ids))
for i = 1, count do out[6 + 3 * (i - 1) + 2] = bodies[i] or '' end
emit_event(base, 'active', ids)
return out
