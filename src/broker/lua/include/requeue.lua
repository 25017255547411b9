-- Queueing jobs by priority. A prio zset score is priority * 2^32 + an offset in (-2^31, 2^31):
-- at the tail, the per-queue sequence meta.seq (so jobs of one priority run in FIFO order); at the
-- head, minus the sequence meta.hseq (so a later head requeue goes ahead of an earlier one, as
-- LPUSH does on the wait list). Offsets are integers: scores stay exact up to |priority| = 2^20.
-- The priority is the score divided by 2^32, rounded to the nearest integer.
local kScoreShift = 4294967296
local kOffsetWrap = 2147483648

local function priority_of(score)
  return math.floor(tonumber(score) / kScoreShift + 0.5)
end

-- requeue(base, wait, prio, meta, ids, priorities, at_head): queues jobs, in the given order, at the
-- tail of their priority (or at its head when at_head, keeping their order there). One call per
-- structure, whatever the number of jobs.
local function requeue(base, wait, prio, meta, ids, priorities, at_head)
  if #ids == 0 then return end
  local plain, scored = {}, {}
  local n_scored = 0
  for i = 1, #ids do
    if priorities[i] ~= 0 then n_scored = n_scored + 1 end
  end
  local seq = nil
  if n_scored > 0 then
    seq = redis.call('HINCRBY', meta, at_head and 'hseq' or 'seq', n_scored) - n_scored
  end
  local k = 0
  for i, id in ipairs(ids) do
    local p = priorities[i]
    if p == 0 then
      plain[#plain + 1] = id
    else
      local offset
      if at_head then
        offset = -((seq + n_scored - k) % kOffsetWrap)  -- the first given is the most negative
      else
        offset = (seq + k + 1) % kOffsetWrap
      end
      k = k + 1
      scored[#scored + 1] = p * kScoreShift + offset
      scored[#scored + 1] = id
    end
  end
  if #plain > 0 then
    if at_head then
      local reversed = {}
      for i = #plain, 1, -1 do reversed[#reversed + 1] = plain[i] end
      redis.call('LPUSH', wait, unpack(reversed))
    else
      redis.call('RPUSH', wait, unpack(plain))
    end
  end
  if #scored > 0 then redis.call('ZADD', prio, unpack(scored)) end
end
