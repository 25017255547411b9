// DOM building and formatting. Everything that reaches the page from data goes through h(),
// which turns strings into text nodes: no markup is ever parsed from a string.

const SVG_NS = 'http://www.w3.org/2000/svg';

function applyAttrs(el, attrs) {
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      el.addEventListener(name.slice(2).toLowerCase(), value);
    } else if (name === 'class') {
      el.setAttribute('class', Array.isArray(value) ? value.filter(Boolean).join(' ') : value);
    } else if (name === 'checked' || name === 'value' || name === 'selected' || name === 'indeterminate') {
      el[name] = value;
    } else {
      el.setAttribute(name, value === true ? '' : String(value));
    }
  }
}

function appendChildren(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) appendChildren(el, child);
    else if (child instanceof Node) el.append(child);
    else el.append(document.createTextNode(String(child)));
  }
}

// h('a', {href: '#/', 'data-testid': 'x', onClick: fn}, 'text', otherNode, [more]).
// Attributes set to null, undefined or false are left out; true sets an empty attribute.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  applyAttrs(el, attrs);
  appendChildren(el, children);
  return el;
}

// The same for SVG elements (the chart).
export function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  applyAttrs(el, attrs);
  appendChildren(el, children);
  return el;
}

export function replace(el, ...children) {
  el.replaceChildren();
  appendChildren(el, children);
  return el;
}

export const STATES = ['waiting', 'delayed', 'active', 'completed', 'retrying', 'dead', 'held'];

export function badge(text, kind, testid) {
  return h('span', {class: ['badge', kind && `badge-${kind}`], 'data-testid': testid}, text);
}

export function stateBadge(state, testid) {
  return h('span', {class: ['badge', 'state', `state-${state}`], 'data-testid': testid}, state);
}

// "850 ms", "42 s", "5 min 3 s", "2 h 5 min", "3 d 4 h".
export function formatDuration(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '–';
  ms = Math.max(0, Math.round(ms));
  if (ms < 1000) return `${ms} ms`;
  let sec = Math.floor(ms / 1000);
  if (sec < 60) return `${sec} s`;
  let min = Math.floor(sec / 60);
  sec %= 60;
  if (min < 60) return sec ? `${min} min ${sec} s` : `${min} min`;
  let hours = Math.floor(min / 60);
  min %= 60;
  if (hours < 24) return min ? `${hours} h ${min} min` : `${hours} h`;
  const days = Math.floor(hours / 24);
  hours %= 24;
  return hours ? `${days} d ${hours} h` : `${days} d`;
}

export function formatRelative(ms, now = Date.now()) {
  if (ms === null || ms === undefined) return '–';
  const delta = ms - now;
  if (Math.abs(delta) < 1000) return 'now';
  return delta < 0 ? `${formatDuration(-delta)} ago` : `in ${formatDuration(delta)}`;
}

function pad(n, width = 2) {
  return String(n).padStart(width, '0');
}

// Local time, "2026-11-28 07:14:24.760".
export function formatTime(ms) {
  if (ms === null || ms === undefined) return '–';
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

// A relative time with the absolute one as its tooltip.
export function timeEl(ms, testid) {
  if (ms === null || ms === undefined) return h('span', {class: 'muted', 'data-testid': testid}, '–');
  return h('time', {datetime: new Date(ms).toISOString(), title: formatTime(ms), 'data-ms': ms, 'data-testid': testid},
    formatRelative(ms));
}

// Brings every relative time on the page up to date (called on a timer).
export function refreshTimes(root = document) {
  const now = Date.now();
  for (const el of root.querySelectorAll('time[data-ms]')) {
    el.textContent = formatRelative(Number(el.dataset.ms), now);
  }
}

export function formatRate(value) {
  if (value === null || value === undefined) return '–';
  return value >= 100 ? value.toFixed(0) : value.toFixed(1);
}

export function formatCount(n) {
  return n === null || n === undefined ? '–' : n.toLocaleString('en-US');
}

export function prettyJson(value) {
  return value === undefined ? '' : JSON.stringify(value, null, 2);
}

// First line of a message, cut to `max` characters.
export function snippet(text, max = 80) {
  if (!text) return '';
  const line = String(text).split('\n', 1)[0];
  return line.length > max ? line.slice(0, max - 1) + '…' : line;
}

export function jobHref(queue, id) {
  return `#/jobs/${encodeURIComponent(queue)}/${encodeURIComponent(id)}`;
}

// A flow's id is "<queue>:<flow key>" (docs/workflows.md).
export function flowHref(flowId) {
  return `#/flows/${encodeURIComponent(flowId)}`;
}

// A batch's id is "<queue>:<batch key>" (docs/workflows.md, "Batches").
export function batchHref(batchId) {
  return `#/batches/${encodeURIComponent(batchId)}`;
}

export function queueHref(queue, state) {
  return `#/queues/${encodeURIComponent(queue)}` + (state ? `?state=${state}` : '');
}

// Runs fn once, `ms` after the first of a burst of calls. Unlike a debounce it also runs under
// a steady stream of calls (live events can arrive faster than every `ms`).
export function coalesce(fn, ms) {
  let timer = null;
  const wrapped = () => {
    if (timer === null) timer = setTimeout(() => { timer = null; fn(); }, ms);
  };
  wrapped.cancel = () => {
    clearTimeout(timer);
    timer = null;
  };
  return wrapped;
}

// A message line for the result of an action: kind 'ok' or 'error'.
export function message(el, text, kind = 'ok') {
  el.hidden = !text;
  el.className = `message message-${kind}`;
  replace(el, text || '');
}

export function errorText(err) {
  // Every invalid field the API listed, not only the first.
  if (err && Array.isArray(err.errors) && err.errors.length > 1) {
    return err.errors.map((e) => `${e.field}: ${e.detail}`).join('; ');
  }
  if (err && err.field) return `${err.field}: ${err.message}`;
  return err && err.message ? err.message : String(err);
}

let flashTimer = null;

// A page-wide notice under the header (e.g. "no job with id …"); hides itself after a while.
export function flash(text, kind = 'error') {
  const el = document.getElementById('flash');
  if (!el) return;
  clearTimeout(flashTimer);
  el.className = `flash flash-${kind}`;
  el.hidden = !text;
  replace(el, text || '');
  if (text) flashTimer = setTimeout(() => { el.hidden = true; }, 8000);
}
