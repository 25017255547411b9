// The active alerts (GET B/api/alerts, docs/alerts.md) as banners above every view. Each banner
// links to its queue or schedule and can be dismissed until the tab closes (sessionStorage); a
// dismissed one comes back when its value changes, or when the alert ends and starts again. An
// age (the oldest waiting job's, a schedule's delay) grows with the clock by itself: it counts as
// changed only when it is off from the dismissed age plus the time since.
import {api} from './api.js';
import {h, replace, queueHref} from './dom.js';
import {on} from './live.js';

const REFRESH_MS = 10000;
// A queues event (at least every 5 s while the stream is up) refreshes sooner, but not more often.
const MIN_GAP_MS = 5000;
const STORAGE_KEY = 'taskq.dismissedAlerts';
// Alerts whose value is an age in seconds, and how far it may drift from the clock (the server
// rounds, and reads Redis' time) before it counts as changed.
const AGE_ALERTS = new Set(['TaskqOldestWaitingTooOld', 'TaskqScheduleStuck']);
const AGE_SLACK_S = 15;

let box = null;
let timer = null;
let offQueues = null;
let lastFetch = 0;
let requestSeq = 0;
let active = [];
let serverNow = 0;  // now_ms of the answer the banners come from

function keyOf(alert) {
  return [alert.name, alert.queue || '', alert.schedule || ''].join('|');
}

// The alerts dismissed in this tab (sessionStorage): key -> {value, at} (the value, and the
// server's time).
function dismissed() {
  try {
    return JSON.parse(sessionStorage.getItem(STORAGE_KEY) || '{}') || {};
  } catch {
    return {};
  }
}

function keepDismissed(map) {
  try {
    sessionStorage.setItem(STORAGE_KEY, JSON.stringify(map));
  } catch {
    // storage refused (private mode, quota): dismissals last until the next refresh
  }
}

function target(alert) {
  if (alert.queue) return h('a', {href: queueHref(alert.queue), class: 'alert-link'}, `queue ${alert.queue}`);
  if (alert.schedule) {
    return h('a', {href: `#/schedules?id=${encodeURIComponent(alert.schedule)}`, class: 'alert-link'},
      `schedule ${alert.schedule}`);
  }
  return null;
}

function banner(alert) {
  const key = keyOf(alert);
  const testid = `alert-${alert.name}-${alert.queue || alert.schedule || 'all'}`;
  const close = h('button', {type: 'button', class: 'alert-dismiss', 'aria-label': 'Dismiss',
    title: 'Hide until its value changes', 'data-testid': `${testid}-dismiss`}, '×');
  close.addEventListener('click', () => {
    const map = dismissed();
    map[key] = {value: alert.value, at: serverNow};
    keepDismissed(map);
    draw();
  });
  const severity = alert.severity === 'critical' ? 'critical' : 'warning';
  return h('div', {class: ['alert', `alert-${severity}`], role: 'alert', 'data-testid': testid,
    'data-severity': severity},
  h('span', {class: 'alert-severity'}, severity),
  h('span', {class: 'alert-text'}, h('strong', null, alert.name), ': ', alert.summary || '', ' ', target(alert)),
  close);
}

function stillDismissed(alert, dismissal) {
  if (!dismissal) return false;
  if (!AGE_ALERTS.has(alert.name)) return alert.value === dismissal.value;
  const expected = dismissal.value + (serverNow - dismissal.at) / 1000;
  return Math.abs(alert.value - expected) <= AGE_SLACK_S;
}

function draw() {
  if (!box) return;
  const map = dismissed();
  // An alert that ended forgets its dismissal: when it starts again it is shown.
  const current = new Set(active.map(keyOf));
  let pruned = false;
  for (const key of Object.keys(map)) {
    if (!current.has(key)) {
      delete map[key];
      pruned = true;
    }
  }
  if (pruned) keepDismissed(map);
  const shown = active.filter((a) => !stillDismissed(a, map[keyOf(a)]));
  box.hidden = shown.length === 0;
  replace(box, shown.map(banner));
}

async function refresh() {
  const seq = ++requestSeq;
  lastFetch = Date.now();
  try {
    const answer = await api.get('/alerts');
    if (seq !== requestSeq || !box) return;
    active = Array.isArray(answer?.alerts) ? answer.alerts : [];
    serverNow = typeof answer?.now_ms === 'number' ? answer.now_ms : Date.now();
    draw();
  } catch {
    // Keep the banners shown: the next refresh tries again (the live status says when the
    // server is away).
  }
}

// Starts showing alerts in `el` (once signed in); stopAlerts() hides them at sign-out.
export function startAlerts(el) {
  stopAlerts();
  box = el;
  refresh();
  timer = setInterval(refresh, REFRESH_MS);
  offQueues = on('queues', () => {
    if (Date.now() - lastFetch >= MIN_GAP_MS) refresh();
  });
}

export function stopAlerts() {
  clearInterval(timer);
  timer = null;
  if (offQueues) offQueues();
  offQueues = null;
  requestSeq++;
  active = [];
  if (box) {
    box.hidden = true;
    box.replaceChildren();
  }
  box = null;
}
