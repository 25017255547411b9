-- The unique-key half of enqueue.lua (unique.lua holds the keys' layout). Needs parts.lua,
-- unique.lua, delete_jobs.lua, group_unqueue.lua and the enqueue script's KEYS: wait, prio, delayed,
-- meta, state.

-- unique_holder(base, state_key, holder) -> 'waiting' (waiting or delayed: not started, or put
-- back), 'running' (active or retrying, or a flow's parent held for its children: never replaced
-- by a debounce), 'finished' (completed or dead) or 'gone'.
local function unique_holder(base, state_key, holder)
  local record = redis.call('HGET', state_key, holder)
  if record then
    local st = string.match(record, '^(%a*):')
    if st == 'completed' or st == 'dead' then return 'finished' end
    if st == 'active' or st == 'retrying' or st == 'held' then return 'running' end
    return 'waiting'
  end
  -- no record: never claimed, priority 0 (waiting or delayed)
  if redis.call('HEXISTS', base .. 'jobs', holder) == 1 then return 'waiting' end
  return 'gone'
end

-- unique_unqueue(base, keys, id): debounce removes the waiting or delayed job it replaces, with
-- every trace and its key (as remove.lua does). A holder in the wait list was enqueued by an
-- earlier debounce of the same key, so it is searched from the tail (LREM -1): the cost is the
-- number of jobs enqueued after it, not the length of the backlog ahead of it.
local function unique_unqueue(base, keys, id)
  if redis.call('ZREM', keys[3], id) + redis.call('ZREM', keys[2], id) == 0
      and not unqueue_grouped(base, id) then
    redis.call('LREM', keys[1], -1, id)
  end
  unique_release(base, {id})
  delete_jobs(base, {id})
end

-- unique_resolve(base, n, uniques, keys) -> hits: decides, in batch order, which unique jobs are
-- created and which return the job holding their key (hits[i] = holder id; nil when there is no
-- such job). Runs after all validation. Writes only to replace (debounce) a waiting holder.
--   until_completed, ttl: the key is held while its holder is waiting, delayed, active or
--     retrying, or, for a holder enqueued in mode ttl, while the key has not expired (whatever
--     happened to the job); else the new job takes the key (a stale mapping is overwritten).
--   debounce: a holder still waiting or delayed is removed and the new job takes the key; a
--     holder that started or finished keeps running and the new job takes the key too.
--   In one batch the first job with a key takes it and later ones return it (debounce included).
--   A job whose id exists already, or repeats an earlier id of the batch, is left alone (u.skip):
--   enqueue reports it as existing, and it neither takes a key nor replaces another's holder.
local function unique_resolve(base, n, uniques, keys)
  if next(uniques) == nil then return nil end
  local hits, taken, any = {}, {}, false
  for i = 0, n - 1 do
    local u = uniques[i]
    if not u or u.skip then
    elseif redis.call('HEXISTS', base .. 'jobs', u.id) == 1 then
      u.skip = true  -- before the batch's own keys: an existing job is answered as existing
    elseif taken[u.key] then
      hits[i], any = taken[u.key], true
    else
      local ukey = base .. 'u:' .. u.key
      local holder = redis.call('GET', ukey)
      local held = holder and unique_holder(base, keys[5], holder)
      if u.mode == 'debounce' then
        if held == 'waiting' then unique_unqueue(base, keys, holder) end
        taken[u.key] = u.id
      elseif held == 'waiting' or held == 'running' or (held and redis.call('PTTL', ukey) > 0) then
        hits[i], any = holder, true
      else
        taken[u.key] = u.id
      end
    end
  end
  return any and hits or nil
end

-- unique_finish(base, n, uniques, hits, created, results): maps the keys to the unique jobs that
-- were created and took them, and answers the hits with their holder's id (a string in place of
-- the 0 of an existing id).
local function unique_finish(base, n, uniques, hits, created, results)
  if next(uniques) == nil then return end
  local back = {}
  local ttl_until = 0  -- the latest expiry of a ttl key set here
  for i = 0, n - 1 do
    local u = uniques[i]
    if hits and hits[i] then
      results[i + 1] = hits[i]
    elseif u and not u.skip and created[i + 1] then
      local ukey = base .. 'u:' .. u.key
      if u.mode == 'ttl' then
        redis.call('SET', ukey, u.id, 'PX', u.ttl)
        ttl_until = math.max(ttl_until, u.ttl)
      else
        redis.call('SET', ukey, u.id)
        back[#back + 1] = u.id
        back[#back + 1] = u.key
      end
    end
  end
  if #back > 0 then call_in_parts('HSET', base .. 'uk', back) end
  -- meta.uttl: when the last ttl key expires at the latest (Redis ms), so that a change of the
  -- queue's shards (shard_layout.lua) can tell no key still holds without looking for keys.
  if ttl_until > 0 then
    ttl_until = ttl_until + now_ms()
    if ttl_until > (tonumber(redis.call('HGET', base .. 'meta', 'uttl')) or 0) then
      redis.call('HSET', base .. 'meta', 'uttl', ttl_until)
    end
  end
end
