--[[ history_record: one sample per time bucket (a minute by default) of a queue's lifetime
counters and of its waiting jobs, kept for a bounded number of buckets, so that charts of the
past survive reloads and restarts (docs/metrics.md, "History"). Any number of recorders call it:
the first call in a bucket writes the sample and later ones change nothing, so a bucket holds at
most one sample whoever records. Not a job transition: it only reads what the transitions keep.
KEYS[1] history (STREAM)   KEYS[2] meta (HASH)   KEYS[3] wait (LIST)   KEYS[4] prio (ZSET)
ARGV[1] bucket_ms (1000..3600000)   ARGV[2] keep: buckets kept (1..10080)
Returns: {1 when this call wrote the bucket's sample else 0, ms until the next bucket starts},
  by Redis' clock.
Writes: when the bucket (now - now % bucket_ms) has no sample yet and is newer than the last one:
  XADD KEYS[1] MINID <bucket - (keep - 1) * bucket_ms> <bucket>-0 with the fields
  b bucket_ms, e meta.enqueued, c meta.completed, f meta.failed, d meta.dead,
  w LLEN wait + ZCARD prio + meta.gwaiting (waiting jobs, grouped ones included).
]]
local bucket_ms, keep = tonumber(ARGV[1]), tonumber(ARGV[2])
if #ARGV ~= 2 or not bucket_ms or bucket_ms < 1000 or bucket_ms > 3600000
    or bucket_ms ~= math.floor(bucket_ms) or not keep or keep < 1 or keep > 10080
    or keep ~= math.floor(keep) then
  return redis.error_reply('ERR invalid arguments')
end
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local bucket = now - now % bucket_ms
local until_next = bucket + bucket_ms - now
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
if #last > 0 then
  local last_ms = tonumber(string.match(last[1][1], '^(%d+)%-'))
  if last_ms and last_ms >= bucket then return {0, until_next} end
end
local m = redis.call('HMGET', KEYS[2], 'enqueued', 'completed', 'failed', 'dead', 'gwaiting')
local waiting = redis.call('LLEN', KEYS[3]) + redis.call('ZCARD', KEYS[4]) + (tonumber(m[5]) or 0)
redis.call('XADD', KEYS[1], 'MINID', bucket - (keep - 1) * bucket_ms, bucket .. '-0',
           'b', bucket_ms, 'e', tonumber(m[1]) or 0, 'c', tonumber(m[2]) or 0,
           'f', tonumber(m[3]) or 0, 'd', tonumber(m[4]) or 0, 'w', waiting)
return {1, until_next}
