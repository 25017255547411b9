// Jobs per minute from the history the workers record in Redis (GET B/api/history, or
// B/api/queues/{q}/history for one queue; docs/http-api.md), so a chart shows the past as soon as
// a page opens, after a reload too. A range selector picks the last 1 h, 6 h or 24 h. Between
// recorded minutes the live queues events carry the chart forward: their per-minute rates are
// drawn after the last recorded minute, and the history is read again as minutes complete.
import {api} from './api.js';
import {h, replace, coalesce, errorText} from './dom.js';
import {on} from './live.js';
import {rateChart} from './chart.js';

const RANGES = [{minutes: 60, label: '1 h'}, {minutes: 360, label: '6 h'}, {minutes: 1440, label: '24 h'}];
// The history gains a row a minute: read it again at most this often, when queues events come.
const REFETCH_MS = 30000;
const MINUTE_MS = 60000;
// Live samples come at least every 5 s while the stream is up: closer ones are one line.
const LIVE_GAP_MS = 10000;

// Kept across views and mounts: the range last chosen.
const prefs = {minutes: 60};

// The shortest step between recorded rows: the recorder's bucket, a minute unless the workers
// run with a shorter --history-bucket-ms.
function stepOf(rows) {
  let step = Infinity;
  for (let i = 1; i < rows.length; i++) step = Math.min(step, rows[i].t - rows[i - 1].t);
  return Number.isFinite(step) && step > 0 ? step : MINUTE_MS;
}

// {t, processed, failed} in jobs per minute for each recorded row (its counts scaled from the
// bucket's length), then the live samples newer than the last row. A row's counts are those
// between the sample before it and its own, taken at `t`: the history covers the time up to the
// last row's `t`, and the live samples carry the chart on from there.
function chartSamples(rows, step, live) {
  const perMinute = (n) => (typeof n === 'number' ? (n * MINUTE_MS) / step : null);
  const recorded = rows.map((r) => ({t: r.t, processed: perMinute(r.processed), failed: perMinute(r.failed)}));
  const end = recorded.length ? recorded[recorded.length - 1].t : -Infinity;
  return recorded.concat(live.filter((p) => p.t > end));
}

// path: the history route ('/history' or '/queues/{q}/history'); liveRate(queuesPayload): the
// {processed, failed} per minute the chart follows, or null. Returns {el, unmount}.
export function historyChart({path, liveRate}) {
  const chart = h('div', {class: 'chart-box', 'data-testid': 'throughput-chart'});
  const status = h('p', {class: 'muted small chart-status', 'data-testid': 'chart-status'});
  const buttons = RANGES.map((range) => {
    const b = h('button', {type: 'button', class: 'range', 'data-testid': `chart-range-${range.minutes}`,
      'data-minutes': range.minutes}, range.label);
    b.addEventListener('click', () => {
      prefs.minutes = range.minutes;
      drawRange();
      load();
    });
    return b;
  });
  const selector = h('div', {class: 'range-selector', role: 'group', 'aria-label': 'Time range'}, buttons);

  let minutes = [];   // the history's rows, oldest first
  let loaded = false;
  let live = [];      // {t, processed, failed} from queues events
  let lastFetch = 0;
  let requestSeq = 0;

  function drawRange() {
    for (const b of buttons) {
      const current = Number(b.dataset.minutes) === prefs.minutes;
      b.classList.toggle('current', current);
      b.setAttribute('aria-pressed', String(current));
    }
  }

  function draw() {
    const windowMs = prefs.minutes * MINUTE_MS;
    const now = Date.now();
    const step = stepOf(minutes);
    const samples = chartSamples(minutes, step, live).filter((p) => p.t >= now - windowMs);
    // What of the history is drawn, for tests and curious readers: rows, and jobs processed.
    const recorded = minutes.filter((r) => r.t >= now - windowMs);
    chart.dataset.recorded = recorded.length;
    chart.dataset.recordedProcessed = recorded.reduce((sum, r) => sum + (r.processed || 0), 0);
    if (!samples.some((p) => p.processed !== null || p.failed !== null)) {
      replace(chart, h('p', {class: 'muted chart-empty'}, loaded
        ? 'Nothing recorded in this range yet: the workers record the jobs of each minute.'
        : 'Loading…'));
      return;
    }
    replace(chart, rateChart(samples, chart.clientWidth, {now, windowMs, maxGapMs: Math.max(1.5 * step, LIVE_GAP_MS)}));
  }

  async function load() {
    const seq = ++requestSeq;
    lastFetch = Date.now();
    try {
      const answer = await api.get(path, {minutes: prefs.minutes});
      if (seq !== requestSeq) return;
      minutes = Array.isArray(answer?.minutes) ? [...answer.minutes].sort((a, b) => a.t - b.t) : [];
      loaded = true;
      replace(status, '');
    } catch (e) {
      if (seq !== requestSeq) return;
      loaded = true;
      replace(status, `Cannot load the history: ${errorText(e)}`);
    }
    draw();
  }

  const redraw = coalesce(draw, 150);
  window.addEventListener('resize', redraw);
  const off = on('queues', (payload) => {
    const rate = liveRate(payload);
    if (rate && (rate.processed !== null || rate.failed !== null)) {
      const now = Date.now();
      live.push({t: now, processed: rate.processed, failed: rate.failed});
      live = live.filter((p) => p.t >= now - 10 * MINUTE_MS);
    }
    if (Date.now() - lastFetch >= REFETCH_MS) load();
    else redraw();
  });
  drawRange();
  draw();
  load();

  const el = h('div', {class: 'history-chart'}, selector, chart, status);
  return {
    el,
    unmount() {
      off();
      redraw.cancel();
      window.removeEventListener('resize', redraw);
      requestSeq++;
    },
  };
}
