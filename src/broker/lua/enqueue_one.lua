--[[ enqueue_one: adds one plain job (priority 0, no delay, no group, not unique) to a queue: the
common single enqueue, kept apart from enqueue.lua because there a script call costs more than the
Redis calls it makes. An id that exists is left untouched (idempotent).
KEYS[1] wait (LIST)   KEYS[2] meta (HASH)
ARGV[1] key base "taskq:{q}:"   ARGV[2] id   ARGV[3] body, the job's JSON object: the script
  adds "c" (created, Redis time in ms) in front, as enqueue.lua does.
ARGV[4] (optional) the shard layout version the producer placed the job by (shard_layout.lua);
  absent: the producer knows the queue as never sharded.
Returns: 1 created (waiting), 0 the id existed, -1 nothing done: the queue takes a group from
  the data (meta.gf), ages priorities (meta.ag) or has a maximum length (meta.ml), which
  enqueue.lua handles: call it instead.
  A bad argument (empty id, a body that is not an object) is an error reply; nothing is written.
  "LAYOUT <sv>": the layout version is not meta.sv, or one is named and meta.sv is absent (then
  <sv> is "0"), or none is named and meta.sv is present; nothing is written, and the producer
  reads the queue's layout again.
Writes: the body as field id of base.."jobs" (HASH), and the id at the tail of wait;
  meta.enqueued counts created jobs.
Publishes: "" on base.."wake" when the job was created.
Events (events.lua): 'enqueued' with the id, when it was created.
]]
--!include now.lua
--!include events.lua
if #ARGV ~= 3 and #ARGV ~= 4 then return redis.error_reply('ERR invalid argument count') end
local base, id, body = ARGV[1], ARGV[2], ARGV[3]
if id == '' or #body < 3 or string.byte(body, 1) ~= 123 then
  return redis.error_reply('ERR invalid id or body at 0')
end
local config = redis.call('HMGET', KEYS[2], 'gf', 'ag', 'ml', 'sv')
if config[4] ~= (ARGV[4] or false) then return redis.error_reply('LAYOUT ' .. (config[4] or '0')) end
if config[1] or config[2] or config[3] then return -1 end
if redis.call('HSETNX', base .. 'jobs', id, '{"c":' .. now_ms() .. ',' .. string.sub(body, 2))
    == 0 then
  return 0
end
redis.call('RPUSH', KEYS[1], id)
redis.call('HINCRBY', KEYS[2], 'enqueued', 1)
redis.call('SPUBLISH', base .. 'wake', '')
emit_event(base, 'enqueued', {id})
return 1
