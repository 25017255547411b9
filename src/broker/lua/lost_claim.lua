--[[ lost_claim: finds the jobs of a claim whose reply never reached its worker (the connection
dropped or the reply timed out after Redis ran the claim), so that the worker hands them back
with release.lua: not run, they use no attempt and count no stall. Without this they would stay
active until their leases expired, and recover.lua would count a stall each time; a job whose
claim replies got lost three times would be dead without ever having run.
KEYS[1] active   KEYS[2] state
ARGV[1] key base   ARGV[2] the receipt name the claim was given (claim.lua's ARGV[5])
Returns: {token, id1, id2, ...}: the claim's token and the ids that still hold its lease (active
  with the claim's deadline, their record's token the claim's; a job already released or
  recovered is left out); {} when the receipt is unknown (the claim never ran, or its lease
  has expired: then the jobs are recover.lua's).
Writes: deletes the receipt base.."rc:"..name. Changes no job: the worker releases them.
Cost: O(log N + k), k the jobs whose lease ends in the same millisecond.
]]
--!include parts.lua
--!include state.lua
local base, receipt = ARGV[1], ARGV[2]
if #ARGV ~= 2 or #receipt < 1 or #receipt > 64 then
  return redis.error_reply('ERR invalid arguments')
end
local key = base .. 'rc:' .. receipt
local value = redis.call('GET', key)
if not value then return {} end
local token, deadline = string.match(value, '^(%w+):(%d+)$')
if not token then return redis.error_reply('ERR malformed claim receipt ' .. key) end
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], deadline, deadline)
local out = {token}
if #ids > 0 then
  local records = read_in_parts('HMGET', KEYS[2], ids)
  for i, id in ipairs(ids) do
    if lease_of(records[i]) == token then out[#out + 1] = id end
  end
end
redis.call('DEL', key)
return out
