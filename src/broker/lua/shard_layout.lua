--[[ shard_layout: writes one shard's part of a change of a queue's shards (docs/architecture.md,
"Sharded queues"). A change runs this on every shard it touches, the home shard (tag = the
queue's name) last. Every shard's meta.sv holds the layout version, which producers name when
they enqueue (enqueue.lua, enqueue_one.lua): a producer still placing jobs by an older layout is
refused on every shard already changed, and reads the layout again from the home shard.
KEYS[1] meta   KEYS[2] wait (LIST)   KEYS[3] prio (ZSET)   KEYS[4] delayed (ZSET)
KEYS[5] retry (ZSET)   KEYS[6] active (ZSET)   KEYS[7] held (ZSET)   KEYS[8] jobs (HASH)
ARGV[1] mode: "change", or "restore" (puts back the layout a refused change replaced: no
  emptiness or settings check)
ARGV[2] expected version: meta.sv as the change read it at home ("0": no sv, never sharded).
  A new shard, and any shard in mode restore, takes any version below the new one instead (a
  dropped shard's tag may come back with an old version; a restore follows a partial change).
ARGV[3] new version, above the expected one
ARGV[4] role of this shard: "home", "kept" (another shard of both layouts), "new" (a shard the
  new layout adds) or "gone" (a shard the new layout drops)
ARGV[5] N, the new layout's number of shards (1..32); read at home only
ARGV[6] the tags of shards 1..N-1, separated by spaces ("" for none); read at home only
ARGV[7] "1" when the queue is paused, "0" when not: a new shard takes this state (a tag that
  was a shard before may still hold its old flag)
Returns: 1, written. An error reply writes nothing:
  "VERSION <sv>": the shard's version is not the expected one (another change came first);
  "NOTEMPTY <what> <count>" (mode change): jobs are waiting, grouped, delayed, retrying,
    running or held here; a "gone" shard must hold no job at all ("jobs": completed and dead
    jobs too), since nothing reads a dropped shard;
  "SETTINGS <field>" (mode change, at home, N > 1): the queue has a rate or concurrency limit,
    a group field, priority aging or a maximum length (queue_limits.lua), which sharded queues
    do not take;
  "ERR invalid ..." for a bad argument.
Writes: meta.sv = the new version; at home also meta.shards = N and meta.stags = the tags
  (removed when ""); a new shard's meta.paused = "1", or no paused field, as ARGV[7] says.
All checks come before the first write.
]]
if #ARGV ~= 7 then return redis.error_reply('ERR invalid argument count') end
local mode, expected, version, role = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
local shards, tags, paused = tonumber(ARGV[5]), ARGV[6], ARGV[7]
local function whole(x, low, high)
  return x and x == math.floor(x) and x >= low and x <= high
end
if (mode ~= 'change' and mode ~= 'restore') or not whole(expected, 0, 2 ^ 52)
    or not whole(version, expected + 1, 2 ^ 52) or not whole(shards, 1, 32)
    or (role ~= 'home' and role ~= 'kept' and role ~= 'new' and role ~= 'gone')
    or (paused ~= '0' and paused ~= '1') or #tags > 4096 then
  return redis.error_reply('ERR invalid layout arguments')
end
local current = redis.call('HGET', KEYS[1], 'sv')
local found = tonumber(current) or 0
if (mode == 'restore' or role == 'new') and found >= version
    or (mode == 'change' and role ~= 'new' and found ~= expected) then
  return redis.error_reply('VERSION ' .. (current or '0'))
end
if mode == 'change' then
  local counts = {
    {'waiting', redis.call('LLEN', KEYS[2]) + redis.call('ZCARD', KEYS[3])},
    {'grouped', tonumber(redis.call('HGET', KEYS[1], 'gwaiting')) or 0},
    {'delayed', redis.call('ZCARD', KEYS[4])}, {'retrying', redis.call('ZCARD', KEYS[5])},
    {'active', redis.call('ZCARD', KEYS[6])}, {'held', redis.call('ZCARD', KEYS[7])}}
  if role == 'gone' then counts[#counts + 1] = {'jobs', redis.call('HLEN', KEYS[8])} end
  for _, count in ipairs(counts) do
    if count[2] > 0 then
      return redis.error_reply('NOTEMPTY ' .. count[1] .. ' ' .. count[2])
    end
  end
  if role == 'home' and shards > 1 then
    local settings = {'rl', 'cc', 'grl', 'gcc', 'gf', 'ag', 'ml'}
    local values = redis.call('HMGET', KEYS[1], unpack(settings))
    for i, field in ipairs(settings) do
      if values[i] then return redis.error_reply('SETTINGS ' .. field) end
    end
  end
end
redis.call('HSET', KEYS[1], 'sv', version)
if role == 'home' then
  redis.call('HSET', KEYS[1], 'shards', shards)
  if tags == '' then
    redis.call('HDEL', KEYS[1], 'stags')
  else
    redis.call('HSET', KEYS[1], 'stags', tags)
  end
elseif role == 'new' and paused == '1' then
  redis.call('HSET', KEYS[1], 'paused', '1')
elseif role == 'new' then
  redis.call('HDEL', KEYS[1], 'paused')
end
return 1
