// #/flows/{id} : one flow (docs/workflows.md) as a tree: each job with its state, its policy, and
// for a parent what its children have done so far; redrawn while the flow's jobs change.
import {api, seg, ApiError} from '../api.js';
import {
  h, replace, badge, stateBadge, timeEl, jobHref, queueHref, coalesce, errorText, formatCount,
} from '../dom.js';
import {on} from '../live.js';

// A flow id is "<queue>:<flow key>"; a flow key has no ':' (1 to 64 of A-Z a-z 0-9 _ -), so the
// key is what follows the last one, whatever the queue's name holds.
export function flowKeyOf(flowId) {
  return flowId.slice(flowId.lastIndexOf(':') + 1);
}

// The queues a flow's jobs are in: its own, and those its jobs run in (a flow across queues).
export function flowQueues(flow) {
  return new Set([flow.queue, ...flow.jobs.map((job) => job.queue).filter(Boolean)]);
}

// The queue a job of the flow is in now: its link's (a parent of another queue waits in the
// flow's queue until it is released), else the queue it runs in.
export function nodeQueue(flow, node) {
  const link = node.links && node.links.job;
  const linked = link ? new URLSearchParams(link.split('?')[1] || '').get('queue') : null;
  return linked || node.queue || flow.queue;
}

// Whether a live `job` event may concern the flow: one of its ids is a job of the flow (every
// job id of a flow is "<flow key>.<ref>"), or the event names more jobs than it lists. `queues`:
// a Set of the flow's queues, or one queue's name.
export function concernsFlow(event, queues, key) {
  if (typeof queues === 'string' ? event.queue !== queues : !queues.has(event.queue)) return false;
  const ids = event.ids || [];
  const prefix = `${key}.`;
  return ids.some((id) => id.startsWith(prefix)) || (event.count || 0) > ids.length;
}

// A parent's children ("children" of GET /api/flows/{id}): "3 of 5 children done, 1 dead".
export function joinText(children) {
  let text = `${formatCount(children.completed)} of ${formatCount(children.total)} ` +
    `${children.total === 1 ? 'child' : 'children'} done`;
  if (children.dead) text += `, ${formatCount(children.dead)} dead`;
  return text;
}

// A job's state; a job removed or deleted by its retention has none (null).
export function nodeStateBadge(state, testid) {
  return state ? stateBadge(state, testid) : badge('gone', null, testid);
}

// What the flow's own state looks like in the job states' colours.
const FLOW_STATE_CLASS = {running: 'state-active', completed: 'state-completed', dead: 'state-dead'};

// Redrawing a flow of thousands of jobs on every event would cost the server a full read each
// time: large flows are read again less often.
const LARGE_FLOW_JOBS = 1000;
const REFRESH_MS = 300;
const LARGE_REFRESH_MS = 3000;

function nodeLine(flow, node) {
  const ref = node.ref;
  const join = node.children;
  return h('div', {class: ['flow-node', node.state && `flow-node-${node.state}`]},
    nodeStateBadge(node.state, `flow-node-state-${ref}`), ' ',
    h('a', {href: jobHref(nodeQueue(flow, node), node.id), class: 'flow-ref', 'data-testid': `flow-node-link-${ref}`}, ref),
    node.queue && node.queue !== flow.queue
      ? [' ', h('span', {class: 'muted small', 'data-testid': `flow-node-queue-${ref}`}, `in ${node.queue}`)]
      : null,
    ' ', h('code', {class: 'muted small'}, node.id), ' ',
    node.parent === null
      ? h('span', {class: 'muted small', 'data-testid': `flow-node-policy-${ref}`}, 'root')
      : h('span', {class: 'muted small', 'data-testid': `flow-node-policy-${ref}`,
        title: "what this job's death does to its parent"}, `on failure: ${node.on_failure}`),
    node.cancelled ? [' ', badge('cancelled', 'warn', `flow-node-cancelled-${ref}`)] : null,
    join
      ? [' · ', h('span', {class: 'flow-join', 'data-testid': `flow-node-join-${ref}`}, joinText(join)), ' ',
        badge(join.state, join.state === 'failed' || join.state === 'cancelled' ? 'warn' : null,
          `flow-node-join-state-${ref}`),
        join.overridden ? [' ', badge('overridden', 'paused', `flow-node-overridden-${ref}`)] : null]
      : null);
}

