// #/jobs/{queue}/{id} : one job with its data, options, history, errors, logs and result, its
// place in a flow or its batch, the actions its state allows, and the curl command that enqueues
// the same job again.
import {api, seg, isAdmin, session, ApiError} from '../api.js';
import {
  h, replace, stateBadge, timeEl, formatTime, prettyJson, queueHref, jobHref, flowHref, batchHref, coalesce,
  message, errorText, formatCount,
} from '../dom.js';
import {on} from '../live.js';
import {confirmAction} from '../dialog.js';
import {flowKeyOf, concernsFlow, joinText, nodeStateBadge, nodeQueue} from './flow.js';

const ACTIONS = [
  {action: 'retry', label: 'Retry', states: ['dead', 'retrying']},
  {action: 'promote', label: 'Promote', states: ['delayed', 'retrying']},
  {action: 'cancel', label: 'Cancel', states: ['waiting', 'delayed', 'retrying', 'held', 'active'], destructive: true},
  {action: 'remove', label: 'Remove', states: ['waiting', 'delayed', 'retrying', 'held', 'completed', 'dead'], destructive: true},
];

// A string as one shell word in single quotes: ' becomes '\''.
export function shellQuote(text) {
  return `'${String(text).replace(/'/g, `'\\''`)}'`;
}

// The job's data with its type's secret fields (job.secret_fields) as the API shows them to a
// reader without the admin scope: a command meant to be copied and shared must not carry them.
function dataWithoutSecrets(job) {
  const data = {...(job.data ?? {})};
  for (const field of job.secret_fields || []) {
    const value = data[field];
    if (value === undefined) continue;
    data[field] = value !== null && typeof value === 'object' && !Array.isArray(value)
      ? Object.fromEntries(Object.keys(value).map((k) => [k, REDACTED]))
      : REDACTED;
  }
  return data;
}

const REDACTED = '[redacted]';

// The trace a job belongs to: the trace id of its W3C traceparent (00-<trace id>-<parent>-<flags>),
// what a tracing backend searches by; the whole header on hover.
function traceFact(options) {
  const parent = options?.traceparent;
  if (!parent) return null;
  return fact('Trace', h('code', {title: parent}, parent.split('-')[1] || parent), 'job-trace');
}

// The POST /api/jobs body that enqueues this job again (without its id, so it is a new job).
function enqueueBody(job) {
  const body = {type: job.type, queue: job.queue, data: dataWithoutSecrets(job),
    priority: job.priority, max_attempts: job.max_attempts};
  if (job.group !== undefined && job.group !== null) body.group = job.group;
  const options = job.options || {};
  for (const key of ['backoff', 'timeout_ms', 'retention', 'unique', 'lifo', 'callback_url']) {
    if (options[key] !== undefined && options[key] !== null) body[key] = options[key];
  }
  return body;
}

// With API keys configured the API wants one: the command reads it from $TASKQ_API_KEY (double
// quotes, so the shell expands it; the key itself is never in the page).
export function curlCommand(job, apiUrl, apiKeys = false) {
  const url = `${(apiUrl || '').replace(/\/$/, '')}/api/jobs`;
  const auth = apiKeys ? ' -H "Authorization: Bearer $TASKQ_API_KEY"' : '';
  return `curl -X POST ${shellQuote(url)}${auth} -H 'Content-Type: application/json' -d ${shellQuote(JSON.stringify(enqueueBody(job)))}`;
}

// Created, each failed attempt, the latest start, due and the end, in time order.
function timeline(job) {
  const events = [{at: job.created_ms, rank: 0, label: 'created'}];
  const errors = [...(job.errors || [])].sort((a, b) => a.attempt - b.attempt);
  for (const e of errors) {
    events.push({at: e.at_ms, rank: 2, label: `attempt ${e.attempt} failed`, kind: 'failed', text: e.message});
  }
  if (job.started_ms) {
    // Claimed, then handed back without using an attempt (rate limited, or no handler): "claimed".
    const label = job.attempts > 0 ? `attempt ${job.attempts} started` : 'claimed, handed back';
    events.push({at: job.started_ms, rank: 1, label, kind: 'started'});
  }
  if (job.due_ms && (job.state === 'delayed' || job.state === 'retrying')) {
    events.push({at: job.due_ms, rank: 3, label: job.state === 'retrying' ? 'retry due' : 'due', kind: 'due'});
  }
  if (job.finished_ms) {
    events.push({at: job.finished_ms, rank: 4, label: job.state, kind: job.state});
  }
  events.sort((a, b) => (a.at - b.at) || (a.rank - b.rank));
  return h('ol', {class: 'timeline', 'data-testid': 'job-timeline'}, events.map((e) =>
    h('li', {class: ['event', e.kind && `event-${e.kind}`]},
      h('span', {class: 'event-label'}, e.label), ' ', timeEl(e.at),
      h('span', {class: 'muted abs'}, ` ${formatTime(e.at)}`),
      e.text ? h('pre', {class: 'wrap event-text'}, e.text) : null)));
}

function fact(label, value, testid) {
  return [h('dt', null, label), h('dd', {'data-testid': testid}, value)];
}

function jsonBlock(value, testid) {
  return h('pre', {class: 'json', 'data-testid': testid}, prettyJson(value));
}

function curlBox(job) {
  const text = h('textarea', {class: 'curl', readonly: true, rows: '3', spellcheck: 'false',
    'data-testid': 'job-curl', 'aria-label': 'curl command'});
  text.value = curlCommand(job, session.api_url, session.api_keys === true);
  const status = h('span', {class: 'muted', role: 'status'});
  const copy = h('button', {type: 'button', 'data-testid': 'copy-curl'}, 'Copy');
  copy.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(text.value);
      replace(status, 'Copied.');
    } catch {
      text.focus();
      text.select();
      replace(status, 'Selected: press Ctrl+C (⌘C) to copy.');
    }
  });
  const secrets = (job.secret_fields || []).filter((f) => job.data && job.data[f] !== undefined);
  const note = secrets.length === 0 ? null : h('p', {class: 'muted', 'data-testid': 'curl-secrets'},
    `Secret fields (${secrets.map((f) => `data.${f}`).join(', ')}) read ${REDACTED}: fill them in.`);
  return h('div', {class: 'panel'}, h('h2', null, 'Enqueue again with curl'), note, text,
    h('div', {class: 'buttons'}, copy, status));
}

// {flow} (null once its record expired) or {error}.
async function readFlow(flowId) {
  try {
    return {flow: await api.get(`/flows/${seg(flowId)}`)};
  } catch (e) {
    return e instanceof ApiError && e.status === 404 ? {flow: null} : {error: e};
  }
}

// A parent may have thousands of children: the page lists the first ones, the flow view all.
const CHILDREN_LISTED = 100;

// The job's place in its flow (job.flow) with what `read` ({flow, error}: GET /api/flows/{id},
// read with the job) says of its parent and children. A flow's record expires before its jobs
// may: then the page still links the flow and the parent, without states.
function flowPanel(job, read) {
  const place = job.flow;
  const key = flowKeyOf(place.id);
  const nodes = read.flow ? read.flow.jobs : [];
  const self = nodes.find((n) => n.ref === place.ref);
  const parent = place.parent === null ? null : nodes.find((n) => n.ref === place.parent);
  const children = nodes.filter((n) => n.parent === place.ref);
  let note = null;
  if (read.error) {
    note = h('p', {class: 'error', 'data-testid': 'job-flow-missing'}, `Cannot read the flow: ${errorText(read.error)}`);
  } else if (!read.flow) {
    note = h('p', {class: 'muted', 'data-testid': 'job-flow-missing'},
      "The flow's record has expired: its jobs' states are not known here.");
  }
  return h('div', {class: 'panel', 'data-testid': 'job-flow'}, h('h2', null, 'Flow'),
    h('dl', {class: 'facts'},
      fact('Flow', h('a', {href: flowHref(place.id), 'data-testid': 'job-flow-link'}, place.id), null),
      fact('Ref', place.ref, 'job-flow-ref'),
      place.parent === null
        ? fact('Parent', h('span', {class: 'muted'}, 'none: the root'), 'job-flow-parent')
        : [fact('Parent', [
          h('a', {href: jobHref(read.flow && parent ? nodeQueue(read.flow, parent) : job.queue, `${key}.${place.parent}`), 'data-testid': 'job-flow-parent'}, place.parent),
          parent ? [' ', nodeStateBadge(parent.state, 'job-flow-parent-state')] : null], null),
        fact('On failure', place.on_failure, 'job-flow-policy')],
      place.has_children && self?.children
        ? fact('Children', joinText(self.children), 'job-flow-join')
        : null),
    children.length
      ? h('ul', {class: 'plain flow-children'}, children.slice(0, CHILDREN_LISTED).map((child) =>
        h('li', null, nodeStateBadge(child.state, `job-flow-child-state-${child.ref}`), ' ',
          h('a', {href: jobHref(nodeQueue(read.flow, child), child.id), 'data-testid': `job-flow-child-${child.ref}`}, child.ref))),
        children.length > CHILDREN_LISTED
          ? h('li', {class: 'muted', 'data-testid': 'job-flow-more'},
            `and ${formatCount(children.length - CHILDREN_LISTED)} more in the flow's view`)
          : null)
      : null,
    note);
}

