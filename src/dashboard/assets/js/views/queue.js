// #/queues/{queue}?state=… : one queue's jobs in one state, paged, searchable, with actions.
// Search filters live in the fragment (type, error, field, value) so a search can be linked.
import {api, seg, isAdmin, ApiError} from '../api.js';
import {
  h, replace, STATES, badge, timeEl, snippet, jobHref, coalesce, message,
  errorText, formatCount,
} from '../dom.js';
import {on, latestQueues} from '../live.js';
import {confirmAction} from '../dialog.js';
import {field} from '../form.js';
import {limitsPanel} from './limits_panel.js';
import {shardsPanel} from './shards_panel.js';
import {historyChart} from '../history_chart.js';

const SEARCH_KEYS = ['type', 'error', 'field', 'value'];
const PAGE_SIZES = [25, 50, 100];
const MAX_IDS_PER_RETRY = 1000;
const CLEAN_LIMIT = 10000;
const UNIT_MS = {minutes: 60000, hours: 3600000, days: 86400000};

// Which bulk actions a state allows, and whether they destroy something (then: confirm).
const ACTIONS = [
  {action: 'retry', label: 'Retry', states: ['dead', 'retrying'], destructive: false},
  {action: 'promote', label: 'Promote', states: ['delayed', 'retrying'], destructive: false},
  {action: 'cancel', label: 'Cancel', states: ['waiting', 'delayed', 'retrying', 'held', 'active'], destructive: true},
  {action: 'remove', label: 'Remove', states: ['waiting', 'delayed', 'retrying', 'held', 'completed', 'dead'], destructive: true},
];

// Kept across visits of queue pages.
const prefs = {limit: 25, newestFirst: {}};

// The API lists completed and dead jobs newest first, the others in run order (oldest first).
function newestFirstByDefault(state) {
  return state === 'completed' || state === 'dead';
}

function searchFromParams(params) {
  const search = {};
  for (const key of SEARCH_KEYS) {
    const value = (params.get(key) || '').trim();
    if (value) search[key] = value;
  }
  return Object.keys(search).length ? search : null;
}

function hrefWith(queue, state, search) {
  const params = new URLSearchParams({state});
  for (const [key, value] of Object.entries(search || {})) params.set(key, value);
  return `#/queues/${encodeURIComponent(queue)}?${params}`;
}

