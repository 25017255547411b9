--[[ progress: stores the progress and new log lines of running jobs, only while the caller still
holds the lease.
KEYS[1] meta (unused; routes the script to the queue's slot)
ARGV[1] key base   ARGV[2] max log lines kept per job
ARGV[3 ..] per job: id, token, progress (JSON, "" = unchanged), k, then k log lines
Returns: an array, per job, 1 stored or 0 rejected (stale token). A malformed update (a log count
  that is not a whole number >= 0 or overruns the arguments) returns an error and writes nothing.
Writes: m:<id> pr; l:<id> gets the lines appended and is trimmed to the newest max lines.
]]
local base = ARGV[1]
local max_logs = tonumber(ARGV[2])
if not max_logs or max_logs < 1 or max_logs ~= math.floor(max_logs) then
  return redis.error_reply('ERR invalid arguments')
end
-- Every update is checked before the first write: Redis has no rollback.
local i = 3
while i <= #ARGV do
  local k = tonumber(ARGV[i + 3])
  if not k or k < 0 or k ~= math.floor(k) or i + 3 + k > #ARGV then
    return redis.error_reply('ERR invalid log count')
  end
  i = i + 4 + k
end
local results = {}
i = 3
while i <= #ARGV do
  local id, token, progress, k = ARGV[i], ARGV[i + 1], ARGV[i + 2], tonumber(ARGV[i + 3])
  local mk = base .. 'm:' .. id
  if token ~= '' and redis.call('HGET', mk, 'tk') == token then
    if progress ~= '' then redis.call('HSET', mk, 'pr', progress) end
    if k > 0 then
      local lk = base .. 'l:' .. id
      redis.call('RPUSH', lk, unpack(ARGV, i + 4, i + 3 + k))
      redis.call('LTRIM', lk, -max_logs, -1)
    end
    results[#results + 1] = 1
  else
    results[#results + 1] = 0
  end
  i = i + 4 + k
end
return results
