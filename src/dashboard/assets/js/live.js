// The live event stream (B/api/events) and its subscribers. Also keeps the history of summed
// per-minute rates that the overview chart draws, so it survives switching views.
import {BASE} from './api.js';

const HISTORY_MS = 10 * 60 * 1000;
const RESTART_MS = 5000;

const subscribers = {queues: new Set(), job: new Set(), status: new Set()};
let source = null;
let restartTimer = null;
let status = 'offline';
let latest = null;
let refusedHandler = () => {};
const history = [];  // {t, processed, failed}; a rate is null when no queue had one

function emit(kind, value) {
  for (const fn of subscribers[kind]) {
    try {
      fn(value);
    } catch (e) {
      console.error(e);
    }
  }
}

function setStatus(next) {
  if (next === status) return;
  status = next;
  emit('status', status);
}

function sumRate(queues, name) {
  let sum = null;
  for (const q of queues) {
    const value = q.per_minute ? q.per_minute[name] : null;
    if (typeof value === 'number') sum = (sum || 0) + value;
  }
  return sum;
}

// Adds the queues event's rates to the history (also used for the first GET B/api/queues).
export function noteQueues(body, now = Date.now()) {
  latest = body;
  const queues = body.queues || [];
  history.push({t: now, processed: sumRate(queues, 'processed'), failed: sumRate(queues, 'failed')});
  while (history.length && history[0].t < now - HISTORY_MS) history.shift();
}

function onQueues(event) {
  let body;
  try {
    body = JSON.parse(event.data);
  } catch {
    return;
  }
  noteQueues(body);
  emit('queues', body);
}

function onJob(event) {
  try {
    emit('job', JSON.parse(event.data));
  } catch {
    // a malformed event changes nothing
  }
}

export function startLive() {
  if (source) return;
  clearTimeout(restartTimer);
  setStatus('connecting');
  source = new EventSource(`${BASE}/api/events`);
  source.addEventListener('open', () => setStatus('live'));
  source.addEventListener('queues', (e) => { setStatus('live'); onQueues(e); });
  source.addEventListener('job', onJob);
  source.addEventListener('error', () => {
    if (!source) return;
    setStatus('reconnecting');
    // The browser retries by itself unless the answer was not a stream (e.g. 401): then it
    // gives up, and we start over after a pause.
    if (source.readyState === EventSource.CLOSED) {
      source = null;
      restartTimer = setTimeout(startLive, RESTART_MS);
      refusedHandler();
    }
  });
}

export function stopLive() {
  clearTimeout(restartTimer);
  if (source) source.close();
  source = null;
  setStatus('offline');
}

// fn runs when the server answers the stream with something else (e.g. 401 after the session
// ended), so the page can check its session.
export function onStreamRefused(fn) {
  refusedHandler = fn;
}

// Subscribes fn to 'queues' (the body of GET /api/queues), 'job' ({queue, event, ids, count})
// or 'status' ('connecting', 'live', 'reconnecting', 'offline'); returns the unsubscriber.
export function on(kind, fn) {
  subscribers[kind].add(fn);
  return () => subscribers[kind].delete(fn);
}

export function latestQueues() {
  return latest;
}

export function rateHistory() {
  return history;
}

export function liveStatus() {
  return status;
}
