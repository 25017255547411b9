-- Unique jobs (docs/redis-keys.md). A key of the queue maps to the job holding it:
-- base.."u:"..key (STRING) = job id, with a PX expiry in mode ttl. For the modes that end with the
-- job (until_completed, debounce) the hash base.."uk" maps the holder's id back to its key, so
-- that finishing and deleting a job releases its key. A queue that never used a unique key has no
-- "uk" hash: unique_release then costs one EXISTS per call.

-- unique_split(options, i, id, uniques) -> options: enqueue's per-job options may end in
-- "|mode:ttl_ms:key"; the part before "|" is returned for enqueue to read, and the unique part is
-- stored as uniques[i] = {id, mode, ttl, key}. Returns nil when the unique part is malformed: mode
-- until_completed, ttl or debounce; ttl_ms > 0 exactly for mode ttl (at most 30 days); a key of
-- 1..256 bytes (the key is last, so it may hold any byte, ':' and '|' included).
local kUniqueMaxTtl = 30 * 24 * 3600 * 1000
local function unique_split(options, i, id, uniques)
  local bar = string.find(options, '|', 1, true)
  if not bar then return options end
  local mode, ttl, key = string.match(string.sub(options, bar + 1), '^(%l[%l_]*):(%d+):(.+)$')
  ttl = tonumber(ttl)
  if not mode or #key > 256 or (mode ~= 'until_completed' and mode ~= 'ttl' and mode ~= 'debounce')
      or (mode == 'ttl') ~= (ttl > 0) or ttl > kUniqueMaxTtl then
    return nil
  end
  uniques[i] = {id = id, mode = mode, ttl = ttl, key = key}
  return string.sub(options, 1, bar - 1)
end

-- unique_release(base, list, stride): releases the keys held by the jobs in `list` (every
-- stride-th element, from the stride-th: 2 for a "score, id" ZADD list; default 1). A key is
-- deleted only while it still maps to that job: a later job may have taken it (debounce, or a
-- holder that finished before), and its mapping must stay.
local function unique_release(base, list, stride)
  stride = stride or 1
  if #list < stride or redis.call('EXISTS', base .. 'uk') == 0 then return end
  local ids = {}
  for j = stride, #list, stride do ids[#ids + 1] = list[j] end
  local keys = read_in_parts('HMGET', base .. 'uk', ids)
  local held = {}
  for j = 1, #ids do
    if keys[j] then
      local ukey = base .. 'u:' .. keys[j]
      if redis.call('GET', ukey) == ids[j] then redis.call('DEL', ukey) end
      held[#held + 1] = ids[j]
    end
  end
  if #held > 0 then call_in_parts('HDEL', base .. 'uk', held) end
end
