// #/ : every queue with its counts, workers, rates, wait time and oldest waiting job, and a chart of
// jobs per minute over every queue (the recorded history, carried forward live).
import {api} from '../api.js';
import {
  h, replace, STATES, badge, formatRate, formatDuration, formatCount, queueHref, errorText,
} from '../dom.js';
import {on, latestQueues, noteQueues} from '../live.js';
import {historyChart} from '../history_chart.js';

// The per-minute rate of every queue together; null where no queue has one.
function summedRates(payload) {
  const sum = {processed: null, failed: null};
  for (const q of payload.queues || []) {
    for (const name of ['processed', 'failed']) {
      const value = q.per_minute ? q.per_minute[name] : null;
      if (typeof value === 'number') sum[name] = (sum[name] || 0) + value;
    }
  }
  return sum;
}

// "3 shards" for a queue spread over shards (docs/architecture.md, "Sharded queues").
function shardsBadge(shards, testid) {
  const el = badge(`${shards} shards`, null, testid);
  el.title = `Spread over ${shards} shards; the counts are their sums`;
  return el;
}

function queueRow(q) {
  const name = q.name;
  const workers = q.workers;
  return h('tr', {'data-testid': `queue-row-${name}`},
    h('th', {scope: 'row'},
      h('a', {href: queueHref(name), 'data-testid': `queue-link-${name}`}, name),
      q.paused ? [' ', badge('paused', 'paused', `paused-${name}`)] : null,
      q.shards > 1 ? [' ', shardsBadge(q.shards, `shards-${name}`)] : null),
    STATES.map((state) => h('td', {class: 'num'},
      h('a', {href: queueHref(name, state), class: ['count', q.counts[state] ? `count-${state}` : 'zero'],
        'data-testid': `count-${name}-${state}`, title: `${state} jobs of ${name}`},
      formatCount(q.counts[state])))),
    h('td', {class: 'num', 'data-testid': `workers-${name}`},
      workers === 0
        ? badge('no workers', 'warn', `no-workers-${name}`)
        : (workers === undefined || workers === null ? '–' : String(workers))),
    h('td', {class: 'num', 'data-testid': `processed-${name}`}, formatRate(q.per_minute?.processed)),
    h('td', {class: 'num', 'data-testid': `failed-${name}`}, formatRate(q.per_minute?.failed)),
    h('td', {class: 'num', 'data-testid': `wait-${name}`}, formatDuration(q.mean_wait_ms)),
    h('td', {class: 'num', 'data-testid': `oldest-${name}`}, formatDuration(q.oldest_waiting_age_ms)));
}

export function mount(main) {
  const chart = historyChart({path: '/history', liveRate: summedRates});
  const body = h('tbody');
  const status = h('p', {class: 'muted'});
  const table = h('table', {class: 'data queues', 'data-testid': 'queues-table'},
    h('thead', null, h('tr', null,
      h('th', {scope: 'col'}, 'Queue'),
      STATES.map((state) => h('th', {scope: 'col', class: ['num', `head-${state}`]}, state)),
      h('th', {scope: 'col', class: 'num'}, 'Workers'),
      h('th', {scope: 'col', class: 'num', title: 'completed jobs per minute'}, 'Processed/min'),
      h('th', {scope: 'col', class: 'num', title: 'failed attempts per minute'}, 'Failed/min'),
      h('th', {scope: 'col', class: 'num', title: 'mean wait (due to start) of the jobs started in the last minute'}, 'Wait'),
      h('th', {scope: 'col', class: 'num', title: 'age of the oldest job that runs next'}, 'Oldest waiting'))),
    body);

  let shown = null;  // the payload drawn last

  function draw(payload) {
    shown = payload;
    const queues = payload.queues || [];
    replace(body, queues.length
      ? queues.map(queueRow)
      : h('tr', null, h('td', {colspan: STATES.length + 6, class: 'muted', 'data-testid': 'no-queues'},
        'No queues yet: a queue appears once a job is enqueued to it or a worker serves it.')));
    replace(status, '');
  }

  main.append(h('section', {class: 'view', 'data-testid': 'overview'},
    h('h1', null, 'Queues'),
    h('div', {class: 'panel'}, h('h2', null, 'Jobs per minute (all queues)'), chart.el),
    status,
    h('div', {class: 'table-wrap'}, table)));

  // The latest live snapshot draws at once, but it can be seconds old (a pause or resume sends
  // no job event, so none comes sooner): the queues are asked anew as well.
  if (latestQueues()) draw(latestQueues());
  else replace(status, 'Loading…');
  let streamed = false;  // a queues event came after the request went out: it is newer
  api.get('/queues').then((payload) => {
    if (!latestQueues()) noteQueues(payload);
    if (!streamed) draw(payload);
  }).catch((e) => {
    if (shown) return;  // the snapshot stands; the stream brings the next
    status.className = 'error';
    replace(status, `Cannot load the queues: ${errorText(e)}`);
  });
  const off = on('queues', (payload) => {
    streamed = true;
    draw(payload);
  });
  return () => {
    off();
    chart.unmount();
  };
}
