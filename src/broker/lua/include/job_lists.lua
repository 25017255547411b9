-- A job's errors list (base.."e:"..id, newest first) and log (base.."l:"..id, oldest first), both
-- capped. Most jobs never fail or log, so the set base.."x" names the jobs that have either list,
-- and delete_jobs (delete_jobs.lua) touches the lists of those jobs only: building two key names
-- and deleting two absent keys for every finished job was a measurable share of the Redis work
-- per job on the hot path.
-- Whatever writes one of these lists must do it through these functions.
local function push_job_error(base, id, entry, max_errors)
  local key = base .. 'e:' .. id
  redis.call('LPUSH', key, entry)
  redis.call('LTRIM', key, 0, max_errors - 1)
  redis.call('SADD', base .. 'x', id)
end

-- append_job_log(base, id, max_logs, line, ...): the lines go to the log's tail.
local function append_job_log(base, id, max_logs, ...)
  local key = base .. 'l:' .. id
  redis.call('RPUSH', key, ...)
  redis.call('LTRIM', key, -max_logs, -1)
  redis.call('SADD', base .. 'x', id)
end
