-- Hooks: jobs whose finish must be reported beyond the queue's own keys. base.."hooks" (HASH)
-- maps such a job's id to its hook value, "<flags>" or "<flags>\t<more>": flags are letters;
-- "u" means a completion callback (the URL is in the job's body, "o.cb"), "f" a job of a flow
-- (flow_hook below; flows.lua). A hooked job's
-- completion or death appends one entry to base.."outbox" (STREAM) in the same script, which a
-- relay turns into a webhook job (worker/callback_relay.h) and then deletes (outbox_ack.lua).
-- The hash exists only while some job of the queue has a hook: a finishing script whose queue
-- has none pays one EXISTS.
-- Entry fields: k = "cb", id = the job, o = "completed" | "dead", t = the finish (Redis ms),
-- b = the job's body, r = the result JSON (completed; "null" when none) or the last error
-- object (dead).

-- flow_hook(value) -> the hook of a flow's job (flows.lua) as a table, or nil for any other value:
-- flags holding "f", then "\t"..flow key.."\t"..generation (the record's g: a job of an earlier
-- flow with the same key never counts in a later one).."\t"..ref.."\t"..parent ref ("" for the
-- root).."\t"..policy (fail, ignore, continue), and for a parent "\t"..delay_ms..":"..run_at_ms
-- ..":"..lifo (0/1): how it is queued when its children release it. The flag "q" marks a parent
-- parked in its flow's queue that runs in another one (flows.lua, "Flows across queues").
-- A job delivered to its queue from its flow's queue (flow_deliver.lua) has the flow key
-- home..":"..key (h.home, h.u = key; queue names and flow keys hold no ":") and, in place of a
-- hold, its epoch (h.epoch): how many times it was retried from dead, which its reports carry.
local kFlowHookPattern = '^(%a*)\t([^\t]+)\t(%d+)\t([^\t]+)\t([^\t]*)\t(%a+)\t?(.*)$'
local kFlowPolicies = {fail = true, ignore = true, continue = true}
local function flow_hook(value)
  if not value then return nil end
  local flags, u, gen, ref, parent, policy, hold = string.match(value, kFlowHookPattern)
  if not flags or not string.find(flags, 'f', 1, true) or not kFlowPolicies[policy] then
    return nil
  end
  local h = {u = u, gen = gen, ref = ref, parent = parent, policy = policy,
             cb = string.find(flags, 'u', 1, true) ~= nil,
             parked = string.find(flags, 'q', 1, true) ~= nil}
  local home, key = string.match(u, '^([^:]+):(.+)$')
  if home then
    local epoch = string.match(hold, '^(%d+)$')
    if not epoch or parent == '' or parent == '*' or parent == '^' then return nil end
    h.home, h.u, h.epoch = home, key, tonumber(epoch)
    return h
  end
  if hold ~= '' then
    local delay, run_at, lifo = string.match(hold, '^(%d+):(%-?%d+):([01])$')
    if not delay then return nil end
    h.delay, h.run_at, h.lifo = tonumber(delay), tonumber(run_at), lifo == '1'
  end
  return h
end

-- hooks_read(base, ids) -> nil, or {ids = ids with a callback, bodies = their bodies, members =
-- {{id, h = flow_hook}, ...} the flows' jobs among them, in the order given; jobs with the same
-- hook value share one h, which nothing may change}: called after the
-- script decided which of `ids` finish and before its first write (retention may delete the
-- bodies afterwards). A missing body reads as "".
local function hooks_read(base, ids)
  if #ids == 0 or redis.call('EXISTS', base .. 'hooks') == 0 then return nil end
  local values = read_in_parts('HMGET', base .. 'hooks', ids)
  local hooked, members = {}, {}
  -- hook value -> {callback, flow_hook's table or false}: a batch's members share one value.
  local parsed = {}
  for i, id in ipairs(ids) do
    local value = values[i]
    if value then
      local p = parsed[value]
      if not p then
        local flags = string.match(value, '^[^\t]*')
        p = {string.find(flags, 'u', 1, true) ~= nil,
             string.find(flags, 'f', 1, true) ~= nil and flow_hook(value) or false}
        parsed[value] = p
      end
      if p[1] then hooked[#hooked + 1] = id end
      if p[2] then members[#members + 1] = {id = id, h = p[2]} end
    end
  end
  if #hooked == 0 and #members == 0 then return nil end
  local bodies = {}
  if #hooked > 0 then bodies = read_in_parts('HMGET', base .. 'jobs', hooked) end
  return {ids = hooked, bodies = bodies, members = members}
end

-- hooks_finished(base, hooked, outcome, now, details): one outbox entry per job of `hooked`
-- (hooks_read's answer; nil: nothing), outcome "completed" or "dead", details[id] the result or
-- error text. A completed job's hook is dropped; a dead one keeps it, so that a retry from the
-- dead-letter set reports its next finish too (delete_jobs drops it with the job).
local function hooks_finished(base, hooked, outcome, now, details)
  if not hooked then return end
  local outbox = base .. 'outbox'
  for i, id in ipairs(hooked.ids) do
    redis.call('XADD', outbox, '*', 'k', 'cb', 'id', id, 'o', outcome, 't', now, 'b',
               hooked.bodies[i] or '', 'r', details[id] or 'null')
  end
  if outcome == 'completed' and #hooked.ids > 0 then
    call_in_parts('HDEL', base .. 'hooks', hooked.ids)
  end
end
