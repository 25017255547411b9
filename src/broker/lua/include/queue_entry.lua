-- What the scripts that put new jobs into a queue share (enqueue.lua, flow_commit.lua).

local kGroupMaxBytes = 128

-- data_group(body, group_field) -> the group a job's data names when the queue groups by a data
-- field (meta.gf, queue_limits.lua): the field's value if it is a string or a number of 1 to
-- kGroupMaxBytes bytes, else false.
local function data_group(body, group_field)
  local ok, decoded = pcall(cjson.decode, body)
  local value = ok and type(decoded) == 'table' and type(decoded.d) == 'table' and
    decoded.d[group_field]
  if type(value) == 'number' then value = tostring(value) end
  if type(value) == 'string' and value ~= '' and #value <= kGroupMaxBytes then return value end
  return false
end

-- queue_backlog(base, wait, prio, delayed, gwaiting) -> the jobs waiting, delayed or retrying:
-- what a queue's maximum length (meta.ml) bounds. gwaiting: meta.gwaiting as read (grouped
-- waiting jobs are in their groups' zsets).
local function queue_backlog(base, wait, prio, delayed, gwaiting)
  return redis.call('LLEN', wait) + redis.call('ZCARD', prio) + redis.call('ZCARD', delayed) +
    redis.call('ZCARD', base .. 'retry') + (tonumber(gwaiting) or 0)
end
