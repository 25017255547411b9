-- delete_jobs(base, ids): removes every trace of the given jobs: errors and logs lists (only jobs
-- in the set x have them: job_lists.lua), and their fields in the queue's jobs (bodies), state,
-- result, progress, group, overrun and hooks hashes (a hash that does not exist is not asked: most
-- queues never store progress or groups, and the no-op cost one argument per job). The caller removes the ids
-- from the queue's sorted sets and lists, and releases the unique keys of jobs that may still
-- hold one (unique.lua; a finished job released its key when it finished).
local function delete_jobs(base, ids)
  if #ids == 0 then return end
  local keys = {}
  local listed = base .. 'x'
  if redis.call('EXISTS', listed) == 1 then
    local has_lists = redis.call('SMISMEMBER', listed, unpack(ids))
    local with_lists = {}
    for i, id in ipairs(ids) do
      if has_lists[i] == 1 then
        with_lists[#with_lists + 1] = id
        keys[#keys + 1] = base .. 'e:' .. id
        keys[#keys + 1] = base .. 'l:' .. id
      end
    end
    if #with_lists > 0 then redis.call('SREM', listed, unpack(with_lists)) end
  end
  if #keys > 0 then redis.call('DEL', unpack(keys)) end
  redis.call('HDEL', base .. 'jobs', unpack(ids))
  redis.call('HDEL', base .. 'state', unpack(ids))
  for _, hash in ipairs({base .. 'result', base .. 'progress', base .. 'g', base .. 'overrun',
                            base .. 'hooks'}) do
    if redis.call('EXISTS', hash) == 1 then redis.call('HDEL', hash, unpack(ids)) end
  end
end

-- trim_finished(base, zkey, keep_count, keep_age_ms, now): applies a retention policy to a zset of
-- finished jobs scored by finish time. keep_count < 0 and keep_age_ms <= 0 mean "no limit".
-- Removes at most 1000 jobs per call (so one call stays short); the next finish removes more.
-- Needs no scan: both the oldest beyond the count and the expired are found by rank or score.
local function trim_finished(base, zkey, keep_count, keep_age_ms, now)
  if keep_count >= 0 then
    local excess = redis.call('ZCARD', zkey) - keep_count
    if excess > 0 then
      local ids = redis.call('ZRANGE', zkey, 0, math.min(excess, 1000) - 1)
      delete_jobs(base, ids)
      redis.call('ZREMRANGEBYRANK', zkey, 0, #ids - 1)
    end
  end
  if keep_age_ms > 0 then
    local ids = redis.call('ZRANGEBYSCORE', zkey, '-inf', '(' .. (now - keep_age_ms), 'LIMIT', 0, 1000)
    if #ids > 0 then
      delete_jobs(base, ids)
      redis.call('ZREM', zkey, unpack(ids))
    end
  end
end