export function mount(main, route) {
  const queue = route.queue;
  const requested = route.params.get('state');
  const state = STATES.includes(requested) ? requested : 'waiting';
  const search = searchFromParams(route.params);
  const admin = isAdmin();
  const path = `/queues/${seg(queue)}`;

  let cursor = null;        // this page's cursor
  const previous = [];      // cursors of the pages before it
  let nextCursor = null;
  let jobs = [];
  let scanned = 0;
  let searchedFurther = false;
  let selected = new Set();
  let requestSeq = 0;
  let info = null;          // this queue as in GET /api/queues

  const result = h('p', {class: 'message', 'data-testid': 'action-result', role: 'status', hidden: true});
  const say = (text, kind = 'ok') => message(result, text, kind);

  // ----- header: name, paused, pause/resume
  const pausedBadge = badge('paused', 'paused', 'queue-paused');
  pausedBadge.hidden = true;
  // Running jobs past their timeout whose handlers still run (not retried until they return).
  const overrunBadge = badge('', 'paused', 'queue-overrunning');
  overrunBadge.hidden = true;
  overrunBadge.title = 'Running jobs past their timeout whose handler still runs; ' +
    'they are not retried until it returns';
  // Process isolation: the handler processes alive, and what ended the others (its title).
  const processBadge = badge('', '', 'queue-handler-processes');
  processBadge.hidden = true;
  const pauseButton = h('button', {type: 'button', hidden: !admin});
  pauseButton.addEventListener('click', async () => {
    const pause = !(info && info.paused);
    pauseButton.disabled = true;
    try {
      const answer = await api.post(`${path}/${pause ? 'pause' : 'resume'}`);
      info = {...(info || {}), paused: answer.paused};
      drawInfo();
      say(answer.paused ? `${queue} is paused: workers claim nothing from it.` : `${queue} is resumed.`);
    } catch (e) {
      say(errorText(e), 'error');
    } finally {
      pauseButton.disabled = false;
    }
  });

  // ----- tabs
  const tabCounts = {};
  const tabs = h('nav', {class: 'tabs', 'aria-label': 'Job states'}, STATES.map((st) => {
    tabCounts[st] = h('span', {class: 'tab-count', 'data-testid': `tab-count-${st}`}, '');
    return h('a', {
      href: hrefWith(queue, st, search), class: ['tab', `tab-${st}`, st === state && 'current'],
      'aria-current': st === state ? 'page' : null, 'data-testid': `tab-${st}`,
    }, st, ' ', tabCounts[st]);
  }));

  function drawInfo() {
    if (!info) return;
    pausedBadge.hidden = !info.paused;
    overrunBadge.hidden = !info.overrunning;
    replace(overrunBadge, `${formatCount(info.overrunning || 0)} overrunning`);
    const hp = info.handler_processes || {};
    processBadge.hidden = !hp.alive && !hp.started;
    replace(processBadge, `${formatCount(hp.alive || 0)} handler processes`);
    processBadge.title = `Handler processes started: ${formatCount(hp.started || 0)}; ` +
      `stopped at a timeout: ${formatCount(hp.timed_out || 0)}, after a stop request: ` +
      `${formatCount(hp.stopped || 0)}, out of memory: ${formatCount(hp.out_of_memory || 0)}, ` +
      `crashed: ${formatCount(hp.crashed || 0)}`;
    replace(pauseButton, info.paused ? 'Resume' : 'Pause');
    pauseButton.setAttribute('data-testid', info.paused ? 'action-resume' : 'action-pause');
    pauseButton.className = info.paused ? 'primary' : '';
    for (const st of STATES) {
      replace(tabCounts[st], info.counts ? formatCount(info.counts[st]) : '');
      tabCounts[st].classList.toggle('zero', !info.counts?.[st]);
    }
  }

  // ----- search
  const searchInputs = {
    type: h('input', {name: 'type', 'data-testid': 'search-type', placeholder: 'email', value: search?.type || ''}),
    error: h('input', {name: 'error', 'data-testid': 'search-error', placeholder: 'text in the error', value: search?.error || ''}),
    field: h('input', {name: 'field', 'data-testid': 'search-field', placeholder: 'to', value: search?.field || ''}),
    value: h('input', {name: 'value', 'data-testid': 'search-value', placeholder: 'user@example.com', value: search?.value || ''}),
  };
  for (const input of Object.values(searchInputs)) {
    input.autocomplete = 'off';
    input.spellcheck = false;
  }
  const searchForm = h('form', {class: 'search-form', 'data-testid': 'search-form', role: 'search'},
    field('Type', searchInputs.type), field('Error contains', searchInputs.error),
    field('Data field', searchInputs.field), field('equals', searchInputs.value),
    h('div', {class: 'buttons'},
      h('button', {type: 'submit', class: 'primary', 'data-testid': 'search-submit'}, 'Search'),
      search ? h('a', {class: 'button', href: hrefWith(queue, state, null), 'data-testid': 'search-clear'}, 'Clear') : null));
  searchForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const next = {};
    for (const [key, input] of Object.entries(searchInputs)) {
      if (input.value.trim()) next[key] = input.value.trim();
    }
    location.hash = hrefWith(queue, state, Object.keys(next).length ? next : null);
  });
  const searchInfo = h('p', {class: 'search-info', hidden: !search});
  const scannedEl = h('span', {'data-testid': 'search-scanned'});
  const furtherButton = h('button', {type: 'button', 'data-testid': 'search-further'}, 'Search further');
  furtherButton.addEventListener('click', () => {
    searchedFurther = true;
    load({further: true});
  });
  searchInfo.append(scannedEl, ' ', furtherButton);

  // ----- sort, page size, paging
  const sortButton = h('button', {type: 'button', 'data-testid': 'sort-toggle'});
  const newestFirst = () => prefs.newestFirst[state] ?? newestFirstByDefault(state);
  const drawSort = () => {
    replace(sortButton, newestFirst() ? 'Newest first' : 'Oldest first');
    sortButton.dataset.order = newestFirst() ? 'newest' : 'oldest';
    sortButton.title = 'Change the order';
  };
  sortButton.addEventListener('click', () => {
    prefs.newestFirst[state] = !newestFirst();
    drawSort();
    firstPage();
  });
  const sizeSelect = h('select', {'data-testid': 'page-size', 'aria-label': 'Jobs per page'},
    PAGE_SIZES.map((n) => h('option', {value: String(n), selected: n === prefs.limit}, `${n} per page`)));
  sizeSelect.addEventListener('change', () => {
    prefs.limit = Number(sizeSelect.value);
    firstPage();
  });
  const prevButton = h('button', {type: 'button', 'data-testid': 'page-prev'}, '← Previous');
  const nextButton = h('button', {type: 'button', 'data-testid': 'page-next'}, 'Next →');
  const pageInfo = h('span', {class: 'muted', 'data-testid': 'page-info'});
  prevButton.addEventListener('click', () => {
    if (!previous.length) return;
    cursor = previous.pop();
    load();
  });
  nextButton.addEventListener('click', () => {
    if (nextCursor === null || nextCursor === undefined) return;
    previous.push(cursor);
    cursor = nextCursor;
    load();
  });
  function firstPage() {
    cursor = null;
    previous.length = 0;
    searchedFurther = false;
    load();
  }

  // ----- table
  const selectAll = h('input', {type: 'checkbox', 'data-testid': 'select-all', 'aria-label': 'Select all jobs on this page'});
  selectAll.addEventListener('change', () => {
    selected = selectAll.checked ? new Set(jobs.map((j) => j.id)) : new Set();
    drawRows();
  });
  const showDue = state === 'delayed' || state === 'retrying';
  const showFinished = state === 'completed' || state === 'dead';
  const tbody = h('tbody');
  const columns = 7 + (admin ? 1 : 0) + (showDue ? 1 : 0) + (showFinished ? 1 : 0);
  const table = h('table', {class: 'data jobs', 'data-testid': 'jobs-table'},
    h('thead', null, h('tr', null,
      admin ? h('th', {class: 'check'}, selectAll) : null,
      h('th', {scope: 'col'}, 'ID'), h('th', {scope: 'col'}, 'Type'),
      h('th', {scope: 'col', class: 'num'}, 'Priority'),
      h('th', {scope: 'col'}, 'Created'), h('th', {scope: 'col'}, 'Started'),
      showFinished ? h('th', {scope: 'col'}, 'Finished') : null,
      showDue ? h('th', {scope: 'col'}, 'Due') : null,
      h('th', {scope: 'col', class: 'num'}, 'Attempts'), h('th', {scope: 'col'}, 'Latest error'))),
    tbody);

  function jobRow(job) {
    const box = admin ? h('input', {type: 'checkbox', checked: selected.has(job.id),
      'data-testid': `select-${job.id}`, 'aria-label': `Select job ${job.id}`}) : null;
    if (box) {
      box.addEventListener('change', () => {
        if (box.checked) selected.add(job.id);
        else selected.delete(job.id);
        drawSelection();
      });
    }
    return h('tr', {'data-testid': `job-row-${job.id}`, class: selected.has(job.id) ? 'selected' : null},
      admin ? h('td', {class: 'check'}, box) : null,
      h('td', {class: 'id'}, h('a', {href: jobHref(job.queue || queue, job.id), 'data-testid': `job-link-${job.id}`}, job.id)),
      h('td', null, job.type),
      h('td', {class: 'num'}, String(job.priority ?? '')),
      h('td', null, timeEl(job.created_ms)),
      h('td', null, timeEl(job.started_ms)),
      showFinished ? h('td', null, timeEl(job.finished_ms)) : null,
      showDue ? h('td', null, timeEl(job.due_ms)) : null,
      h('td', {class: 'num'}, `${job.attempts}/${job.max_attempts}`),
      h('td', {class: 'error-snippet', title: job.error || null, 'data-testid': job.error ? `job-error-${job.id}` : null},
        snippet(job.error)));
  }

  function drawRows() {
    replace(tbody, jobs.length ? jobs.map(jobRow)
      : h('tr', null, h('td', {colspan: columns, class: 'muted empty', 'data-testid': 'no-jobs'},
        search ? 'No matching jobs in this part of the queue.' : `No ${state} jobs.`)));
    drawSelection();
  }

  function drawPaging() {
    prevButton.disabled = previous.length === 0;
    nextButton.disabled = nextCursor === null || nextCursor === undefined;
    prevButton.hidden = nextButton.hidden = !!search;
    const page = previous.length + 1;
    replace(pageInfo, search ? `${jobs.length} matching` : `page ${page}`);
    if (search) {
      replace(scannedEl, scanned === null ? 'This server does not search: the list is not filtered.'
        : `Scanned ${formatCount(scanned)} jobs${nextCursor == null ? ' (all of them)' : ''}.`);
      furtherButton.hidden = scanned === null || nextCursor === null || nextCursor === undefined;
    }
  }

  // ----- loading
  async function load({further = false} = {}) {
    const seq = ++requestSeq;
    const query = {
      state, limit: prefs.limit, cursor: further ? nextCursor : cursor,
      reverse: newestFirst() === newestFirstByDefault(state) ? 'false' : 'true', ...(search || {}),
    };
    try {
      const page = await api.get(`${path}/jobs`, query);
      if (seq !== requestSeq) return;
      jobs = further ? jobs.concat(page.jobs || []) : (page.jobs || []);
      // A server without search answers no `scanned` (and ignores the filters).
      scanned = typeof page.scanned === 'number' ? (further ? scanned || 0 : 0) + page.scanned : null;
      nextCursor = page.next_cursor;
      const present = new Set(jobs.map((j) => j.id));
      selected = new Set([...selected].filter((id) => present.has(id)));
      drawRows();
      drawPaging();
    } catch (e) {
      if (seq !== requestSeq) return;
      if (e instanceof ApiError && e.status === 404 && e.field === 'queue') {
        replace(main, h('section', {class: 'view', 'data-testid': 'not-found'}, h('h1', null, queue),
          h('p', {class: 'error'}, errorText(e)), h('p', null, h('a', {href: '#/'}, 'Back to the queues'))));
        return;
      }
      replace(tbody, h('tr', null, h('td', {colspan: columns, class: 'error'}, `Cannot load jobs: ${errorText(e)}`)));
    }
  }
  const refresh = coalesce(() => {
    if (!searchedFurther) load();
  }, 300);

  // ----- actions (admin)
  const selectedCount = h('span', {class: 'muted', 'data-testid': 'selected-count'});
  const bulkButtons = ACTIONS.filter((a) => a.states.includes(state)).map((a) => {
    const button = h('button', {type: 'button', class: a.destructive ? 'danger' : null, 'data-testid': `bulk-${a.action}`}, a.label);
    button.addEventListener('click', () => bulk(a));
    return button;
  });

  function drawSelection() {
    const n = selected.size;
    replace(selectedCount, n ? `${n} selected` : 'none selected');
    for (const b of bulkButtons) b.disabled = n === 0;
    selectAll.checked = n > 0 && n === jobs.length;
    selectAll.indeterminate = n > 0 && n < jobs.length;
    for (const row of tbody.rows) {
      const id = row.dataset.testid?.slice('job-row-'.length);
      row.classList.toggle('selected', selected.has(id));
    }
  }

  async function bulk(a) {
    const ids = [...selected];
    if (!ids.length) return;
    if (a.destructive && !await confirmAction({
      title: `${a.label} ${ids.length} job${ids.length > 1 ? 's' : ''}?`,
      text: a.action === 'cancel'
        ? 'Waiting, delayed and retrying jobs are removed; active jobs are stopped and become dead; '
          + 'held flow parents become dead, cancelled, with every unfinished job below them.'
        : 'The jobs and everything kept about them are deleted.',
      ok: a.label,
    })) return;
    try {
      const answer = await api.post(`${path}/jobs/actions`, {action: a.action, ids});
      const done = answer.done || [];
      const failed = answer.failed || [];
      let text = `${a.label}: ${done.length} done`;
      if (failed.length) {
        text += `, ${failed.length} failed (` +
          failed.slice(0, 5).map((f) => `${f.id}: ${f.message || f.code}`).join('; ') +
          (failed.length > 5 ? '; …' : '') + ')';
      }
      say(text, failed.length ? 'error' : 'ok');
      selected = new Set(failed.map((f) => f.id));
      load();
    } catch (e) {
      say(errorText(e), 'error');
    }
  }

  const retryAllButton = h('button', {type: 'button', class: 'danger', 'data-testid': 'retry-all-dead'}, 'Retry all dead');
  retryAllButton.addEventListener('click', async () => {
    const count = info?.counts?.dead;
    if (!await confirmAction({
      title: `Retry all${count ? ` ${formatCount(count)}` : ''} dead jobs of ${queue}?`,
      text: 'They go back to waiting with their attempts reset.', ok: 'Retry all',
    })) return;
    retryAllButton.disabled = true;
    let total = 0;
    try {
      for (;;) {
        const answer = await api.post(`${path}/dead/retry`, {});
        total += answer.retried;
        say(`Retried ${formatCount(total)} dead jobs…`);
        if (answer.retried !== MAX_IDS_PER_RETRY) break;
      }
      say(`Retried ${formatCount(total)} dead jobs.`);
    } catch (e) {
      say(`Retried ${formatCount(total)} dead jobs, then: ${errorText(e)}`, 'error');
    } finally {
      retryAllButton.disabled = false;
      load();
    }
  });

  const retryMatchingButton = h('button', {type: 'button', class: 'danger', 'data-testid': 'retry-matching'}, 'Retry all matching');
  retryMatchingButton.addEventListener('click', async () => {
    if (!await confirmAction({
      title: `Retry every dead job of ${queue} that matches the search?`,
      text: 'The whole dead list is searched; every match goes back to waiting with its attempts reset.',
      ok: 'Retry matching',
    })) return;
    retryMatchingButton.disabled = true;
    const ids = [];
    let total = 0;
    try {
      let next = null;
      let seen = 0;
      do {
        const page = await api.get(`${path}/jobs`, {state: 'dead', limit: 1000, cursor: next, ...search});
        if (typeof page.scanned !== 'number') throw new Error('this server does not search, so nothing was retried');
        for (const job of page.jobs || []) ids.push(job.id);
        seen += page.scanned || 0;
        say(`Searching: ${formatCount(ids.length)} matching of ${formatCount(seen)} scanned…`);
        next = page.next_cursor;
      } while (next !== null && next !== undefined);
      for (let i = 0; i < ids.length; i += MAX_IDS_PER_RETRY) {
        const answer = await api.post(`${path}/dead/retry`, {ids: ids.slice(i, i + MAX_IDS_PER_RETRY)});
        total += answer.retried;
      }
      say(`Retried ${formatCount(total)} of ${formatCount(ids.length)} matching dead jobs.`);
    } catch (e) {
      say(`Retried ${formatCount(total)} jobs, then: ${errorText(e)}`, 'error');
    } finally {
      retryMatchingButton.disabled = false;
      load();
    }
  });

  const cleanAmount = h('input', {type: 'number', min: '0', step: 'any', value: '1', required: true,
    'data-testid': 'clean-amount', 'aria-label': 'Age', class: 'short'});
  const cleanUnit = h('select', {'data-testid': 'clean-unit', 'aria-label': 'Unit'},
    Object.keys(UNIT_MS).map((u) => h('option', {value: u, selected: u === 'days'}, u)));
  const cleanForm = h('form', {class: 'inline-form', 'data-testid': 'clean-form'},
    h('span', null, `Clean ${state} jobs finished more than`), cleanAmount, cleanUnit, h('span', null, 'ago'),
    h('button', {type: 'submit', class: 'danger', 'data-testid': 'clean-submit'}, 'Clean'));
  cleanForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const amount = Number(cleanAmount.value);
    if (!Number.isFinite(amount) || amount < 0) {
      say('The age must be a number ≥ 0.', 'error');
      return;
    }
    const olderThan = Math.round(amount * UNIT_MS[cleanUnit.value]);
    if (!await confirmAction({
      title: `Delete ${state} jobs of ${queue}?`,
      text: `Every ${state} job that finished more than ${amount} ${cleanUnit.value} ago is deleted for good.`,
      ok: 'Clean',
    })) return;
    let total = 0;
    try {
      for (;;) {
        const answer = await api.del(`${path}/jobs`, {state, older_than_ms: olderThan, limit: CLEAN_LIMIT});
        total += answer.removed;
        if (answer.removed !== CLEAN_LIMIT) break;
      }
      say(`Removed ${formatCount(total)} ${state} jobs.`);
    } catch (e) {
      say(`Removed ${formatCount(total)} jobs, then: ${errorText(e)}`, 'error');
    }
    firstPage();
  });

  const actionBar = admin ? h('div', {class: 'toolbar actions'},
    bulkButtons.length ? h('div', {class: 'group'}, selectedCount, bulkButtons) : null,
    state === 'dead' ? h('div', {class: 'group'}, retryAllButton, search ? retryMatchingButton : null) : null,
    state === 'completed' || state === 'dead' ? cleanForm : null) : null;

  // ----- chart: read and drawn from the first time it is opened
  let chart = null;
  const chartPanel = h('details', {class: 'panel queue-chart'},
    h('summary', {'data-testid': 'queue-chart-toggle'}, 'Jobs per minute'));
  chartPanel.addEventListener('toggle', () => {
    if (!chartPanel.open || chart) return;
    chart = historyChart({
      path: `${path}/history`,
      liveRate: (payload) => (payload.queues || []).find((x) => x.name === queue)?.per_minute || null,
    });
    chartPanel.append(chart.el);
  });

  // ----- shards: each shard's counts, read with the queue's counts, only when it has several
  const shards = shardsPanel(queue);
  // The queue as the server has it now (GET, a live snapshot): its counts, and so its shards.
  function showInfo(next) {
    info = next;
    drawInfo();
    shards.update(info.shards);
  }

  // ----- main layout
  const section = h('section', {class: 'view', 'data-testid': 'queue-view'},
    h('div', {class: 'view-head'},
      h('h1', {'data-testid': 'queue-title'}, h('a', {href: '#/', class: 'crumb'}, 'Queues'), ' / ', queue),
      pausedBadge, overrunBadge, processBadge, h('span', {class: 'spacer'}),
      admin ? pauseButton : null),
    tabs,
    chartPanel,
    h('details', {class: 'panel search', open: !!search}, h('summary', null, search ? 'Search (active)' : 'Search'),
      searchForm),
    limitsPanel(queue),
    shards.el,
    admin ? addJobPanel(queue) : null,
    actionBar,
    result,
    h('div', {class: 'toolbar paging'}, sortButton, sizeSelect, h('span', {class: 'spacer'}), prevButton, pageInfo, nextButton),
    searchInfo,
    h('div', {class: 'table-wrap'}, table));
  main.append(section);

  drawSort();
  drawSelection();
  // The latest live snapshot draws at once, but it can be seconds old (a pause or resume sends
  // no job event, so none comes sooner): the queue is asked anew as well.
  const snapshot = (latestQueues()?.queues || []).find((x) => x.name === queue);
  if (snapshot) showInfo(snapshot);
  let streamed = false;  // a queues event came after the request went out: it is newer
  api.get(path).then((answer) => {
    if (streamed) return;
    showInfo(answer);
  }).catch(() => {});
  load();

  const offQueues = on('queues', (payload) => {
    const found = (payload.queues || []).find((x) => x.name === queue);
    if (found) {
      streamed = true;
      showInfo(found);
    }
  });
  const offJob = on('job', (event) => {
    if (event.queue === queue) refresh();
  });
  return () => {
    offQueues();
    offJob();
    refresh.cancel();
    shards.stop();
    if (chart) chart.unmount();
    requestSeq++;
  };
}

