-- A job's state record: one field of the queue's `state` hash (base.."state", field = job id),
-- "st:a:s:ts:tf:p:tk:cx" = state name, attempts started, stalls, started ms, finished ms,
-- priority, fencing token of the current lease in base 36 (claim.lua; "" when not active), cancel
-- requested (0/1).
-- One hash for all jobs of a queue lets a batch of jobs be read and written with one HMGET and
-- one HSET, where a hash per job would cost one call per job (docs/architecture.md).
-- A job that was never claimed and has priority 0 has no record (it is waiting or delayed).
-- Fields stay strings: turning a Lua number into a string costs a sprintf, which on the hot paths
-- (claim, complete) would cost more than the Redis calls themselves.
local kStatePattern = '^(%a*):(%d+):(%d+):(%d+):(%d+):(%-?%d+):(%w*):([01])$'

-- The record as a table of strings; a missing record decodes as a never-claimed job; a malformed
-- one as nil.
local function decode_state(value)
  if not value then
    return {st = '', a = '0', s = '0', ts = '0', tf = '0', p = '0', tk = '', cx = '0'}
  end
  local st, a, s, ts, tf, p, tk, cx = string.match(value, kStatePattern)
  if not st then return nil end
  return {st = st, a = a, s = s, ts = ts, tf = tf, p = p, tk = tk, cx = cx}
end

-- lease_of(record) -> tk, cx: the token and cancel flag of a record, without decoding the rest
-- (nothing for a missing or malformed record): what the lease checks of extend, progress,
-- lost_claim and overrun read. complete.lua matches its own pattern, which also cuts the record.
local function lease_of(record)
  if not record then return nil end
  return string.match(record, ':(%w*):([01])$')
end

-- shown_state(value, delayed, id) -> the state name and cancel flag ("0"/"1") that reads show of
-- a job that exists, from its record `value` (nil: none): without a record (or with st = "") it
-- is delayed when it has a score in `delayed` (the key), else waiting.
local function shown_state(value, delayed, id)
  local name, cx = '', '0'
  if value then
    name = string.match(value, '^(%a*):') or ''
    cx = string.match(value, ':([01])$') or '0'
  end
  if name == '' then name = redis.call('ZSCORE', delayed, id) and 'delayed' or 'waiting' end
  return name, cx
end

local function encode_state(r)
  return r.st .. ':' .. r.a .. ':' .. r.s .. ':' .. r.ts .. ':' .. r.tf .. ':' .. r.p .. ':' ..
    r.tk .. ':' .. r.cx
end
