// A queue's limits on its page (GET and PUT B/api/queues/{q}/limits, docs/limits.md): a line
// saying what they are, and for an admin a form to change them. Saving replaces all of them, as
// the API does: an empty field is no such limit.
import {api, seg, isAdmin} from '../api.js';
import {h, replace, message, formatCount} from '../dom.js';
import {field, numberInput, readNumber, showValue, clearErrors, showError} from '../form.js';

function describeRate(rate) {
  return `${formatCount(rate.max)} per ${formatCount(rate.window_ms)} ms`;
}

// "concurrency 10, rate 100 per 1,000 ms, max length 500", or "none".
export function describeLimits(limits) {
  const parts = [];
  if (limits.concurrency) parts.push(`concurrency ${formatCount(limits.concurrency)}`);
  if (limits.rate) parts.push(`rate ${describeRate(limits.rate)}`);
  const group = limits.group || {};
  const perGroup = [];
  if (group.concurrency) perGroup.push(`concurrency ${formatCount(group.concurrency)}`);
  if (group.rate) perGroup.push(`rate ${describeRate(group.rate)}`);
  if (perGroup.length || group.field) {
    parts.push(`per group${group.field ? ` (data field ${group.field})` : ''}` +
      (perGroup.length ? `: ${perGroup.join(', ')}` : ''));
  }
  if (limits.priority_aging_ms) parts.push(`priority aging ${formatCount(limits.priority_aging_ms)} ms`);
  if (limits.max_length) parts.push(`max length ${formatCount(limits.max_length)}`);
  return parts.length ? parts.join(', ') : 'none';
}

function rateFrom(maxInput, windowInput) {
  const max = readNumber(maxInput);
  const windowMs = readNumber(windowInput);
  if (max === null && windowMs === null) return null;
  const rate = {};
  if (max !== null) rate.max = max;
  if (windowMs !== null) rate.window_ms = windowMs;
  return rate;
}

// Reads the limits into `summary`, then hands them to fillForm (the admin's form).
async function loadLimits(path, summary, fillForm) {
  try {
    const limits = await api.get(path);
    replace(summary, describeLimits(limits));
    fillForm(limits);
  } catch (e) {
    replace(summary, `cannot be read (${e.message})`);
  }
}

export function limitsPanel(queue) {
  const path = `/queues/${seg(queue)}/limits`;
  const summary = h('span', {class: 'summary-note', 'data-testid': 'limits-summary'}, '…');
  if (!isAdmin()) {
    loadLimits(path, summary, () => {});
    return h('p', {class: 'limits-line muted'}, 'Limits: ', summary);
  }

  const inputs = {
    concurrency: numberInput('concurrency', 'limits-concurrency', 'none'),
    rateMax: numberInput('rate.max', 'limits-rate-max', 'none'),
    rateWindow: numberInput('rate.window_ms', 'limits-rate-window', '1000'),
    groupField: h('input', {type: 'text', autocomplete: 'off', spellcheck: 'false', 'data-field': 'group.field',
      'data-testid': 'limits-group-field', placeholder: 'none'}),
    groupConcurrency: numberInput('group.concurrency', 'limits-group-concurrency', 'none'),
    groupRateMax: numberInput('group.rate.max', 'limits-group-rate-max', 'none'),
    groupRateWindow: numberInput('group.rate.window_ms', 'limits-group-rate-window', '1000'),
    agingMs: numberInput('priority_aging_ms', 'limits-priority-aging', 'none'),
    maxLength: numberInput('max_length', 'limits-max-length', 'none'),
  };
  const out = h('p', {class: 'message', 'data-testid': 'limits-result', role: 'status', hidden: true});
  const saveButton = h('button', {type: 'submit', class: 'primary', 'data-testid': 'limits-submit'}, 'Save limits');
  const form = h('form', {class: 'limits-form', 'data-testid': 'limits-form', novalidate: true},
    h('fieldset', null, h('legend', null, 'Queue'), h('div', {class: 'grid'},
      field('Concurrency (active at once)', inputs.concurrency),
      field('Rate: jobs started', inputs.rateMax), field('per window (ms)', inputs.rateWindow),
      field('Max length (backlog)', inputs.maxLength),
      field('Priority aging (ms per step)', inputs.agingMs))),
    h('fieldset', null, h('legend', null, 'Each group'), h('div', {class: 'grid'},
      field('Group by data field', inputs.groupField),
      field('Concurrency', inputs.groupConcurrency),
      field('Rate: jobs started', inputs.groupRateMax), field('per window (ms)', inputs.groupRateWindow))),
    h('p', {class: 'muted small'}, 'An empty field is no limit. Saving replaces all of the queue\'s limits.'),
    h('div', {class: 'buttons'}, saveButton),
    out);

  // Typing marks the form as the user's: a load answering later does not overwrite it.
  let edited = false;
  form.addEventListener('input', () => { edited = true; });

  function fill(limits) {
    const group = limits.group || {};
    showValue(inputs.concurrency, limits.concurrency);
    showValue(inputs.rateMax, limits.rate?.max);
    showValue(inputs.rateWindow, limits.rate?.window_ms);
    showValue(inputs.groupField, group.field);
    showValue(inputs.groupConcurrency, group.concurrency);
    showValue(inputs.groupRateMax, group.rate?.max);
    showValue(inputs.groupRateWindow, group.rate?.window_ms);
    showValue(inputs.agingMs, limits.priority_aging_ms);
    showValue(inputs.maxLength, limits.max_length);
    edited = false;
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form, out);
    const body = {
      concurrency: readNumber(inputs.concurrency),
      rate: rateFrom(inputs.rateMax, inputs.rateWindow),
      group: {
        field: inputs.groupField.value.trim() || null,
        concurrency: readNumber(inputs.groupConcurrency),
        rate: rateFrom(inputs.groupRateMax, inputs.groupRateWindow),
      },
      priority_aging_ms: readNumber(inputs.agingMs),
      max_length: readNumber(inputs.maxLength),
    };
    saveButton.disabled = true;
    try {
      const saved = await api.put(path, body);
      fill(saved);
      replace(summary, describeLimits(saved));
      message(out, `Saved. Limits of ${queue}: ${describeLimits(saved)}.`);
    } catch (e) {
      showError(form, out, e);
    } finally {
      saveButton.disabled = false;
    }
  });

  loadLimits(path, summary, (limits) => {
    if (!edited) fill(limits);
  });

  return h('details', {class: 'panel limits-panel'},
    h('summary', {'data-testid': 'limits-toggle'}, 'Edit limits', h('span', {class: 'summary-note'}, ' · '), summary),
    form);
}
