-- Hooks: jobs whose finish must be reported beyond the queue's own keys. base.."hooks" (HASH)
-- maps such a job's id to its hook value, "<flags>" or "<flags>\t<more>": flags are letters, and
-- "u" means a completion callback (the URL is in the job's body, "o.cb"). A hooked job's
-- completion or death appends one entry to base.."outbox" (STREAM) in the same script, which a
-- relay turns into a webhook job (worker/callback_relay.h) and then deletes (outbox_ack.lua).
-- The hash exists only while some job of the queue has a hook: a finishing script whose queue
-- has none pays one EXISTS.
-- Entry fields: k = "cb", id = the job, o = "completed" | "dead", t = the finish (Redis ms),
-- b = the job's body, r = the result JSON (completed; "null" when none) or the last error
-- object (dead).

-- hooks_read(base, ids) -> nil, or {ids = hooked ids, bodies = their bodies}: called after the
-- script decided which of `ids` finish and before its first write (retention may delete the
-- bodies afterwards). A value without "u" is no callback; a missing body reads as "".
local function hooks_read(base, ids)
  if #ids == 0 or redis.call('EXISTS', base .. 'hooks') == 0 then return nil end
  local values = read_in_parts('HMGET', base .. 'hooks', ids)
  local hooked = {}
  for i, id in ipairs(ids) do
    local value = values[i]
    if value and string.find(string.match(value, '^[^\t]*'), 'u', 1, true) then
      hooked[#hooked + 1] = id
    end
  end
  if #hooked == 0 then return nil end
  return {ids = hooked, bodies = read_in_parts('HMGET', base .. 'jobs', hooked)}
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
  if outcome == 'completed' then call_in_parts('HDEL', base .. 'hooks', hooked.ids) end
end
