// A line chart of processed and failed jobs per minute over a window ending now, drawn as SVG.
import {s, h, formatRate} from './dom.js';

const MIN_WIDTH = 300;
const HEIGHT = 200;
const PAD = {left: 48, right: 14, top: 12, bottom: 26};
const MINUTE_MS = 60000;
// Time labels every this many minutes, by window length (a phone gets half as many).
const TICK_MINUTES = [[10, 2], [60, 10], [360, 60], [1440, 240]];
const SERIES = [
  {key: 'processed', label: 'processed/min'},
  {key: 'failed', label: 'failed/min'},
];

// The smallest of 1, 2, 2.5, 5 × 10^k that is >= value.
function niceCeil(value) {
  if (value <= 1) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) {
    if (step * power >= value) return step * power;
  }
  return 10 * power;
}

// Runs of consecutive samples with a value, each a polyline of its own. A run also ends where
// two samples are more than maxGapMs apart (nothing was recorded between them).
function segments(samples, key, x, y, maxGapMs) {
  const runs = [];
  let run = [];
  let lastT = null;
  for (const sample of samples) {
    const gap = lastT !== null && sample.t - lastT > maxGapMs;
    if (run.length && (gap || typeof sample[key] !== 'number')) {
      runs.push(run);
      run = [];
    }
    if (typeof sample[key] === 'number') run.push(`${x(sample.t).toFixed(1)},${y(sample[key]).toFixed(1)}`);
    lastT = sample.t;
  }
  if (run.length) runs.push(run);
  return runs;
}

function tickMinutes(windowMinutes, narrow) {
  const found = TICK_MINUTES.find(([span]) => windowMinutes <= span) || TICK_MINUTES[TICK_MINUTES.length - 1];
  return found[1] * (narrow ? 2 : 1);
}

function ago(minutes) {
  if (!minutes) return 'now';
  return minutes < 60 || minutes % 60 ? `-${minutes} min` : `-${minutes / 60} h`;
}

function tickLabel(value) {
  return String(Math.round(value * 100) / 100);
}

// samples: [{t, processed, failed}] oldest first, in jobs per minute; width: the pixels
// available, so that one unit of the drawing is one pixel and the labels keep their size on any
// screen. windowMs: how far back the chart reaches; maxGapMs: samples further apart than this
// are not joined by a line.
export function rateChart(samples, width, {now = Date.now(), windowMs = 10 * MINUTE_MS, maxGapMs = Infinity} = {}) {
  const WIDTH = Math.max(MIN_WIDTH, Math.round(width) || 640);
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const start = now - windowMs;
  const windowMinutes = Math.round(windowMs / MINUTE_MS);
  const span = windowMinutes < 60 || windowMinutes % 60 ? `${windowMinutes} minutes` : `${windowMinutes / 60} h`;
  const visible = samples.filter((p) => p.t >= start);
  let max = 0;
  for (const p of visible) max = Math.max(max, p.processed || 0, p.failed || 0);
  const top = niceCeil(max);
  const x = (t) => PAD.left + ((t - start) / windowMs) * plotW;
  const y = (v) => PAD.top + plotH - (v / top) * plotH;

  const grid = [];
  // 1, 2.5, 5 × 10^k split into fifths, 2 × 10^k into quarters: every label is a round number.
  const intervals = top / 10 ** Math.floor(Math.log10(top)) === 2 ? 4 : 5;
  for (let i = 0; i <= intervals; i++) {
    const value = (top * i) / intervals;
    grid.push(s('line', {class: 'grid', x1: PAD.left, x2: WIDTH - PAD.right, y1: y(value), y2: y(value)}));
    grid.push(s('text', {class: 'tick', x: PAD.left - 6, y: y(value) + 4, 'text-anchor': 'end'},
      tickLabel(value)));
  }
  const step = tickMinutes(windowMinutes, WIDTH < 480);
  for (let minutes = windowMinutes - (windowMinutes % step); minutes >= 0; minutes -= step) {
    const t = now - minutes * MINUTE_MS;
    grid.push(s('text', {class: 'tick', x: x(t), y: HEIGHT - 8, 'text-anchor': 'middle'}, ago(minutes)));
  }

  const lines = [];
  for (const series of SERIES) {
    for (const run of segments(visible, series.key, x, y, maxGapMs)) {
      if (run.length === 1) {
        const [cx, cy] = run[0].split(',');
        lines.push(s('circle', {class: `dot dot-${series.key}`, cx, cy, r: 2.5}));
      } else {
        lines.push(s('polyline', {class: `line line-${series.key}`, points: run.join(' ')}));
      }
    }
  }

  const last = visible.length ? visible[visible.length - 1] : null;
  const summary = last
    ? SERIES.map((sr) => `${formatRate(last[sr.key])} ${sr.label}`).join(', ')
    : 'no samples yet';
  const svg = s('svg', {
    class: 'chart', viewBox: `0 0 ${WIDTH} ${HEIGHT}`, width: WIDTH, height: HEIGHT, role: 'img',
    'aria-label': `Jobs per minute over the last ${span}: ${summary}`,
    'data-testid': 'throughput-svg', 'data-points': visible.length,
  },
  s('title', null, `Jobs per minute, last ${span}: ${summary}`),
  s('line', {class: 'axis', x1: PAD.left, x2: PAD.left, y1: PAD.top, y2: PAD.top + plotH}),
  s('line', {class: 'axis', x1: PAD.left, x2: WIDTH - PAD.right, y1: PAD.top + plotH, y2: PAD.top + plotH}),
  grid, lines);

  const legend = h('ul', {class: 'legend'}, SERIES.map((sr) =>
    h('li', {'data-testid': `chart-${sr.key}`},
      h('span', {class: `swatch swatch-${sr.key}`}), `${sr.label}: `,
      h('strong', null, last ? formatRate(last[sr.key]) : '–'))));
  return [svg, legend];
}
