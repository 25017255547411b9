-- Flows (docs/workflows.md): a tree of jobs in one queue, each parent held until its children
-- have settled. Every step after the commit (flow_commit.lua) happens inside the script that
-- finishes, cancels, removes or retries one of the flow's jobs, so a child's finish is counted
-- exactly once: in the same atomic step as the finish itself, which the lease's fencing token
-- lets through once.
-- Keys, for the flow with key u (base = "taskq:{q}:"):
--   base.."flow:"..u (HASH), its record: st = running | completed | dead (its root's outcome),
--     g = its generation (meta.flows when it was committed; every hook names it), c = created
--     ms, f = finished ms, keep = how long the record outlives the flow (ms), and per parent
--     "j:"..ref, the join of its children (join_decode). The record, the tree and the results
--     expire `keep` ms after the root finished and no parent is held any more; a parent held
--     again (a revival) keeps them until then (flow_expire_if_done, flow_keep).
--   base.."flow:"..u..":tree" (HASH): ref -> parent ref.."\t"..policy ("" parent: the root).
--   base.."flow:"..u..":r:"..ref (HASH): a parent's children's outcomes, child ref -> "c"..result
--     or "d"..last error (dead children whose policy is not "ignore"), for its handler.
--   base.."held" (ZSET): held parents, score = when they were held (ms).
-- A flow job's hook (hooks.lua, flow_hook) names its flow, ref, parent and policy; it is dropped
-- when the job completes and kept while it is dead (a retry revives it in its parent's join).
-- A batch (batch_commit.lua) is a record like a flow's, with kind = batch: its members (refs
-- "0".."n-1", and "<addition>-<i>" for each addition) have the parent ref "*" (their hooks all
-- name the ref "*", flow_jobs.lua's flow_hook_value), and their join
-- "j:*" decides for the callback "on_success" as a flow's join decides for its parent, except
-- that every death is fatal (the join's override is 1 when there is no on_success). The
-- callbacks have the parent ref "^" (they count in no join) and are held. More fields:
-- open = 1 while more jobs may come and the join must not settle, oc = what became of
-- "on_complete" and os of "on_success" (w held, r released, f failed by a member's death (os
-- only), x cancelled or removed before it ran, - none), sd = 1 once every member settled with
-- the batch closed, which finishes it (st = finished; a member retried later makes it run
-- again): on_complete is then released (once), and additions are refused from then on. A
-- released callback finds the counts in its results (base.."flow:"..u..":r:"..ref, field "*").
-- A finished batch's keys expire after its retention once its callbacks finished too.
--
-- Flows across queues. A flow's record, tree, joins and results live in its root's queue, its
-- home; every decision is taken there. A job of another queue is a remote job:
--   - a remote leaf is not written at home: the commit appends a dispatch entry (k = "fd") to the
--     home's outbox, and the relay writes the job into its queue (flow_deliver.lua);
--   - a remote parent is parked at home, held like any parent (hook flag "q"; its queue and
--     options in the record's "o:"..ref), and dispatched the same way when its join releases it,
--     leaving the home's keys. A parked parent failed or cancelled stays at home, dead.
--   The record's "d:"..ref = epoch..":"..p|c|d is what the home knows of a dispatched job:
--   pending, or counted completed or dead, at that epoch.
--   - a remote job's finish (completed, or dead) and its retry from dead are reported to the home
--     by an outbox entry of its queue (k = "ff", "fr") written in the same step, carrying its
--     epoch; flow_apply.lua counts a report only when the record's "d:" field expects it, so a
--     report applied twice, or late, counts once;
--   - cancelling below a parent at home sends a cancel entry (k = "fx") for each dispatched
--     child still pending, applied only at the epoch the home knows.
-- Entries are relayed in the order written (worker/callback_relay.h). A remote job's own queue
-- keeps a shadow record, base.."rflow:"..home..":"..key (HASH: "d:"..ref = 1 once delivered),
-- so that a dispatch applied twice writes its job once.
-- Needs state.lua, parts.lua, job_lists.lua, requeue.lua, group_unqueue.lua, hooks.lua,
-- delete_jobs.lua.

-- A join: "st:total:pending:completed:dead_fail:dead_ignore:dead_continue:override", st = w
-- (waiting), r (released; final), f (failed by a child whose policy is fail), x (cancelled);
-- override 1: the parent was retried from dead, and its children's deaths count as "continue".
local kJoinPattern = '^(%a):(%d+):(%-?%d+):(%d+):(%d+):(%d+):(%d+):([01])$'
local function join_decode(value)
  if not value then return nil end
  local st, total, pending, completed, fail, ignore, continue, override =
    string.match(value, kJoinPattern)
  if not st then return nil end
  return {st = st, total = tonumber(total), pending = tonumber(pending),
          completed = tonumber(completed), fail = tonumber(fail), ignore = tonumber(ignore),
          continue = tonumber(continue), override = override}
end
local function join_encode(j)
  return j.st .. ':' .. j.total .. ':' .. j.pending .. ':' .. j.completed .. ':' .. j.fail ..
    ':' .. j.ignore .. ':' .. j.continue .. ':' .. j.override
end
-- A tree row: parent ref, policy, and the job's queue ("" when it is the flow's own), or nil.
local function flow_tree_row(value)
  return string.match(value, '^([^\t]*)\t(%a+)\t?([%w_%.%-]*)$')
end

-- Fatal: a death that fails the parent.
local function join_fatal(j) return j.fail > 0 and j.override == '0' end

local kFlowErrorsKept = 10

-- The record, the tree and every parent's results.
local function flow_keys(record)
  local keys = {record, record .. ':tree'}
  for _, field in ipairs(redis.call('HKEYS', record)) do
    if field == 'j:*' then
      keys[#keys + 1] = record .. ':r:on_success'
      keys[#keys + 1] = record .. ':r:on_complete'
    elseif string.sub(field, 1, 2) == 'j:' then
      keys[#keys + 1] = record .. ':r:' .. string.sub(field, 3)
    end
  end
  return keys
end

-- Once the root finished and no parent waits for its children, the flow's keys expire after its
-- retention; while a parent is held they stay, so that its children's finishes are counted.
local function flow_expire_if_done(record)
  local fields = redis.call('HGETALL', record)
  local st, keep = nil, 0
  for i = 1, #fields, 2 do
    local field, value = fields[i], fields[i + 1]
    if field == 'st' then
      st = value
    elseif field == 'keep' then
      keep = tonumber(value) or 0
    elseif string.sub(field, 1, 2) == 'j:' and string.sub(value, 1, 1) == 'w' then
      return
    end
  end
  if st == nil or st == 'running' or keep <= 0 then return end
  for _, key in ipairs(flow_keys(record)) do redis.call('PEXPIRE', key, keep) end
end

-- A parent is held again in a flow whose root had finished: its keys stay until it is decided.
local function flow_keep(record, st)
  if st ~= 'running' then
    for _, key in ipairs(flow_keys(record)) do redis.call('PERSIST', key) end
  end
end

-- A result written after the flow's keys started to expire expires with them.
local function flow_result(record, st, results, ref, value)
  redis.call('HSET', results, ref, value)
  if st ~= 'running' then
    local ttl = redis.call('PTTL', record)
    if ttl > 0 then redis.call('PEXPIRE', results, ttl) end
  end
end

-- A flow's work in one script: the finishes still to count (FIFO), and the jobs it moved.
local function flow_ctx(base, now)
  return {base = base, now = now, work = {}, waiting = {}, delayed = {}, dead = {}, held = {},
          dispatched = {}}
end

-- Outbox entries of flows across queues (above). q: the queue the entry is for.
local function flow_send_dispatch(base, queue, u, gen, ref, parent, policy, body, options, keep)
  redis.call('XADD', base .. 'outbox', '*', 'k', 'fd', 'q', queue, 'u', u, 'g', gen, 'ref', ref,
             'p', parent, 'pol', policy, 'b', body, 'o', options, 'keep', keep)
end
local function flow_send_cancel(base, queue, u, gen, ref, epoch)
  redis.call('XADD', base .. 'outbox', '*', 'k', 'fx', 'q', queue, 'u', u, 'g', gen, 'ref', ref,
             'e', epoch)
end
local function flow_report_finish(base, h, outcome, text)
  redis.call('XADD', base .. 'outbox', '*', 'k', 'ff', 'q', h.home, 'u', h.u, 'g', h.gen, 'ref',
             h.ref, 'e', h.epoch, 'o', outcome, 'r', text)
end
local function flow_report_retry(base, h, epoch)
  redis.call('XADD', base .. 'outbox', '*', 'k', 'fr', 'q', h.home, 'u', h.u, 'g', h.gen, 'ref',
             h.ref, 'e', epoch)
end

-- A parked parent (hook flag "q") released: it leaves for its queue. It stays held if its
-- record lacks its queue or body (nothing else writes them; flow_commit.lua checked both).
local function flow_dispatch(ctx, id, h)
  local base = ctx.base
  local record = base .. 'flow:' .. h.u
  local spec, keep = unpack(redis.call('HMGET', record, 'o:' .. h.ref, 'keep'))
  local queue, options = string.match(spec or '', '^([^\t]+)\t(.*)$')
  local body = redis.call('HGET', base .. 'jobs', id)
  if not queue or not body then return end
  flow_send_dispatch(base, queue, h.u, h.gen, h.ref, h.parent, h.policy, body, options,
                     keep or '0')
  redis.call('HSET', record, 'd:' .. h.ref, '0:p')
  redis.call('ZREM', base .. 'held', id)
  delete_jobs(base, {id})
  ctx.dispatched[#ctx.dispatched + 1] = id
end

-- flow_state_of(base, id) -> the job's state name and decoded record (nil: no such job).
local function flow_state_of(base, id)
  local record = decode_state(redis.call('HGET', base .. 'state', id)) or decode_state(nil)
  if record.st ~= '' then return record.st, record end
  if redis.call('HEXISTS', base .. 'jobs', id) == 0 then return nil, record end
  if redis.call('ZSCORE', base .. 'delayed', id) then return 'delayed', record end
  return 'waiting', record
end

-- Takes a job that is waiting, delayed, retrying or held out of its structure.
local function flow_unqueue(base, id)
  local found = 0
  for _, name in ipairs({'prio', 'delayed', 'retry', 'held'}) do
    found = found + redis.call('ZREM', base .. name, id)
  end
  if found == 0 and not unqueue_grouped(base, id) then redis.call('LREM', base .. 'wait', 1, id) end
end

-- flow_make_dead(ctx, id, record, message) -> the error: a job that is not running (already out
-- of its structure) goes dead, cancelled, with `message` as its error; a callback is reported.
local function flow_make_dead(ctx, id, record, message)
  local base, now = ctx.base, ctx.now
  record.st, record.tf, record.tk, record.cx = 'dead', tostring(now), '', '1'
  redis.call('HSET', base .. 'state', id, encode_state(record))
  redis.call('ZADD', base .. 'dead', now, id)
  local err = '{"at":' .. now .. ',"attempt":' .. record.a .. ',"message":' ..
    cjson.encode(message) .. '}'
  push_job_error(base, id, err, kFlowErrorsKept)
  redis.call('HINCRBY', base .. 'meta', 'dead', 1)
  ctx.dead[#ctx.dead + 1] = id
  local hooked = hooks_read(base, {id})
  hooks_finished(base, hooked, 'dead', tostring(now), {[id] = err})
  return err
end

-- flow_count(ctx, id, h, outcome, text): job `id` (its hook h) completed or went dead; its
-- finish is counted by flow_settle.
local function flow_count(ctx, id, h, outcome, text)
  ctx.work[#ctx.work + 1] = {id = id, h = h, outcome = outcome, text = text or 'null'}
end

-- A held parent goes dead, cancelled: its own death then counts in its parent's join.
local function flow_fail_held(ctx, id, message)
  local base = ctx.base
  if not redis.call('ZSCORE', base .. 'held', id) then return end
  redis.call('ZREM', base .. 'held', id)
  local _, record = flow_state_of(base, id)
  local err = flow_make_dead(ctx, id, record, message)
  local h = flow_hook(redis.call('HGET', base .. 'hooks', id))
  if h then flow_count(ctx, id, h, 'dead', err) end
end

-- A held parent is released: to the tail of its priority (or the head, LIFO), or delayed when it
-- has a delay (counted from now) or a run-at time still to come.
local function flow_release(ctx, id)
  local base, now = ctx.base, ctx.now
  if not redis.call('ZSCORE', base .. 'held', id) then return end
  local h = flow_hook(redis.call('HGET', base .. 'hooks', id)) or {}
  if h.parked then return flow_dispatch(ctx, id, h) end
  redis.call('ZREM', base .. 'held', id)
  local _, record = flow_state_of(base, id)
  local due = -1
  if h.run_at and h.run_at >= 0 then
    due = h.run_at
  elseif h.delay and h.delay > 0 then
    due = now + 1 + h.delay  -- now is rounded down: the full delay passes (due_after_ms, now.lua)
  end
  if due > now then
    record.st = 'delayed'
    redis.call('ZADD', base .. 'delayed', due, id)
    ctx.delayed[#ctx.delayed + 1] = id
  else
    record.st = 'waiting'
    requeue(base, base .. 'wait', base .. 'prio', base .. 'meta', {id}, {tonumber(record.p)},
            h.lifo == true, nil)
    ctx.waiting[#ctx.waiting + 1] = id
  end
  redis.call('HSET', base .. 'state', id, encode_state(record))
end

-- The root finished: the flow ends, and its keys expire after its retention once no parent is
-- held.
local function flow_end(record, outcome, now)
  redis.call('HSET', record, 'st', outcome, 'f', now)
  flow_expire_if_done(record)
end

-- The held job a join decides for: a flow's parent, or a batch's on_success.
local function flow_target_id(u, parent)
  if parent == '*' then return u .. '.on_success' end
  return u .. '.' .. parent
end

-- A batch's held callback is released with the counts of its batch's join.
local function batch_release(ctx, u, record, st, ref, join)
  local id = u .. '.' .. ref
  if not redis.call('ZSCORE', ctx.base .. 'held', id) then return end
  local dead = join.fail + join.ignore + join.continue
  flow_result(record, st, record .. ':r:' .. ref, '*',
              'c{"total":' .. join.total .. ',"completed":' .. join.completed .. ',"dead":' ..
              dead .. '}')
  flow_release(ctx, id)
end

-- A finished batch's keys start to expire once neither callback is still to run: a released
-- callback reads its counts when it runs.
local function batch_expire_if_done(ctx, u, record)
  for _, ref in ipairs({'on_complete', 'on_success'}) do
    local st = flow_state_of(ctx.base, u .. '.' .. ref)
    if st and st ~= 'completed' and st ~= 'dead' then return end
  end
  flow_expire_if_done(record)
end

-- batch_check(ctx, u, record, cause): what batch u's join now allows, from its stored counts:
-- on_success (when held: os = w) fails at the first death (cause: the member that died) and is
-- released when every member completed; once every member settled and the batch is closed,
-- on_complete (when held: oc = w) is released, and the batch finishes. Each happens once.
local function batch_check(ctx, u, record, cause)
  local st, open, oc, os, value =
    unpack(redis.call('HMGET', record, 'st', 'open', 'oc', 'os', 'j:*'))
  local join = join_decode(value)
  if not join then return end
  local ready = join.pending <= 0 and open ~= '1'
  if join.st == 'w' and (join_fatal(join) or ready) then
    join.st = join_fatal(join) and 'f' or 'r'
    redis.call('HSET', record, 'j:*', join_encode(join))
    if os == 'w' then
      redis.call('HSET', record, 'os', join.st)
      if join.st == 'f' then
        flow_fail_held(ctx, u .. '.on_success',
                       'cancelled: batch job ' .. (cause or '') .. ' died')
      else
        batch_release(ctx, u, record, st, 'on_success', join)
      end
    end
  end
  if ready and st == 'running' then
    if oc == 'w' then
      redis.call('HSET', record, 'oc', 'r')
      batch_release(ctx, u, record, st, 'on_complete', join)
    end
    redis.call('HSET', record, 'st', 'finished', 'f', ctx.now, 'sd', '1')
    batch_expire_if_done(ctx, u, record)
  end
end

-- A batch's callback that has not run is cancelled or removed (remove.lua): its batch will not
-- release it (oc or os = x). Retrying it holds it again (retry_dead.lua).
local function batch_callback_dropped(base, h)
  local record = base .. 'flow:' .. h.u
  local field = h.ref == 'on_success' and 'os' or 'oc'
  local g, mark = unpack(redis.call('HMGET', record, 'g', field))
  if g == h.gen and mark == 'w' then redis.call('HSET', record, field, 'x') end
end

-- Counts every finish queued in ctx.work, in order, and what follows from each: a join decided
-- releases or fails its target, whose death is counted in turn (up to the root, at most the
-- flow's depth). A join already decided only counts. Joins are read once and written back when
-- something is decided and at the end, so a completion of many members of one batch costs one
-- read and one write of its join.
local function flow_settle(ctx)
  local base, now = ctx.base, ctx.now
  local cache = {}
  local last_h, last_e = nil, nil  -- the join of the last finish: a batch's members share one h
  local function forget()
    cache = {}
    last_h = nil
  end
  local function flush()
    for _, e in pairs(cache) do
      if e.dirty then
        redis.call('HSET', e.record, e.field, join_encode(e.join))
        e.dirty = false
      end
    end
  end
  local i = 1
  while i <= #ctx.work do
    local w = ctx.work[i]
    i = i + 1
    local h = w.h
    if h.home then
      -- A remote job: its flow's queue counts it (flow_apply.lua).
      flow_report_finish(base, h, w.outcome, w.text)
    elseif h.parent == '^' or h.parent == '' then
      -- A root ends its flow. A batch's callback counts in no join; once both have finished,
      -- the batch's keys may expire. No record, or another generation's: the flow expired, and
      -- the job ran on its own.
      local record = base .. 'flow:' .. h.u
      if redis.call('HGET', record, 'g') == h.gen then
        flush()
        forget()
        if h.parent == '' then
          flow_end(record, w.outcome, now)
        else
          batch_expire_if_done(ctx, h.u, record)
        end
      end
    else
      local e = last_e
      if h ~= last_h then
        local record, field = base .. 'flow:' .. h.u, 'j:' .. h.parent
        local key = record .. '\t' .. field
        e = cache[key]
        if not e then
          local g, st, value, open = unpack(redis.call('HMGET', record, 'g', 'st', field, 'open'))
          e = {record = record, field = field, g = g, st = st, join = join_decode(value),
               open = open}
          cache[key] = e
        end
        last_h, last_e = h, e
      end
      local record = e.record
      local join = e.join
      if e.g == h.gen and join then
        local batch = h.parent == '*'
        join.pending = join.pending - 1
        local results = record .. ':r:' .. h.parent
        if w.outcome == 'completed' then
          join.completed = join.completed + 1
          if not batch then flow_result(record, e.st, results, h.ref, 'c' .. w.text) end
        else
          join[h.policy] = join[h.policy] + 1
          if h.policy ~= 'ignore' and not batch then
            flow_result(record, e.st, results, h.ref, 'd' .. w.text)
          end
        end
        e.dirty = true
        if batch then
          if (join.st == 'w' and join_fatal(join)) or (join.pending <= 0 and e.open ~= '1') then
            flush()
            forget()
            batch_check(ctx, h.u, record, w.id)
          end
        else
          local decided = join.st == 'w' and (join_fatal(join) or join.pending <= 0)
          if decided then
            join.st = join_fatal(join) and 'f' or 'r'
            flush()
            local target = flow_target_id(h.u, h.parent)
            if join.st == 'f' then
              flow_fail_held(ctx, target, 'cancelled: child ' .. w.id .. ' failed')
            else
              flow_release(ctx, target)
            end
            if e.st ~= 'running' then
              flow_expire_if_done(record)
              forget()
            end
          end
        end
      end
    end
  end
  flush()
  ctx.work = {}
end

-- Cancels everything undecided below the parent `top` of flow u: each join still waiting (or
-- failed, with children still running) is cancelled, and each of its children not finished goes
-- dead, cancelled (a running one is asked to stop, as remove.lua does), counted in the join.
-- Flow jobs are never deleted here: the tree stays visible. children: parent ref -> its
-- children's refs, and policy: ref -> policy (nil: read from the flow's tree); a batch passes
-- its members under "*".
local function flow_cancel_below(ctx, u, gen, top, children, policy)
  local base = ctx.base
  local record = base .. 'flow:' .. u
  if redis.call('HGET', record, 'g') ~= gen then return end
  local remote = {}  -- ref -> queue, for the jobs of other queues
  if not children then
    local rows = redis.call('HGETALL', record .. ':tree')
    children, policy = {}, {}
    for r = 1, #rows, 2 do
      local parent, child_policy, queue = flow_tree_row(rows[r + 1])
      if parent then
        children[parent] = children[parent] or {}
        table.insert(children[parent], rows[r])
        policy[rows[r]] = child_policy
        if queue ~= '' then remote[rows[r]] = queue end
      end
    end
  end
  local stack = {top}
  while #stack > 0 do
    local ref = table.remove(stack)
    local field = 'j:' .. ref
    local join = join_decode(redis.call('HGET', record, field))
    -- A batch's join may be released with its batch running again (a member retried), or
    -- cancelled by an earlier step of batch_cancel.lua.
    if join and (join.st == 'w' or join.st == 'f' or ref == '*') then
      join.st = 'x'
      local results = record .. ':r:' .. ref
      for _, child in ipairs(children[ref] or {}) do
        local id = u .. '.' .. child
        local dispatched = remote[child] and redis.call('HGET', record, 'd:' .. child)
        local st, child_record = nil, nil
        if not dispatched then
          -- Only this flow's own job: another job may hold the id here (a job of another
          -- queue's flow dispatched here, or a job outside any flow enqueued with that id).
          st, child_record = flow_state_of(base, id)
          if st and st ~= 'completed' and st ~= 'dead' then
            local h = flow_hook(redis.call('HGET', base .. 'hooks', id))
            if not (h and not h.home and h.u == u and h.gen == gen) then st = nil end
          end
        end
        if st == 'active' then
          child_record.cx = '1'
          redis.call('HSET', base .. 'state', id, encode_state(child_record))
        elseif st == 'waiting' or st == 'delayed' or st == 'retrying' or st == 'held' then
          flow_unqueue(base, id)
          local err = flow_make_dead(ctx, id, child_record, ref == '*' and
                                   'cancelled: batch cancelled' or 'cancelled: flow cancelled')
          join.pending = join.pending - 1
          local p = policy[child] or 'fail'
          join[p] = join[p] + 1
          if p ~= 'ignore' and ref ~= '*' then redis.call('HSET', results, child, 'd' .. err) end
        elseif dispatched then
          -- In its queue: cancelled there, and its death reported back.
          local epoch = string.match(dispatched, '^(%d+):p$')
          if epoch then flow_send_cancel(base, remote[child], u, gen, child, epoch) end
        end
        if children[child] then stack[#stack + 1] = child end
      end
      redis.call('HSET', record, field, join_encode(join))
    end
  end
  flow_expire_if_done(record)  -- the root may have finished before: nothing is held below now
end

-- flow_finish_jobs(base, hooked, outcome, now, details): the flow jobs among a script's finished
-- jobs (hooks_read's members) are counted, and what follows is done. Completed ones lose their
-- hook. Returns the ctx (flow_events), or nil when none was a flow job.
local function flow_finish_jobs(base, hooked, outcome, now, details)
  if not hooked or #hooked.members == 0 then return nil end
  local ctx = flow_ctx(base, now)
  local done = {}
  for _, m in ipairs(hooked.members) do
    flow_count(ctx, m.id, m.h, outcome, details[m.id])
    if outcome == 'completed' then done[#done + 1] = m.id end
  end
  if #done > 0 then call_in_parts('HDEL', base .. 'hooks', done) end
  flow_settle(ctx)
  return ctx
end

-- Events for what the flow steps moved, and a wake when a job became waiting or delayed.
local function flow_events(ctx)
  if not ctx then return end
  emit_event(ctx.base, 'waiting', ctx.waiting)
  emit_event(ctx.base, 'delayed', ctx.delayed)
  emit_event(ctx.base, 'dead', ctx.dead)
  emit_event(ctx.base, 'held', ctx.held)
  emit_event(ctx.base, 'dispatched', ctx.dispatched)
  if #ctx.waiting > 0 or #ctx.delayed > 0 then redis.call('SPUBLISH', ctx.base .. 'wake', '') end
end

-- flow_revive(ctx, id, h): flow job `id` leaves dead (a retry): its parent's join counts it as
-- pending again. A parent failed by that join, with no fatal death left, is revived (dead to
-- held) and counted as pending in its own parent's join, up the tree; a root coming back makes
-- the flow run again. Joins released or cancelled only count. A batch's member revives the
-- batch's on_success the same way, and a finished batch runs again (its on_complete, released
-- once, is not released again).
local function flow_revive(ctx, id, h)
  local base = ctx.base
  if h and h.home then
    -- A remote job: a new epoch, reported to its flow's queue, which revives what it must.
    local value = redis.call('HGET', base .. 'hooks', id)
    local epoch = h.epoch + 1
    redis.call('HSET', base .. 'hooks', id, string.match(value, '^(.*\t)%d+$') .. epoch)
    flow_report_retry(base, h, epoch)
    return
  end
  while h and h.parent ~= '^' do
    local record = base .. 'flow:' .. h.u
    local field = 'j:' .. h.parent
    local g, st, value, os = unpack(redis.call('HMGET', record, 'g', 'st', field, 'os'))
    if g ~= h.gen then return end
    if h.parent == '' then
      flow_keep(record, st)
      redis.call('HSET', record, 'st', 'running', 'f', 0)
      return
    end
    local join = join_decode(value)
    if not join then return end
    join[h.policy] = math.max(0, join[h.policy] - 1)
    join.pending = join.pending + 1
    if h.parent == '*' then
      if st ~= 'running' then
        flow_keep(record, st)
        redis.call('HSET', record, 'st', 'running', 'f', 0)
      end
    else
      redis.call('HDEL', record .. ':r:' .. h.parent, h.ref)
    end
    local parent_id = flow_target_id(h.u, h.parent)
    local next_h = nil
    -- A batch's on_success only when its death came from the join (os = f), not from a cancel.
    if join.st == 'f' and not join_fatal(join) and (h.parent ~= '*' or os == 'f')
        and redis.call('ZSCORE', base .. 'dead', parent_id) then
      join.st = 'w'
      if h.parent == '*' then redis.call('HSET', record, 'os', 'w') end
      flow_keep(record, st)
      local _, parent_record = flow_state_of(base, parent_id)
      parent_record.st, parent_record.tf, parent_record.tk, parent_record.cx = 'held', '0', '', '0'
      redis.call('ZREM', base .. 'dead', parent_id)
      redis.call('ZADD', base .. 'held', ctx.now, parent_id)
      redis.call('HSET', base .. 'state', parent_id, encode_state(parent_record))
      ctx.held[#ctx.held + 1] = parent_id
      next_h = flow_hook(redis.call('HGET', base .. 'hooks', parent_id))
    end
    redis.call('HSET', record, field, join_encode(join))
    h = next_h
  end
end
