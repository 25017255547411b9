-- What fail, postpone and release share when they end attempts: which (id, token) pairs still
-- hold their job's lease, the record of an attempt that does not count, and the writes that take
-- those jobs out of `active`.
-- Needs state.lua and parts.lua.

-- leased_record(raw, id, token, ended) -> the decoded state record (state.lua) of job `id` when
-- `token` is its current lease and `id` was not ended earlier in this call, else nil. `raw` is the
-- record as HMGET read it (false when missing). `ended` marks the ids ended so far: a repeated id
-- in one batch is stale the second time. An empty token never holds a lease.
local function leased_record(raw, id, token, ended)
  if token == '' or not raw or ended[id] then return nil end
  local record = decode_state(raw)
  if not record or record.tk ~= token then return nil end
  ended[id] = true
  return record
end

-- uncount_attempt(record, id, st, states): the attempt ends without counting (postpone,
-- release): the job leaves its lease for state `st` with its attempt number given back, and its
-- new record is appended to `states` ({id, encoded record, ...}) for leave_active.
local function uncount_attempt(record, id, st, states)
  record.st = st
  record.tk = ''
  record.a = math.max(0, tonumber(record.a) - 1)
  states[#states + 1] = id
  states[#states + 1] = encode_state(record)
end

-- leave_active(active_key, state_key, states, ids): writes the jobs' new state records
-- ({id, encoded record, ...}) and removes `ids` from `active`, in parts (parts.lua).
local function leave_active(active_key, state_key, states, ids)
  call_in_parts('HSET', state_key, states)
  call_in_parts('ZREM', active_key, ids)
end
