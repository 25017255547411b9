--[[ progress: stores the progress and new log lines of running jobs, only while the caller still
holds the lease.
KEYS[1] state   KEYS[2] progress
ARGV[1] key base   ARGV[2] max log lines kept per job
ARGV[3 ..] per job: id, token, progress (JSON, "" = unchanged), k (0..1000), then k log lines
Returns: an array, per job, 1 stored or 0 rejected (stale token). A malformed update (a log count
  that is not a whole number in 0..1000 or overruns the arguments) returns an error and writes nothing.
Writes: progress hash field <id>; l:<id> gets the lines appended, trimmed to the newest max lines
  (job_lists.lua: the job joins x).
]]
--!include parts.lua
--!include state.lua
--!include job_lists.lua
local base = ARGV[1]
local max_logs = tonumber(ARGV[2])
if not max_logs or max_logs < 1 or max_logs ~= math.floor(max_logs) then
  return redis.error_reply('ERR invalid arguments')
end
-- Every update is checked before the first write: Redis has no rollback.
local ids = {}
local i = 3
while i <= #ARGV do
  local k = tonumber(ARGV[i + 3])
  if not k or k < 0 or k > 1000 or k ~= math.floor(k) or i + 3 + k > #ARGV then
    return redis.error_reply('ERR invalid log count')
  end
  ids[#ids + 1] = ARGV[i]
  i = i + 4 + k
end
if #ids == 0 then return {} end
local records = read_in_parts('HMGET', KEYS[1], ids)
local results, progress = {}, {}
local logs = {}  -- {id, first argument, last argument, ...}: appended after the progress HSET
i = 3
for j = 1, #ids do
  local id, token, value, k = ARGV[i], ARGV[i + 1], ARGV[i + 2], tonumber(ARGV[i + 3])
  local tk = lease_of(records[j])
  if token ~= '' and tk == token then
    if value ~= '' then
      progress[#progress + 1] = id
      progress[#progress + 1] = value
    end
    if k > 0 then
      logs[#logs + 1] = id
      logs[#logs + 1] = i + 4
      logs[#logs + 1] = i + 3 + k
    end
    results[#results + 1] = 1
  else
    results[#results + 1] = 0
  end
  i = i + 4 + k
end
if #progress > 0 then call_in_parts('HSET', KEYS[2], progress) end
for e = 1, #logs, 3 do
  append_job_log(base, logs[e], max_logs, unpack(ARGV, logs[e + 1], logs[e + 2]))
end
return results
