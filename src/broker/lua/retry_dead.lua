--[[ retry_dead: gives dead jobs a fresh set of attempts: they go back to waiting (tail of their
priority). Either the given ids, or the oldest `limit` dead jobs when no id is given.
KEYS[1] dead   KEYS[2] wait   KEYS[3] prio   KEYS[4] meta   KEYS[5] state
ARGV[1] key base   ARGV[2] limit (1..1000)   ARGV[3 ..] ids (optional)
Returns: the number of jobs moved (ids that are not dead are skipped; a repeated id moves once).
Writes: state record st = waiting, a = 0, s = 0, tf = 0, tk = "", cx = 0; the error history is kept.
Publishes: "" on base.."wake" when a job moved.
A job of a flow (flows.lua) is pending again in its parent's join; a parent its children had
  failed or cancelled goes to held instead of waiting (st = held), overriding its children's
  deaths, and is released at once when none is left to settle; a parent failed by a child that
  no longer has a fatal death left is revived (dead to held), up the tree. A batch's member
  revives on_success the same way when a death failed it (os = f), and a finished batch one of
  whose members is retried runs again (flows.lua). A batch's callback that never ran (os or oc
  = f or x) goes back to held: on_complete is released at once when its batch has finished;
  on_success waits for its join again, with an override when the join had fatal deaths.
Events (events.lua): 'waiting' with the moved ids, 'held' with those held again, when there are
  any; flows.lua's events for the parents it revived or released.
]]
--!include now.lua
--!include events.lua
--!include state.lua
--!include parts.lua
--!include requeue.lua
--!include group_unqueue.lua
--!include job_lists.lua
--!include hooks.lua
--!include delete_jobs.lua
--!include flows.lua
local base = ARGV[1]
local limit = tonumber(ARGV[2])
if not limit or limit < 1 or limit > 1000 or limit ~= math.floor(limit) then
  return redis.error_reply('ERR invalid limit')
end
-- Everything is read before the first write, and every long list goes to Redis in parts
-- (parts.lua): any number of ids is one atomic step, and nothing can fail halfway (Redis has no
-- rollback; a failure after the ZREM would leave jobs in no state at all).
local ids = {}
if #ARGV > 2 then
  local given, seen = {}, {}
  for i = 3, #ARGV do
    if not seen[ARGV[i]] then  -- a repeated id moves once
      seen[ARGV[i]] = true
      given[#given + 1] = ARGV[i]
    end
  end
  local scores = read_in_parts('ZMSCORE', KEYS[1], given)
  for i = 1, #given do
    if scores[i] then ids[#ids + 1] = given[i] end
  end
else
  ids = redis.call('ZRANGE', KEYS[1], 0, limit - 1)
end
if #ids == 0 then return 0 end
local records = read_in_parts('HMGET', KEYS[5], ids)
-- Flows (flows.lua): a parent that its children failed or cancelled goes back to held, with an
-- override (its children's deaths no longer fail it), instead of waiting.
local hooked = hooks_read(base, ids)
local members, to_hold = {}, {}
if hooked then
  for _, m in ipairs(hooked.members) do
    members[#members + 1] = m
    local record = base .. 'flow:' .. m.h.u
    if m.h.parent == '^' then
      -- A batch's callback that never ran (failed by the join, or cancelled) is held again.
      local g, mark = unpack(redis.call('HMGET', record, 'g',
                                        m.h.ref == 'on_success' and 'os' or 'oc'))
      if g == m.h.gen and (mark == 'f' or mark == 'x') then to_hold[m.id] = m.h.ref end
    elseif m.h.parent ~= '*' and not m.h.home then  -- a remote job is never held here
      local g, value = unpack(redis.call('HMGET', record, 'g', 'j:' .. m.h.ref))
      local join = g == m.h.gen and join_decode(value)
      if join and (join.st == 'f' or join.st == 'x') then to_hold[m.id] = 'j:' .. m.h.ref end
    end
  end
end
local now = now_ms()
local states, queued, priorities, held = {}, {}, {}, {}
for i, id in ipairs(ids) do
  local record = decode_state(records[i]) or decode_state(nil)
  record.st, record.a, record.s, record.tf, record.tk, record.cx = 'waiting', '0', '0', '0', '', '0'
  if to_hold[id] then
    record.st = 'held'
    held[#held + 1] = now
    held[#held + 1] = id
  else
    queued[#queued + 1] = id
    priorities[#queued] = tonumber(record.p)
  end
  states[#states + 1] = id
  states[#states + 1] = encode_state(record)
end
call_in_parts('ZREM', KEYS[1], ids)
call_in_parts('HSET', KEYS[5], states)
requeue(base, KEYS[2], KEYS[3], KEYS[4], queued, priorities, false)
if #held > 0 then call_in_parts('ZADD', base .. 'held', held) end
local ctx = flow_ctx(base, now)
-- Every flow job retried is pending again in its parent's join (which may revive the parent),
-- and then each parent back in held runs at once if none of its children is still to settle.
for _, m in ipairs(members) do flow_revive(ctx, m.id, m.h) end
for _, m in ipairs(members) do
  local hold = to_hold[m.id]
  if hold then
    local record = base .. 'flow:' .. m.h.u
    local st, value = unpack(redis.call('HMGET', record, 'st', 'j:*'))
    flow_keep(record, st)
    if hold == 'on_complete' then
      -- Released at once when its batch has finished, else when it finishes.
      if st == 'finished' then
        redis.call('HSET', record, 'oc', 'r')
        batch_release(ctx, m.h.u, record, st, 'on_complete', join_decode(value))
      else
        redis.call('HSET', record, 'oc', 'w')
      end
    elseif hold == 'on_success' then
      -- Its join decides for it again; deaths already counted no longer fail it (an override).
      local join = join_decode(value)
      if join_fatal(join) then join.override = '1' end
      if join.st == 'r' then
        redis.call('HSET', record, 'os', 'r')
        batch_release(ctx, m.h.u, record, st, 'on_success', join)
      else
        join.st = 'w'
        redis.call('HSET', record, 'j:*', join_encode(join), 'os', 'w')
        batch_check(ctx, m.h.u, record, nil)
      end
    else
      local join = join_decode(redis.call('HGET', record, hold))
      join.st, join.override = 'w', '1'
      if join.pending <= 0 then join.st = 'r' end
      redis.call('HSET', record, hold, join_encode(join))
      if join.st == 'r' then
        flow_release(ctx, m.id)
        if st ~= 'running' then flow_expire_if_done(record) end
      end
    end
  end
end
if #queued > 0 then redis.call('SPUBLISH', base .. 'wake', '') end
emit_event(base, 'waiting', queued)
emit_event(base, 'held', ids_of_scored(held))
flow_events(ctx)
return #ids
