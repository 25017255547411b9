// The live event stream (B/api/events) and its subscribers, and the latest queues snapshot.
import {BASE} from './api.js';

const RESTART_MS = 5000;

const subscribers = {queues: new Set(), job: new Set(), status: new Set()};
let source = null;
let restartTimer = null;
let status = 'offline';
let latest = null;
let refusedHandler = () => {};

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

// Keeps a queues body as the latest snapshot (also used for the first GET B/api/queues).
export function noteQueues(body) {
  latest = body;
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

export function liveStatus() {
  return status;
}
