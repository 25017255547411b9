-- Commands with long argument lists. Lua's unpack() returns at most about 8000 values
-- (LUAI_MAXCSTACK): a list longer than kPartMax elements goes to Redis in parts, all within the
-- one script call, so the script stays one atomic step whatever the batch size. kPartMax is even:
-- the "field, value" and "score, member" pairs of HSET, ZADD and MSET are never split.
local kPartMax = 4000

-- call_in_parts(command, key, list): redis.call(command, key, list[1], list[2], ...), as several
-- calls when the list is long. Only for commands whose effect does not depend on the cut: RPUSH,
-- LPUSH (its elements are pushed one after another), ZADD, HSET, HDEL, MSET (key nil: the list
-- holds the keys), DEL. Returns the reply of the single call, or nothing when it took parts.
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

-- set_all_new(pairs_) -> true when none of the keys existed and all were set; false, and nothing
-- written, when any existed. pairs_ = {key, value, key, value, ...}. MSETNX when it fits in one
-- call; else EXISTS over the keys in parts, then MSET in parts (atomic all the same: the script
-- is).
local function set_all_new(pairs_)
  local n = #pairs_
  if n <= kPartMax then return redis.call('MSETNX', unpack(pairs_)) == 1 end
  for i = 1, n, kPartMax do
    local keys = {}
    for j = i, math.min(n, i + kPartMax - 1), 2 do keys[#keys + 1] = pairs_[j] end
    if redis.call('EXISTS', unpack(keys)) > 0 then return false end
  end
  call_in_parts('MSET', nil, pairs_)
  return true
end
