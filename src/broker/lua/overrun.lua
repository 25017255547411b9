--[[ overrun: marks the jobs whose attempt timed out while their handler still runs (a handler
thread cannot be killed; it is asked to stop), and clears the mark once the handler has returned.
The worker keeps such a job's lease renewed, so no other attempt starts while the old one runs;
the mark is what the API, the dashboard and the metrics show as "overrunning".
KEYS[1] state   KEYS[2] overrun (HASH)   KEYS[3] meta
ARGV[1 ..] per job: id, token, timeout_ms: a whole number >= 1 marks the job
  (the timeout it ran past), 0 clears its mark
Returns: an array, per job, 1 done or 0 not: a mark needs the caller to hold the lease (token);
  a clear needs a mark of that token. Notices apply in order: a clear after a mark of the same
  job in one call finds that mark.
Writes: mark: overrun[id] = "<token>:<since ms>:<timeout ms>", and meta.overran counts the jobs
  newly marked (a lifetime count; marking again while the mark is stored, as a resent round trip
  does, keeps the first mark and counts nothing); clear: HDEL overrun id. release.lua and
  recover.lua drop the marks of the jobs they take back: once the lease has ended, the mark no
  longer describes the job. Every argument is checked before the first write.
]]
--!include now.lua
--!include state.lua
if #ARGV < 3 or #ARGV % 3 ~= 0 then return redis.error_reply('ERR invalid arguments') end
local ids, timeouts = {}, {}
for i = 1, #ARGV, 3 do
  local timeout = tonumber(ARGV[i + 2])
  if not timeout or timeout < 0 or timeout > 1e15 or timeout ~= math.floor(timeout)
      or #ARGV[i] == 0 then
    return redis.error_reply('ERR invalid arguments')
  end
  ids[#ids + 1] = ARGV[i]
  timeouts[#ids] = timeout
end
if #ids > 1000 then return redis.error_reply('ERR too many jobs') end
local records = redis.call('HMGET', KEYS[1], unpack(ids))
local stored = redis.call('HMGET', KEYS[2], unpack(ids))
local now_s = tostring(now_ms())
-- Notices apply in order, each seeing what those before it did (a mark and its clear can come in
-- one call when a handler returns right after its timeout): marks holds each job's mark as of
-- the notices applied so far (false: none), and only the final state is written.
local marks, order = {}, {}
local function token_of(mark) return mark and string.match(mark, '^(%w+):') end
local results, new_marks = {}, 0
for k, id in ipairs(ids) do
  if marks[id] == nil then
    marks[id] = stored[k] or false
    order[#order + 1] = {id, stored[k] or false}
  end
  local token = ARGV[3 * k - 1]
  local done = 0
  if token ~= '' then
    if timeouts[k] > 0 then
      if lease_of(records[k]) == token and string.find(records[k], '^active:') then
        if token_of(marks[id]) ~= token then
          marks[id] = token .. ':' .. now_s .. ':' .. string.format('%d', timeouts[k])
          new_marks = new_marks + 1
        end
        done = 1
      end
    elseif token_of(marks[id]) == token then
      marks[id] = false
      done = 1
    end
  end
  results[k] = done
end
local set, cleared = {}, {}
for _, entry in ipairs(order) do
  local id, before = entry[1], entry[2]
  local after = marks[id]
  if after ~= before then
    if after then
      set[#set + 1] = id
      set[#set + 1] = after
    else
      cleared[#cleared + 1] = id
    end
  end
end
if #set > 0 then redis.call('HSET', KEYS[2], unpack(set)) end
if new_marks > 0 then redis.call('HINCRBY', KEYS[3], 'overran', new_marks) end
if #cleared > 0 then redis.call('HDEL', KEYS[2], unpack(cleared)) end
return results
