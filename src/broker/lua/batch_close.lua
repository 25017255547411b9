--[[ batch_close: closes an open batch (flows.lua): no more jobs are expected, so once every
member has settled its callbacks run. A batch whose members have all settled finishes now.
KEYS[1] meta
ARGV[1] key base   ARGV[2] u, the batch key
Returns: 1 closed; 0 it was closed already (nothing written); -3 no such batch.
Writes: open = 0 in the record; batch_check's steps when every member has settled.
Events: flows.lua's, for a callback released or failed.
]]
--!include now.lua
--!include events.lua
--!include state.lua
--!include parts.lua
--!include requeue.lua
--!include job_lists.lua
--!include group_unqueue.lua
--!include hooks.lua
--!include delete_jobs.lua
--!include flows.lua
local base, u = ARGV[1], ARGV[2]
if #ARGV ~= 2 or u == '' then return redis.error_reply('ERR invalid arguments') end
local record = base .. 'flow:' .. u
local kind, open = unpack(redis.call('HMGET', record, 'kind', 'open'))
if kind ~= 'batch' then return -3 end
if open ~= '1' then return 0 end
redis.call('HSET', record, 'open', '0')
local ctx = flow_ctx(base, now_ms())
batch_check(ctx, u, record, nil)
flow_events(ctx)
return 1
