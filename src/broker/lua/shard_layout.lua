--[[ shard_layout: writes one shard's part of a change of a queue's shards (docs/architecture.md,
"Sharded queues"). A change runs this on every shard it touches, the home shard (tag = the
queue's name) last. Every shard's meta.sv holds the layout version, which producers name when
they enqueue (enqueue.lua, enqueue_one.lua): a producer still placing jobs by an older layout is
refused on every shard already changed, and reads the layout again from the home shard. Each
change writes its own token (meta.sct) with the version, so that undoing a refused change puts
back only what that change wrote, never what a concurrent change wrote at the same version.
KEYS[1] meta   KEYS[2] wait (LIST)   KEYS[3] prio (ZSET)   KEYS[4] delayed (ZSET)
KEYS[5] retry (ZSET)   KEYS[6] active (ZSET)   KEYS[7] held (ZSET)   KEYS[8] jobs (HASH)
KEYS[9] outbox (STREAM)
ARGV[1] mode:
  "change": the queue must hold nothing on this shard; writes the new version;
  "restore": puts back the layout a refused change replaced, on a shard that change wrote (its
    token) or left at the expected version; any other shard is another change's: refused;
  "repair": brings a shard left behind by an interrupted change to the version given, when its
    own is lower (no emptiness check)
ARGV[2] expected version: meta.sv as the change read it at home ("0": no sv, never sharded).
  In mode change a new shard takes any version below the new one instead (a dropped shard's tag
  may come back with an old version).
ARGV[3] new version, above the expected one
ARGV[4] role of this shard: "home", "kept" (another shard of both layouts), "new" (a shard the
  new layout adds) or "gone" (a shard the new layout drops)
ARGV[5] N, the new layout's number of shards (1..32); written at home only
ARGV[6] the tags of shards 1..N-1, separated by spaces ("" for none); written at home only
ARGV[7] "1" when the queue is paused, "0" when not: a new shard takes this state (a tag that
  was a shard before may still hold its old flag)
ARGV[8] the change's token (1..64 bytes)
Returns: 1, written. An error reply writes nothing:
  "VERSION <sv>": the shard is not at the version the mode needs (another change came first);
  "NOTEMPTY <what> <count>" (mode change): jobs are waiting, grouped, delayed, retrying, active
    or held here, or kept at all ("jobs": completed and dead ones too, whose ids would no
    longer be found by placement), entries wait in the outbox, or a unique key in mode ttl may
    still hold ("unique");
  "SETTINGS <field>" (mode change, at home, N or the current number of shards above 1): the
    queue has a rate or concurrency limit, a group field, priority aging or a maximum length
    (queue_limits.lua), which a change would leave split by the wrong number of shards;
  "ERR invalid ..." for a bad argument.
Writes: meta.sv = the new version and meta.sct = the token; at home also meta.shards = N and
  meta.stags = the tags (removed when ""); a new shard's meta.paused = "1", or no paused field,
  as ARGV[7] says, and no limits left from an earlier time its tag was a shard.
All checks come before the first write.
]]
--!include now.lua
if #ARGV ~= 8 then return redis.error_reply('ERR invalid argument count') end
local mode, expected, version, role = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
local shards, tags, paused, token = tonumber(ARGV[5]), ARGV[6], ARGV[7], ARGV[8]
local function whole(x, low, high)
  return x and x == math.floor(x) and x >= low and x <= high
end
if (mode ~= 'change' and mode ~= 'restore' and mode ~= 'repair') or not whole(expected, 0, 2 ^ 52)
    or not whole(version, expected + 1, 2 ^ 52) or not whole(shards, 1, 32)
    or (role ~= 'home' and role ~= 'kept' and role ~= 'new' and role ~= 'gone')
    or (paused ~= '0' and paused ~= '1') or #tags > 4096 or #token < 1 or #token > 64 then
  return redis.error_reply('ERR invalid layout arguments')
end
local state = redis.call('HMGET', KEYS[1], 'sv', 'sct', 'shards')
local found = tonumber(state[1]) or 0
local version_ok
if mode == 'change' then
  version_ok = (role == 'new' and found < version) or (role ~= 'new' and found == expected)
elseif mode == 'restore' then
  version_ok = found < version and (state[2] == token or found == expected)
else
  version_ok = found < version
end
if not version_ok then return redis.error_reply('VERSION ' .. (state[1] or '0')) end
local settings = {'rl', 'cc', 'cct', 'grl', 'gcc', 'gf', 'ag', 'ml'}
if mode == 'change' then
  local counts = {
    {'waiting', redis.call('LLEN', KEYS[2]) + redis.call('ZCARD', KEYS[3])},
    {'grouped', tonumber(redis.call('HGET', KEYS[1], 'gwaiting')) or 0},
    {'delayed', redis.call('ZCARD', KEYS[4])}, {'retrying', redis.call('ZCARD', KEYS[5])},
    {'active', redis.call('ZCARD', KEYS[6])}, {'held', redis.call('ZCARD', KEYS[7])},
    {'jobs', redis.call('HLEN', KEYS[8])}, {'outbox', redis.call('XLEN', KEYS[9])}}
  for _, count in ipairs(counts) do
    if count[2] > 0 then
      return redis.error_reply('NOTEMPTY ' .. count[1] .. ' ' .. count[2])
    end
  end
  local ttl_until = tonumber(redis.call('HGET', KEYS[1], 'uttl')) or 0
  if ttl_until > now_ms() then return redis.error_reply('NOTEMPTY unique 1') end
  if role == 'home' and (shards > 1 or (tonumber(state[3]) or 1) > 1) then
    local values = redis.call('HMGET', KEYS[1], unpack(settings))
    for i, field in ipairs(settings) do
      if values[i] then return redis.error_reply('SETTINGS ' .. field) end
    end
  end
end
redis.call('HSET', KEYS[1], 'sv', version, 'sct', token)
if role == 'home' then
  redis.call('HSET', KEYS[1], 'shards', shards)
  if tags == '' then
    redis.call('HDEL', KEYS[1], 'stags')
  else
    redis.call('HSET', KEYS[1], 'stags', tags)
  end
elseif role == 'new' and mode == 'change' then
  if paused == '1' then
    redis.call('HSET', KEYS[1], 'paused', '1')
  else
    redis.call('HDEL', KEYS[1], 'paused')
  end
  redis.call('HDEL', KEYS[1], unpack(settings))
end
return 1
