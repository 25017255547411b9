-- Commands with long argument lists. Lua's unpack() returns at most about 8000 values
-- (LUAI_MAXCSTACK): a list longer than kPartMax elements goes to Redis in parts, all within the
-- one script call, so the script stays one atomic step whatever the batch size. kPartMax is even:
-- the "field, value" and "score, member" pairs of HSET and ZADD are never split.
local kPartMax = 4000

-- call_in_parts(command, key, list): redis.call(command, key, list[1], list[2], ...), as several
-- calls when the list is long. Only for commands whose effect does not depend on the cut: RPUSH,
-- LPUSH (its elements are pushed one after another), ZADD, ZREM, HSET, HDEL, SREM, DEL (key
-- nil: the list holds the keys). Returns the reply of the single call, or nothing when it took parts.
local function call_in_parts(command, key, list)
  local n = #list
  if n <= kPartMax then
    if key then return redis.call(command, key, unpack(list)) end
    return redis.call(command, unpack(list))
  end
  for i = 1, n, kPartMax do
    local j = math.min(n, i + kPartMax - 1)
    if key then
      redis.call(command, key, unpack(list, i, j))
    else
      redis.call(command, unpack(list, i, j))
    end
  end
end

-- hset_all_new(hash, names, fields) -> true when none of the fields `names` existed in the hash and
-- all of `fields` ({name, value, name, value, ...}, the same names in order) were set; false, and
-- nothing written, when any existed. Redis has no HSETNX for many fields: one HMGET over the names,
-- then one HSET (each in parts when long; atomic all the same: the script is).
local function hset_all_new(hash, names, fields)
  local n = #names
  for i = 1, n, kPartMax do
    local found = redis.call('HMGET', hash, unpack(names, i, math.min(n, i + kPartMax - 1)))
    for j = 1, #found do
      if found[j] then return false end
    end
  end
  call_in_parts('HSET', hash, fields)
  return true
end

-- read_in_parts(command, key, list) -> the reply of redis.call(command, key, list...), one element
-- per element of `list`, read in parts when the list is long: for read commands whose reply lists
-- one value per argument (HMGET, ZMSCORE, SMISMEMBER). Read before the first write, so it cannot
-- fail halfway.
local function read_in_parts(command, key, list)
  local n = #list
  if n <= kPartMax then return redis.call(command, key, unpack(list)) end
  local out = {}
  for i = 1, n, kPartMax do
    local found = redis.call(command, key, unpack(list, i, math.min(n, i + kPartMax - 1)))
    for j = 1, #found do out[#out + 1] = found[j] end
  end
  return out
end
