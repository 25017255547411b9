-- delete_jobs(base, ids): removes every trace of the given jobs: body, errors and logs keys, and
-- their fields in the queue's state, result, progress and group hashes. The caller removes the
-- ids from the queue's sorted sets and lists, and releases the unique keys of jobs that may still
-- hold one (unique.lua; a finished job released its key when it finished).
local function delete_jobs(base, ids)
  if #ids == 0 then return end
  local keys = {}
  for _, id in ipairs(ids) do
    keys[#keys + 1] = base .. 'j:' .. id
    keys[#keys + 1] = base .. 'e:' .. id
    keys[#keys + 1] = base .. 'l:' .. id
  end
  redis.call('DEL', unpack(keys))
  redis.call('HDEL', base .. 'state', unpack(ids))
  redis.call('HDEL', base .. 'result', unpack(ids))
  redis.call('HDEL', base .. 'progress', unpack(ids))
  redis.call('HDEL', base .. 'g', unpack(ids))  -- grouped jobs' group (requeue.lua)
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
