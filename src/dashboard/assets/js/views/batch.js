// #/batches/{id} : one batch (docs/workflows.md, "Batches"): its state, how far its members have
// got, and its callbacks; refreshed on every live event that names one of its jobs.
import {api, seg, ApiError} from '../api.js';
import {h, replace, stateBadge, badge, timeEl, formatCount, jobHref, coalesce, errorText} from '../dom.js';
import {on} from '../live.js';
import {flowKeyOf, concernsFlow} from './flow.js';

function fact(label, value, testid) {
  return [h('dt', null, label), h('dd', {'data-testid': testid}, value)];
}

function callbackRow(batch, ref) {
  const callback = batch[ref];
  if (!callback) {
    return h('tr', {'data-testid': `batch-callback-${ref}`},
      h('th', {scope: 'row'}, ref), h('td', {colspan: 2, class: 'muted'}, 'none'));
  }
  return h('tr', {'data-testid': `batch-callback-${ref}`},
    h('th', {scope: 'row'}, ref),
    h('td', null, h('a', {href: jobHref(batch.queue, callback.id), 'data-testid': `batch-callback-link-${ref}`}, callback.id)),
    h('td', null,
      callback.state ? stateBadge(callback.state, `batch-callback-state-${ref}`)
        : h('span', {class: 'muted', 'data-testid': `batch-callback-state-${ref}`}, 'gone'),
      callback.cancelled ? [' ', badge('cancelled', 'warn', `batch-callback-cancelled-${ref}`)] : null));
}

export function mount(main, route) {
  const id = route.id;
  // "<queue>:<batch key>"; the batch's jobs are "<batch key>.<ref>" in that queue.
  const queue = id.slice(0, id.indexOf(':'));
  const key = flowKeyOf(id);
  const section = h('section', {class: 'view', 'data-testid': 'batch-view'});
  main.append(section);
  let requestSeq = 0;

  function draw(batch) {
    const settled = batch.completed + batch.dead;
    replace(section,
      h('div', {class: 'view-head'},
        h('h1', null, h('a', {href: '#/', class: 'crumb'}, 'Queues'), ' / ',
          h('a', {href: `#/queues/${encodeURIComponent(batch.queue)}`, class: 'crumb'}, batch.queue), ' / batch ',
          h('span', {'data-testid': 'batch-id'}, id)),
        badge(batch.state, batch.state === 'finished' ? 'ok' : null, 'batch-state'),
        batch.cancelled ? badge('cancelled', 'warn', 'batch-cancelled') : null),
      h('div', {class: 'panel'},
        h('h2', null, 'Members'),
        h('progress', {class: 'batch-progress', max: String(Math.max(batch.total, 1)), value: String(settled),
          'data-testid': 'batch-progress', 'aria-label': 'members settled'}),
        h('p', {'data-testid': 'batch-progress-text'},
          `${formatCount(settled)} of ${formatCount(batch.total)} settled`),
        h('dl', {class: 'facts'},
          fact('Total', formatCount(batch.total), 'batch-total'),
          fact('Pending', formatCount(batch.pending), 'batch-pending'),
          fact('Completed', formatCount(batch.completed), 'batch-completed'),
          fact('Dead', formatCount(batch.dead), 'batch-dead'),
          fact('Created', timeEl(batch.created_ms), 'batch-created'),
          fact('Finished', batch.finished_ms ? timeEl(batch.finished_ms) : h('span', {class: 'muted'}, 'not yet'),
            'batch-finished'))),
      h('div', {class: 'panel'},
        h('h2', null, 'Callbacks'),
        h('table', {class: 'data', 'data-testid': 'batch-callbacks'},
          h('tbody', null, callbackRow(batch, 'on_complete'), callbackRow(batch, 'on_success')))));
  }

  async function load() {
    const seq = ++requestSeq;
    try {
      const batch = await api.get(`/batches/${seg(id)}`);
      if (seq !== requestSeq) return;
      draw(batch);
    } catch (e) {
      if (seq !== requestSeq) return;
      const text = e instanceof ApiError && e.status === 404
        ? `No batch with id "${id}" (or its record expired).` : `Cannot load the batch: ${errorText(e)}`;
      replace(section, h('h1', null, `Batch ${id}`),
        h('p', {class: 'error', 'data-testid': e instanceof ApiError && e.status === 404 ? 'batch-missing' : 'view-error'}, text));
    }
  }
  const refresh = coalesce(load, 300);

  replace(section, h('p', {class: 'muted'}, 'Loading…'));
  load();
  // A batch's job ids are "<batch key>.<ref>", as a flow's are.
  const off = on('job', (event) => {
    if (concernsFlow(event, queue, key)) refresh();
  });
  return () => {
    off();
    refresh.cancel();
    requestSeq++;
  };
}
