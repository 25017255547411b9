// A sharded queue's shards on its page (GET B/api/queues/{q}/shards, docs/architecture.md,
// "Sharded queues"): each shard's index, hash tag, the master serving it on a Redis Cluster
// ("—" off a cluster) and counts. Shown only while the queue is spread over more than one
// shard, and read only then: an unsharded queue costs no request. Two shards on one master are
// marked: they share its throughput (the alert TaskqShardsShareMaster says when a spread is
// possible).
import {api, seg} from '../api.js';
import {h, replace, STATES, formatCount, errorText} from '../dom.js';

// `shared`: the masters serving more than one of the queue's shards.
function shardRow(shard, shared) {
  const i = shard.shard;
  const counts = shard.counts || {};
  const master = shard.master || '';
  const crowded = master !== '' && shared.has(master);
  return h('tr', {'data-testid': `shard-row-${i}`},
    h('td', {class: 'num', 'data-testid': `shard-index-${i}`}, String(i)),
    h('td', {class: 'id', 'data-testid': `shard-tag-${i}`}, shard.tag),
    h('td', {class: ['id', crowded && 'warn'], 'data-testid': `shard-master-${i}`,
      title: crowded ? 'this master serves other shards of the queue too' : null},
      master || '—'),
    STATES.map((state) => h('td', {class: 'num'},
      h('span', {class: ['count', counts[state] ? `count-${state}` : 'zero'],
        'data-testid': `shard-count-${i}-${state}`}, formatCount(counts[state])))));
}

// Returns {el, update(shards), stop()}: update with the queue's `shards` each time the page
// has its counts anew (GET B/api/queues/{q}, a live `queues` event), so the breakdown is read
// as often as the counts and no more; stop when the page goes.
export function shardsPanel(queue) {
  const path = `/queues/${seg(queue)}/shards`;
  const note = h('span', {class: 'summary-note', 'data-testid': 'shards-summary'});
  const status = h('p', {class: 'error', 'data-testid': 'shards-error', hidden: true});
  const tbody = h('tbody');
  const table = h('table', {class: 'data shards', 'data-testid': 'shards-table'},
    h('thead', null, h('tr', null,
      h('th', {scope: 'col', class: 'num'}, 'Shard'),
      h('th', {scope: 'col', title: 'the hash tag of the shard\'s keys'}, 'Tag'),
      h('th', {scope: 'col', title: 'the Redis Cluster master serving the shard (— off a cluster)'}, 'Master'),
      STATES.map((state) => h('th', {scope: 'col', class: ['num', `head-${state}`]}, state)))),
    tbody);
  const el = h('details', {class: 'panel shards-panel', open: true, hidden: true, 'data-testid': 'shards-panel'},
    h('summary', {'data-testid': 'shards-toggle'}, 'Shards', note),
    status,
    h('div', {class: 'table-wrap'}, table));

  let seq = 0;           // answers of an older request are dropped
  let loading = false;   // one request at a time
  let again = false;     // counts came while one was out: read once more after it
  let stopped = false;

  function draw(answer) {
    const breakdown = answer.breakdown || [];
    replace(note, ` · ${formatCount(breakdown.length)} shards, counts of each`);
    const seen = new Set();
    const shared = new Set();
    for (const shard of breakdown) {
      if (!shard.master) continue;
      if (seen.has(shard.master)) shared.add(shard.master);
      seen.add(shard.master);
    }
    replace(tbody, breakdown.map((shard) => shardRow(shard, shared)));
    status.hidden = true;
  }

  async function load() {
    if (loading) {
      again = true;
      return;
    }
    loading = true;
    const mine = seq;
    try {
      const answer = await api.get(path);
      if (mine === seq) draw(answer);
    } catch (e) {
      if (mine === seq) {
        status.hidden = false;
        replace(status, `Cannot load the shards: ${errorText(e)}`);
      }
    } finally {
      loading = false;
      if (again && !stopped && !el.hidden) {
        again = false;
        load();
      }
    }
  }

  function update(shards) {
    if (stopped) return;
    if (!(shards > 1)) {
      seq++;
      again = false;
      el.hidden = true;
      return;
    }
    el.hidden = false;
    load();
  }

  function stop() {
    stopped = true;
    seq++;
  }

  return {el, update, stop};
}
