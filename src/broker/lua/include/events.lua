-- Job events for live views (the dashboard): one entry per script call that changed jobs, in
-- the queue's stream base.."events", capped near kEventsKept entries (XADD MAXLEN ~ trims whole
-- stream nodes: O(1) amortized). Fields: e = what happened (enqueued, active, completed,
-- retrying, dead, removed, waiting, delayed, held, dispatched (a flow's parent left for its own
-- queue); paused and resumed, with no jobs), n = how many jobs, ids = the first
-- kEventIdsListed of them, comma-separated. Nothing is written when no job changed.
local kEventsKept = 1000
local kEventIdsListed = 100
local function emit_event(base, kind, ids)
  local n = #ids
  if n == 0 then return end
  local listed = ids
  if n > kEventIdsListed then listed = {unpack(ids, 1, kEventIdsListed)} end
  redis.call('XADD', base .. 'events', 'MAXLEN', '~', kEventsKept, '*', 'e', kind, 'n', n, 'ids',
             table.concat(listed, ','))
end
-- An event of the queue itself (paused, resumed): no jobs changed, but what a view shows did.
local function emit_queue_event(base, kind)
  redis.call('XADD', base .. 'events', 'MAXLEN', '~', kEventsKept, '*', 'e', kind, 'n', 0, 'ids',
             '')
end
-- The ids of a ZADD argument list {score, id, score, id, ...}.
local function ids_of_scored(pairs_list)
  local ids = {}
  for i = 2, #pairs_list, 2 do ids[#ids + 1] = pairs_list[i] end
  return ids
end
