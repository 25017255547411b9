// The dashboard's entry point: session, header, and the hash router that mounts one view.
//
// Stable data-testid attributes (for end-to-end tests); <q> queue, <s> state, <id> job or
// schedule or worker id:
//   header:    header, nav-overview, nav-schedules, nav-workers, job-search-form, job-search-input,
//              live-status (data-state: connecting|live|reconnecting|offline), session-user,
//              sign-out, flash, main
//   alerts:    alerts, alert-<name>-<q or schedule or "all"> (data-severity: warning|critical),
//              alert-<name>-<q or schedule or "all">-dismiss
//   dialog:    confirm-dialog, confirm-title, confirm-text, confirm-ok, confirm-cancel
//   login:     login-view, login-form, login-username, login-password, login-api-key,
//              login-submit, login-error
//   charts:    throughput-chart (data-recorded, data-recorded-processed: the history drawn),
//              throughput-svg (data-points), chart-processed, chart-failed, chart-status,
//              chart-range-<60|360|1440> (aria-pressed)
//   overview:  overview, throughput-chart, throughput-svg, chart-processed, chart-failed,
//              queues-table, queue-row-<q>, queue-link-<q>, paused-<q>, count-<q>-<s>,
//              workers-<q>, no-workers-<q>, processed-<q>, failed-<q>, wait-<q>, oldest-<q>, no-queues
//   queue:     queue-view, queue-title, queue-paused, action-pause, action-resume, tab-<s>,
//              queue-chart-toggle (then the charts' ids),
//              tab-count-<s>, search-form, search-type, search-error, search-field,
//              search-value, search-submit, search-clear, search-scanned, search-further,
//              sort-toggle, page-size, page-prev, page-next, page-info, jobs-table, select-all,
//              job-row-<id>, select-<id>, job-link-<id>, job-error-<id>, no-jobs,
//              bulk-retry, bulk-promote, bulk-cancel, bulk-remove, selected-count,
//              retry-all-dead, retry-matching, clean-form, clean-amount, clean-unit,
//              clean-submit, add-job-toggle, add-job-form, add-job-type, add-job-data,
//              add-job-priority, add-job-delay, add-job-max-attempts, add-job-id,
//              add-job-submit, add-job-result, action-result,
//              limits-summary, limits-toggle, limits-form, limits-concurrency, limits-rate-max,
//              limits-rate-window, limits-group-field, limits-group-concurrency,
//              limits-group-rate-max, limits-group-rate-window, limits-priority-aging,
//              limits-max-length, limits-submit, limits-result
//   job:       job-view, job-id, job-state, job-queue, job-type, job-priority, job-attempts,
//              job-stalls, job-group, job-created, job-started, job-finished, job-due,
//              job-progress, job-schedule, job-data, job-options, job-result, job-timeline,
//              job-errors, job-error (each error), job-error-message, job-logs, job-log
//              (each line), job-curl, copy-curl, action-retry, action-promote, action-cancel,
//              action-remove, action-result, job-missing; a job of a flow: job-flow, job-flow-link,
//              job-flow-ref, job-flow-policy, job-flow-parent, job-flow-parent-state, job-flow-join,
//              job-flow-child-<ref>, job-flow-child-state-<ref>, job-flow-more, job-flow-missing;
//              a job of a batch: job-batch, job-batch-link, job-batch-role
//   flow:      flow-view, flow-queue, flow-id, flow-state (running|completed|dead), flow-jobs,
//              flow-created, flow-finished, flow-tree, flow-node-<ref> (data-state: the job's
//              state, or gone), flow-node-state-<ref>, flow-node-link-<ref>, flow-node-policy-<ref>,
//              flow-node-cancelled-<ref>, flow-node-join-<ref>, flow-node-join-state-<ref>,
//              flow-node-overridden-<ref>, flow-missing
//   schedules: schedules-view, schedules-table, schedule-row-<id>, schedule-status-<id>,
//              schedule-next-<id>, schedule-last-run-<id>, schedule-pause-<id>,
//              schedule-resume-<id>, schedule-run-<id>, schedule-edit-<id>, no-schedules,
//              action-result, schedule-create, schedule-form, schedule-form-title,
//              schedule-form-id, schedule-form-cron, schedule-form-tz, schedule-form-type,
//              schedule-form-queue, schedule-form-data, schedule-form-options,
//              schedule-form-start, schedule-form-end, schedule-form-max-runs,
//              schedule-form-missed, schedule-form-catch-up, schedule-form-paused,
//              schedule-form-submit, schedule-form-cancel, schedule-form-result
//   workers:   workers-view, workers-table, worker-row-<id>, worker-heartbeat-<id>, no-workers
//   batch:     batch-view, batch-id, batch-state, batch-cancelled, batch-progress (a <progress>),
//              batch-progress-text, batch-total, batch-pending, batch-completed, batch-dead,
//              batch-created, batch-finished, batch-callbacks, batch-callback-<on_complete|
//              on_success>, batch-callback-link-<ref>, batch-callback-state-<ref>,
//              batch-callback-cancelled-<ref>, batch-missing
//   other:     view-error, not-found
import {loadSession, onUnauthorized, session, signedIn, signOut, api, seg, ApiError} from './api.js';
import {h, replace, flash, jobHref, errorText, refreshTimes} from './dom.js';
import {startLive, stopLive, on, onStreamRefused} from './live.js';
import {startAlerts, stopAlerts} from './alerts.js';
import * as overview from './views/overview.js';
import * as queue from './views/queue.js';
import * as job from './views/job.js';
import * as flow from './views/flow.js';
import * as schedules from './views/schedules.js';
import * as workers from './views/workers.js';
import * as batch from './views/batch.js';
import * as login from './views/login.js';

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const jobSearch = document.getElementById('job-search');
const liveEl = document.getElementById('live');
const whoEl = document.getElementById('who');
const signOutButton = document.getElementById('sign-out');
const alertsEl = document.getElementById('alerts');

