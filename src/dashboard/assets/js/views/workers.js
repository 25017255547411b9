// #/workers : the live worker processes, refreshed on every `queues` event.
import {api} from '../api.js';
import {h, replace, timeEl, formatDuration, formatCount, queueHref, errorText} from '../dom.js';
import {on} from '../live.js';

const STALE_HEARTBEAT_MS = 10000;

function row(worker) {
  const id = worker.id;
  const age = worker.heartbeat_age_ms;
  return h('tr', {'data-testid': `worker-row-${id}`},
    h('th', {scope: 'row'}, worker.host, h('div', {class: 'muted small', title: id}, id)),
    h('td', {class: 'num'}, String(worker.pid)),
    h('td', null, h('ul', {class: 'plain'}, (worker.queues || []).map((q) =>
      h('li', null, h('a', {href: queueHref(q.queue, 'active')}, q.queue),
        ` ${q.running}/${q.concurrency} running`,
        q.isolation === 'process'
          ? h('span', {class: 'muted', 'data-testid': `worker-processes-${id}-${q.queue}`},
            `, in ${q.processes}/${q.concurrency} handler processes`)
          : null)))),
    h('td', {class: 'num'}, String(worker.running ?? 0)),
    h('td', {class: 'num'}, formatCount(worker.completed)),
    h('td', {class: 'num'}, formatCount(worker.failed)),
    h('td', null, timeEl(worker.started_ms)),
    h('td', {class: ['num', age > STALE_HEARTBEAT_MS && 'warn'], 'data-testid': `worker-heartbeat-${id}`},
      `${formatDuration(age)} ago`),
    h('td', {class: 'small'}, (worker.job_types || []).join(', ')));
}

export function mount(main) {
  const tbody = h('tbody');
  const table = h('table', {class: 'data workers', 'data-testid': 'workers-table'},
    h('thead', null, h('tr', null,
      h('th', {scope: 'col'}, 'Host'), h('th', {scope: 'col', class: 'num'}, 'PID'),
      h('th', {scope: 'col'}, 'Queues'), h('th', {scope: 'col', class: 'num'}, 'Running'),
      h('th', {scope: 'col', class: 'num'}, 'Completed'), h('th', {scope: 'col', class: 'num'}, 'Failed'),
      h('th', {scope: 'col'}, 'Started'), h('th', {scope: 'col', class: 'num'}, 'Heartbeat'),
      h('th', {scope: 'col'}, 'Job types'))),
    tbody);
  main.append(h('section', {class: 'view', 'data-testid': 'workers-view'},
    h('h1', null, 'Workers'),
    h('p', {class: 'muted'}, 'Worker processes heard from within the last 15 seconds.'),
    h('div', {class: 'table-wrap'}, table)));

  let requestSeq = 0;
  async function load() {
    const seq = ++requestSeq;
    try {
      const workers = (await api.get('/workers')).workers || [];
      if (seq !== requestSeq) return;
      replace(tbody, workers.length ? workers.map(row)
        : h('tr', null, h('td', {colspan: 9, class: 'muted empty', 'data-testid': 'no-workers'},
          'No live workers: jobs wait until a worker serves their queue.')));
    } catch (e) {
      if (seq !== requestSeq) return;
      replace(tbody, h('tr', null, h('td', {colspan: 9, class: 'error', 'data-testid': 'view-error'},
        `Cannot load the workers: ${errorText(e)}`)));
    }
  }
  load();
  const off = on('queues', load);
  return () => {
    off();
    requestSeq++;
  };
}