// The job's batch (job.batch) and its role in it: `member`, `on_complete` or `on_success`. The
// panel reads nothing more: the batch's counts are on its own page, which follows them live.
function batchPanel(place) {
  return h('div', {class: 'panel', 'data-testid': 'job-batch'}, h('h2', null, 'Batch'),
    h('dl', {class: 'facts'},
      fact('Batch', h('a', {href: batchHref(place.id), 'data-testid': 'job-batch-link'}, place.id), null),
      fact('Role', place.role, 'job-batch-role')));
}

export function mount(main, route) {
  const {queue, id} = route;
  const jobPath = `/jobs/${seg(id)}`;
  const section = h('section', {class: 'view', 'data-testid': 'job-view'});
  const result = h('p', {class: 'message', 'data-testid': 'action-result', role: 'status', hidden: true});
  main.append(section);
  let requestSeq = 0;
  let gone = false;
  let shown = null;  // the job as last drawn
  let resultState = null;  // the state an action's message reports; the message goes when it passes

  async function act(a) {
    if (a.destructive && !await confirmAction({
      title: `${a.label} job ${id}?`,
      text: a.action === 'cancel'
        ? 'A waiting, delayed or retrying job is removed; an active job is stopped and becomes dead; '
          + 'a held flow parent becomes dead, cancelled, with every unfinished job below it.'
        : 'The job and everything kept about it are deleted.',
      ok: a.label,
    })) return;
    try {
      let answer;
      if (a.action === 'cancel') answer = await api.del(jobPath, {queue});
      else answer = await api.post(`${jobPath}/${a.action}`, undefined, {queue});
      if (a.action === 'remove') {
        location.hash = queueHref(queue, shown?.state);
        return;
      }
      const outcome = answer.outcome === 'stop_requested' ? 'stop requested'
        : answer.outcome || (answer.state ? `now ${answer.state}` : 'done');
      message(result, `${a.label}: ${outcome}.`);
      resultState = answer.state || null;
      load();
    } catch (e) {
      message(result, errorText(e), 'error');
    }
  }

  function draw(job, flowRead) {
    shown = job;
    if (resultState && job.state !== resultState) {  // e.g. "now waiting" once it completed
      result.hidden = true;
      resultState = null;
    }
    const actions = isAdmin() ? ACTIONS.filter((a) => a.states.includes(job.state)).map((a) => {
      const button = h('button', {type: 'button', class: a.destructive ? 'danger' : 'primary',
        'data-testid': `action-${a.action}`}, a.label);
      button.addEventListener('click', () => act(a));
      return button;
    }) : [];
    const errors = job.errors || [];
    const logs = job.logs || [];
    replace(section,
      h('div', {class: 'view-head'},
        h('h1', null, h('a', {href: '#/', class: 'crumb'}, 'Queues'), ' / ',
          h('a', {href: queueHref(queue, job.state), class: 'crumb', 'data-testid': 'job-queue'}, queue), ' / ',
          h('span', {class: 'job-id', 'data-testid': 'job-id'}, job.id)),
        stateBadge(job.state, 'job-state'),
        h('span', {class: 'spacer'}),
        actions.length ? h('div', {class: 'buttons'}, actions) : null),
      result,
      job.live_handler === false
        ? h('p', {class: 'message message-warn', 'data-testid': 'job-no-live-handler'},
          `No live worker of queue ${queue} has a handler for type ${job.type}: this job waits until one starts. ` +
          'Workers without the handler hand it back without using an attempt (see Logs).')
        : null,
      job.overrunning
        ? h('p', {class: 'message message-warn', 'data-testid': 'job-overrunning'},
          `This attempt passed its timeout of ${job.overrunning.timeout_ms} ms `,
          timeEl(job.overrunning.since_ms, 'job-overrunning-since'),
          ' and its handler still runs. It was asked to stop; the job is not retried until the ' +
          'handler returns.')
        : null,
      h('div', {class: 'columns'},
        h('div', {class: 'panel'}, h('h2', null, 'Job'),
          h('dl', {class: 'facts'},
            fact('Type', job.type, 'job-type'),
            fact('Priority', String(job.priority), 'job-priority'),
            fact('Attempts', `${job.attempts} of ${job.max_attempts}`, 'job-attempts'),
            fact('Stalls', String(job.stalls ?? 0), 'job-stalls'),
            job.group !== undefined && job.group !== null ? fact('Group', job.group, 'job-group') : null,
            fact('Created', timeEl(job.created_ms, 'job-created'), null),
            fact('Started', timeEl(job.started_ms, 'job-started'), null),
            fact('Finished', timeEl(job.finished_ms, 'job-finished'), null),
            job.due_ms ? fact('Due', timeEl(job.due_ms, 'job-due'), null) : null,
            traceFact(job.options),
            job.options?.callback_url ? fact('Callback', job.options.callback_url, 'job-callback') : null,
            job.options?.expires_at ? fact('Expires', job.options.expires_at, 'job-expires') : null,
            fact('Schedule', job.schedule
              ? [h('a', {href: `#/schedules?id=${encodeURIComponent(job.schedule.id)}`}, job.schedule.id),
                ' · fire time ', timeEl(job.schedule.fire_time_ms)]
              : h('span', {class: 'muted'}, 'none'), 'job-schedule'),
            job.progress !== undefined ? fact('Progress', h('code', null, JSON.stringify(job.progress)), 'job-progress') : null)),
        h('div', {class: 'panel'}, h('h2', null, 'History'), timeline(job))),
      job.flow ? flowPanel(job, flowRead) : null,
      job.batch ? batchPanel(job.batch) : null,
      h('div', {class: 'panel'}, h('h2', null, 'Data'), jsonBlock(job.data, 'job-data')),
      h('div', {class: 'panel'}, h('h2', null, `Errors (${errors.length})`),
        errors.length
          ? h('ol', {class: 'errors', 'data-testid': 'job-errors'}, errors.map((e) =>
            h('li', {'data-testid': 'job-error'},
              h('div', {class: 'error-head'}, h('strong', null, `Attempt ${e.attempt}`), ' · ',
                timeEl(e.at_ms), h('span', {class: 'muted abs'}, ` ${formatTime(e.at_ms)}`)),
              h('pre', {class: 'wrap', 'data-testid': 'job-error-message'}, e.message))))
          : h('p', {class: 'muted', 'data-testid': 'job-errors'}, 'No errors.')),
      h('div', {class: 'panel'}, h('h2', null, `Logs (${logs.length})`),
        logs.length
          ? h('ol', {class: 'logs', 'data-testid': 'job-logs'}, logs.map((line) =>
            h('li', {'data-testid': 'job-log'}, typeof line === 'string' ? line : JSON.stringify(line))))
          : h('p', {class: 'muted', 'data-testid': 'job-logs'}, 'No log lines.')),
      job.state === 'completed' || job.result !== undefined
        ? h('div', {class: 'panel'}, h('h2', null, 'Result'), jsonBlock(job.result ?? null, 'job-result'))
        : null,
      h('div', {class: 'panel'}, h('h2', null, 'Options'), jsonBlock(job.options || {}, 'job-options')),
      curlBox(job));
  }

  async function load() {
    const seq = ++requestSeq;
    try {
      const job = await api.get(jobPath, {queue});
      const flowRead = job.flow ? await readFlow(job.flow.id) : null;
      if (seq !== requestSeq) return;
      gone = false;
      draw(job, flowRead);
    } catch (e) {
      if (seq !== requestSeq) return;
      if (e instanceof ApiError && e.status === 404) {
        gone = true;
        replace(section, h('h1', null, h('a', {href: '#/', class: 'crumb'}, 'Queues'), ' / ',
          h('a', {href: queueHref(queue), class: 'crumb'}, queue), ' / ', id),
        h('p', {class: 'error', 'data-testid': 'job-missing'}, `No job with id "${id}" in queue "${queue}": ${e.message}`));
      } else {
        replace(section, h('p', {class: 'error', 'data-testid': 'view-error'}, `Cannot load the job: ${errorText(e)}`));
      }
    }
  }
  const refresh = coalesce(load, 300);
  // Its flow's other jobs change what the flow panel shows; they may be many and busy.
  const refreshForFlow = coalesce(load, 1000);

  replace(section, h('p', {class: 'muted'}, 'Loading…'));
  load();
  const off = on('job', (event) => {
    if (event.queue !== queue) return;
    const ids = event.ids || [];
    if (ids.includes(id) || (event.count || 0) > ids.length || (gone && event.event === 'enqueued')) refresh();
    else if (shown?.flow && concernsFlow(event, queue, flowKeyOf(shown.flow.id))) refreshForFlow();
  });
  return () => {
    off();
    refresh.cancel();
    refreshForFlow.cancel();
    requestSeq++;
  };
}
