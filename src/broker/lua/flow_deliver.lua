--[[ flow_deliver: applies, in a queue, the entries a flow's queue (its home) wrote for jobs of
this queue (flows.lua, "Flows across queues"), in their order: dispatches (a job of the flow
written here, to run) and cancels. Each entry is applied at most once, so a relay may apply an
entry again after a crash or alongside another relay:
- a dispatch is recorded in the shadow record base.."rflow:"..home..":"..u ("d:"..ref = 1, g =
  the flow's generation); one already recorded, or one of an earlier generation than the
  record's, changes nothing. An id taken here by a job that is
  not the dispatched one is refused: the job is reported dead to its flow's queue, as "cancelled:
  its id is taken by another job of its queue", so that its parent is never left waiting;
- a cancel applies only to the job of that flow, generation and epoch (the hook's) while it has
  not finished: waiting, delayed or retrying, it goes dead, cancelled, and its death is reported;
  running, it is asked to stop (cx = 1), and its death is reported when its handler returns.
KEYS[1] wait   KEYS[2] prio   KEYS[3] delayed   KEYS[4] meta   KEYS[5] state   KEYS[6] held
ARGV[1] key base   ARGV[2] home, the flow's queue (a queue name)   ARGV[3] n (1..1000)
ARGV[4 + 11*(i-1) ..] per entry: kind ("fd" dispatch, "fx" cancel), u (the flow key), gen (the
  flow's generation), keep_ms (the flow's retention: how long the shadow record is kept, at least
  7 days; 0: kept), epoch (fx: the job's, as the home knows it; fd: ""), then ref, parent ref,
  policy, id, body, options as flow_jobs.lua reads a job (fx: ref only, the rest "")
Returns: the number of entries that changed something.
Writes: a dispatched job as flow_jobs.lua writes a leaf (waiting or delayed; its delay counts
  from now), its hook naming home..":"..u and epoch 0; the shadow record. A cancel as remove.lua's
  cancel of a flow job. Outbox entries "ff" (flows.lua) for the jobs that went dead.
Events (events.lua): 'enqueued' with the dispatched jobs; flows.lua's events.
Invalid arguments are an error reply, and nothing is written.
]]
--!include now.lua
--!include queue_entry.lua
--!include events.lua
--!include state.lua
--!include parts.lua
--!include requeue.lua
--!include job_lists.lua
--!include group_unqueue.lua
--!include hooks.lua
--!include delete_jobs.lua
--!include flows.lua
--!include flow_jobs.lua
local kShadowMinMs = 7 * 24 * 3600 * 1000
local base, home, n = ARGV[1], ARGV[2], tonumber(ARGV[3])
if not is_queue_name(home) or not n or n < 1 or n > 1000 or n ~= math.floor(n)
    or #ARGV ~= 3 + 11 * n then
  return redis.error_reply('ERR invalid arguments')
end
local entries = {}
for i = 0, n - 1 do
  local a = 4 + 11 * i
  local e = {kind = ARGV[a], u = ARGV[a + 1], gen = ARGV[a + 2], keep = tonumber(ARGV[a + 3]),
             epoch = ARGV[a + 4], ref = ARGV[a + 5]}
  if (e.kind ~= 'fd' and e.kind ~= 'fx') or not is_flow_name(e.u, 64)
      or not string.match(e.gen, '^%d+$') or not e.keep or e.keep < 0 or e.keep > kFlowMaxMs
      or e.keep ~= math.floor(e.keep) or not is_flow_name(e.ref, 32) then
    return redis.error_reply('ERR invalid entry at ' .. i)
  end
  if e.kind == 'fd' then
    local jobs, err = flow_jobs_read(e.u, a + 5, 1)
    if not jobs or not is_flow_name(jobs[1].parent, 32) then
      return redis.error_reply('ERR invalid job at ' .. i .. ': ' .. (err or 'a root'))
    end
    e.job = jobs[1]
    e.job.raw, e.job.epoch = true, 0
  elseif not string.match(e.epoch, '^%d+$') then
    return redis.error_reply('ERR invalid epoch at ' .. i)
  end
  entries[#entries + 1] = e
end

local now, now_us = now_ms()
local ctx = flow_ctx(base, now)
local applied = 0
-- Dispatches of one flow in a row are written by one flow_jobs_write (one event, one wake); a
-- cancel first writes those before it, which it may concern.
local pending = {u = nil, gen = nil, jobs = {}}
local function write_pending()
  if #pending.jobs > 0 then
    flow_jobs_write(KEYS, base, home .. ':' .. pending.u, pending.gen, pending.jobs, now, now_us)
  end
  pending = {u = nil, gen = nil, jobs = {}}
end
for _, e in ipairs(entries) do
  local id = e.u .. '.' .. e.ref
  if e.kind ~= 'fd' or e.u ~= pending.u or e.gen ~= pending.gen then write_pending() end
  if e.kind == 'fd' then
    local shadow = base .. 'rflow:' .. home .. ':' .. e.u
    local g, done = unpack(redis.call('HMGET', shadow, 'g', 'd:' .. e.ref))
    -- Generations grow (meta.flows of the home): a dispatch of an earlier flow with the same key
    -- that comes late is of a flow that is over here.
    local stale = g and tonumber(e.gen) < tonumber(g)
    if not stale and (g ~= e.gen or not done) then
      if g ~= e.gen then redis.call('DEL', shadow) end  -- an earlier flow with the same key
      if redis.call('HEXISTS', base .. 'jobs', id) == 1 then
        redis.call('HSET', shadow, 'g', e.gen, 'd:' .. e.ref, 'x')
        flow_report_finish(base, {home = home, u = e.u, gen = e.gen, ref = e.ref, epoch = 0},
                           'dead', '{"at":' .. now .. ',"attempt":0,"message":' ..
                           '"cancelled: its id is taken by another job of its queue"}')
      else
        pending.u, pending.gen = e.u, e.gen
        pending.jobs[#pending.jobs + 1] = e.job
        redis.call('HSET', shadow, 'g', e.gen, 'd:' .. e.ref, '1')
      end
      if e.keep > 0 then
        redis.call('PEXPIRE', shadow, math.max(e.keep, kShadowMinMs))
      else
        redis.call('PERSIST', shadow)
      end
      applied = applied + 1
    end
  else
    local h = flow_hook(redis.call('HGET', base .. 'hooks', id))
    if h and h.home == home and h.u == e.u and h.gen == e.gen
        and h.epoch == tonumber(e.epoch) then
      local st, record = flow_state_of(base, id)
      if st == 'active' then
        if record.cx ~= '1' then
          record.cx = '1'
          redis.call('HSET', base .. 'state', id, encode_state(record))
          applied = applied + 1
        end
      elseif st == 'waiting' or st == 'delayed' or st == 'retrying' then
        flow_unqueue(base, id)
        local err = flow_make_dead(ctx, id, record, 'cancelled: flow cancelled')
        flow_count(ctx, id, h, 'dead', err)
        applied = applied + 1
      end
    end
  end
end
write_pending()
flow_settle(ctx)
flow_events(ctx)
return applied