// "Add job": a form posting to B/api/jobs with this queue; the API's error names the field.
function addJobPanel(queue) {
  const inputs = {
    type: h('input', {name: 'type', required: true, 'data-testid': 'add-job-type', placeholder: 'email', autocomplete: 'off'}),
    data: h('textarea', {name: 'data', rows: '5', 'data-testid': 'add-job-data', spellcheck: 'false'}),
    priority: h('input', {name: 'priority', type: 'number', step: '1', 'data-testid': 'add-job-priority', placeholder: '0'}),
    delay_ms: h('input', {name: 'delay_ms', type: 'number', min: '0', step: '1', 'data-testid': 'add-job-delay', placeholder: '0'}),
    max_attempts: h('input', {name: 'max_attempts', type: 'number', min: '1', step: '1', 'data-testid': 'add-job-max-attempts', placeholder: '3'}),
    job_id: h('input', {name: 'job_id', 'data-testid': 'add-job-id', placeholder: 'generated', autocomplete: 'off'}),
  };
  inputs.data.value = '{}';
  const out = h('p', {class: 'message', 'data-testid': 'add-job-result', role: 'status', hidden: true});
  const form = h('form', {class: 'add-job', 'data-testid': 'add-job-form', novalidate: true},
    h('div', {class: 'grid'},
      field('Type', inputs.type), field('Job id (optional)', inputs.job_id),
      field('Priority', inputs.priority), field('Delay (ms)', inputs.delay_ms),
      field('Max attempts', inputs.max_attempts)),
    field('Data (JSON object)', inputs.data),
    h('div', {class: 'buttons'}, h('button', {type: 'submit', class: 'primary', 'data-testid': 'add-job-submit'}, 'Add job')),
    out);

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const type = inputs.type.value.trim();
    if (!type) return message(out, 'type: required', 'error');
    let data;
    try {
      data = JSON.parse(inputs.data.value.trim() || '{}');
    } catch (e) {
      return message(out, `data: not valid JSON (${e.message})`, 'error');
    }
    if (data === null || typeof data !== 'object' || Array.isArray(data)) {
      return message(out, 'data: must be a JSON object, e.g. {"to": "user@example.com"}', 'error');
    }
    const body = {type, queue, data};
    for (const name of ['priority', 'delay_ms', 'max_attempts']) {
      const raw = inputs[name].value.trim();
      if (raw === '') continue;
      const value = Number(raw);
      if (!Number.isFinite(value)) return message(out, `${name}: must be a number`, 'error');
      body[name] = value;
    }
    if (inputs.job_id.value.trim()) body.job_id = inputs.job_id.value.trim();
    try {
      const answer = await api.post('/jobs', body);
      const link = h('a', {href: jobHref(answer.queue, answer.id)}, answer.id);
      message(out, answer.created === false
        ? ['Not added: job ', link, answer.unique_hit ? ' holds its unique key' : ' already exists', ` (${answer.state}).`]
        : ['Added job ', link, ` (${answer.state}).`], answer.created === false ? 'error' : 'ok');
    } catch (e) {
      message(out, errorText(e), 'error');
    }
  });
  return h('details', {class: 'panel add-job-panel'},
    h('summary', {'data-testid': 'add-job-toggle'}, 'Add job'), form);
}