// The jobs as nested lists, each parent's children by ref (the API lists them by ref).
function tree(flow) {
  const refs = new Set(flow.jobs.map((node) => node.ref));
  const childrenOf = new Map();
  const tops = [];
  for (const node of flow.jobs) {
    if (node.parent === null || !refs.has(node.parent)) {
      tops.push(node);
      continue;
    }
    if (!childrenOf.has(node.parent)) childrenOf.set(node.parent, []);
    childrenOf.get(node.parent).push(node);
  }
  // Depth is at most 16 (FlowLimits::max_depth), so recursion stays shallow.
  const list = (nodes) => h('ul', {class: 'flow-tree'}, nodes.map((node) =>
    h('li', {'data-testid': `flow-node-${node.ref}`, 'data-state': node.state || 'gone'},
      nodeLine(flow, node),
      childrenOf.has(node.ref) ? list(childrenOf.get(node.ref)) : null)));
  return h('div', {'data-testid': 'flow-tree'}, list(tops));
}

export function mount(main, route) {
  const {id} = route;
  const key = flowKeyOf(id);
  const section = h('section', {class: 'view', 'data-testid': 'flow-view'});
  main.append(section);
  let requestSeq = 0;
  let shown = null;  // the flow as last drawn

  function draw(flow) {
    shown = flow;
    replace(section,
      h('div', {class: 'view-head'},
        h('h1', null, h('a', {href: '#/', class: 'crumb'}, 'Queues'), ' / ',
          h('a', {href: queueHref(flow.queue), class: 'crumb', 'data-testid': 'flow-queue'}, flow.queue), ' / ',
          'flow ', h('span', {class: 'job-id', 'data-testid': 'flow-id'}, key)),
        h('span', {class: ['badge', 'state', FLOW_STATE_CLASS[flow.state]], 'data-testid': 'flow-state'},
          flow.state)),
      h('div', {class: 'panel'},
        h('dl', {class: 'facts'},
          h('dt', null, 'Jobs'), h('dd', {'data-testid': 'flow-jobs'}, formatCount(flow.jobs.length)),
          h('dt', null, 'Created'), h('dd', null, timeEl(flow.created_ms, 'flow-created')),
          h('dt', null, 'Finished'), h('dd', null, timeEl(flow.finished_ms, 'flow-finished')))),
      h('div', {class: 'panel'}, h('h2', null, 'Jobs'), tree(flow)));
  }

  async function load() {
    const seq = ++requestSeq;
    try {
      const flow = await api.get(`/flows/${seg(id)}`);
      if (seq !== requestSeq) return;
      draw(flow);
    } catch (e) {
      if (seq !== requestSeq) return;
      shown = null;
      if (e instanceof ApiError && e.status === 404) {
        replace(section, h('h1', null, h('a', {href: '#/', class: 'crumb'}, 'Queues'), ' / flow ', id),
          h('p', {class: 'error', 'data-testid': 'flow-missing'},
            `No flow "${id}": ${e.message}. The record of a finished flow expires after 7 days.`));
      } else {
        replace(section, h('p', {class: 'error', 'data-testid': 'view-error'}, `Cannot load the flow: ${errorText(e)}`));
      }
    }
  }
  const refresh = coalesce(load, REFRESH_MS);
  const refreshLarge = coalesce(load, LARGE_REFRESH_MS);

  replace(section, h('p', {class: 'muted'}, 'Loading…'));
  load();
  const off = on('job', (event) => {
    if (!shown || !concernsFlow(event, flowQueues(shown), key)) return;
    (shown.jobs.length > LARGE_FLOW_JOBS ? refreshLarge : refresh)();
  });
  return () => {
    off();
    refresh.cancel();
    refreshLarge.cancel();
    requestSeq++;
  };
}