let unmount = null;

function decode(part) {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

// "#/queues/email?state=dead" -> {view: 'queue', queue: 'email', params}.
function parseRoute() {
  const raw = location.hash.replace(/^#/, '') || '/';
  const q = raw.indexOf('?');
  const path = q < 0 ? raw : raw.slice(0, q);
  const params = new URLSearchParams(q < 0 ? '' : raw.slice(q + 1));
  const parts = path.split('/').filter(Boolean).map(decode);
  if (parts.length === 0) return {view: 'overview', params};
  if (parts[0] === 'queues' && parts.length === 2) return {view: 'queue', queue: parts[1], params};
  if (parts[0] === 'jobs' && parts.length === 3) return {view: 'job', queue: parts[1], id: parts[2], params};
  if (parts[0] === 'flows' && parts.length === 2) return {view: 'flow', id: parts[1], params};
  if (parts[0] === 'schedules' && parts.length === 1) return {view: 'schedules', params};
  if (parts[0] === 'workers' && parts.length === 1) return {view: 'workers', params};
  if (parts[0] === 'batches' && parts.length === 2) return {view: 'batch', id: parts[1], params};
  return {view: 'not-found', params};
}

const VIEWS = {overview, queue, job, flow, schedules, workers, batch};
const NAV_OF = {
  overview: 'overview', queue: 'overview', job: 'overview', flow: 'overview', schedules: 'schedules', workers: 'workers',
  batch: 'overview',
};

function render() {
  if (unmount) unmount();
  unmount = null;
  main.replaceChildren();
  window.scrollTo(0, 0);
  updateHeader();
  if (!signedIn()) {
    unmount = login.mount(main, {onSignedIn: started});
    return;
  }
  const route = parseRoute();
  for (const link of nav.querySelectorAll('a')) {
    link.classList.toggle('current', link.dataset.nav === NAV_OF[route.view]);
  }
  const view = VIEWS[route.view];
  if (!view) {
    replace(main, h('section', {class: 'view', 'data-testid': 'not-found'},
      h('h1', null, 'Not found'), h('p', null, 'No page at ', h('code', null, location.hash), '. '),
      h('p', null, h('a', {href: '#/'}, 'Back to the queues'))));
    return;
  }
  unmount = view.mount(main, route) || null;
}

function updateHeader() {
  const inside = signedIn();
  nav.hidden = !inside;
  jobSearch.hidden = !inside;
  liveEl.hidden = !inside;
  replace(whoEl, inside ? `${session.user || 'anonymous'} · ${session.role}` : '');
  signOutButton.hidden = !(inside && session.auth === 'login');
}

function started() {
  updateHeader();
  if (signedIn()) {
    startLive();
    startAlerts(alertsEl);
  } else {
    stopLive();
    stopAlerts();
  }
  render();
}

on('status', (status) => {
  liveEl.dataset.state = status;
  liveEl.textContent = status;
  liveEl.title = status === 'live' ? 'Receiving live updates' : 'Live updates: ' + status;
});

jobSearch.addEventListener('submit', async (event) => {
  event.preventDefault();
  const input = jobSearch.elements.id;
  const id = input.value.trim();
  if (!id) return;
  try {
    const found = await api.get(`/jobs/${seg(id)}`);
    flash('');
    input.value = '';
    location.hash = jobHref(found.queue, found.id);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) flash(`no job with id "${id}"`);
    else flash(errorText(e));
  }
});

signOutButton.addEventListener('click', async () => {
  try {
    await signOut();
  } catch (e) {
    flash(errorText(e));
  }
  started();
});

// A 401 means the session is gone: ask again (auth "none" starts a new one), else log in.
let lastUnauthorized = 0;
onUnauthorized(async () => {
  const now = Date.now();
  const repeated = now - lastUnauthorized < 3000;
  lastUnauthorized = now;
  try {
    await loadSession();
  } catch {
    Object.assign(session, {user: null, role: null, csrf: null});
  }
  if (repeated && signedIn()) {
    flash('The server refuses this session (401); reload the page to try again.');
    return;
  }
  started();
});

// The event stream is refused when the session ended (signed out elsewhere, expired): ask again.
onStreamRefused(async () => {
  try {
    await loadSession();
  } catch {
    return;  // the server is away; the stream keeps retrying
  }
  if (!signedIn()) started();
});

window.addEventListener('hashchange', () => {
  if (signedIn()) render();
});

async function boot() {
  try {
    await loadSession();
  } catch (e) {
    replace(main, h('section', {class: 'view', 'data-testid': 'view-error'},
      h('h1', null, 'Cannot load the dashboard'), h('p', {class: 'error'}, errorText(e)),
      h('button', {type: 'button', onClick: boot}, 'Try again')));
    return;
  }
  started();
}

setInterval(() => refreshTimes(main), 5000);
boot();
