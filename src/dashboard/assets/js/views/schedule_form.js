// The admin's form for one schedule on #/schedules: a new one (POST B/api/schedules) or an
// existing one (PUT B/api/schedules/{id}), every field of the definition (docs/http-api.md,
// "Schedules"). The form stays open with what was typed until a save succeeds.
import {api, seg} from '../api.js';
import {h, replace, message, prettyJson} from '../dom.js';
import {field, numberInput, readNumber, showValue, clearErrors, showError} from '../form.js';

function pad(n) {
  return String(n).padStart(2, '0');
}

// Unix ms <-> the local "YYYY-MM-DDTHH:MM:SS" of a datetime-local input.
function toLocalInput(ms) {
  if (ms === null || ms === undefined) return '';
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

function fromLocalInput(input) {
  return input.value ? new Date(input.value).getTime() : null;
}

// A JSON object typed into a textarea, or an error naming the field as the API would.
function readJsonObject(textarea, apiField) {
  let value;
  try {
    value = JSON.parse(textarea.value.trim() || '{}');
  } catch (e) {
    return {error: {field: apiField, message: `not valid JSON (${e.message})`}};
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return {error: {field: apiField, message: 'must be a JSON object'}};
  }
  return {value};
}

// onSaved(schedule, created) runs after a successful save, with the API's answer.
export function scheduleForm({onSaved}) {
  const text = (apiField, testid, placeholder) => h('input', {type: 'text', autocomplete: 'off',
    spellcheck: 'false', 'data-field': apiField, 'data-testid': testid, placeholder});
  const inputs = {
    id: text('id', 'schedule-form-id', 'nightly-report'),
    cron: text('cron', 'schedule-form-cron', '0 3 * * MON-FRI'),
    tz: text('tz', 'schedule-form-tz', 'UTC'),
    type: text('type', 'schedule-form-type', 'export'),
    queue: text('queue', 'schedule-form-queue', 'the type'),
    data: h('textarea', {rows: '4', spellcheck: 'false', 'data-field': 'data', 'data-testid': 'schedule-form-data'}),
    options: h('textarea', {rows: '4', spellcheck: 'false', 'data-field': 'options', 'data-testid': 'schedule-form-options'}),
    start: h('input', {type: 'datetime-local', step: '1', 'data-field': 'start_ms', 'data-testid': 'schedule-form-start'}),
    end: h('input', {type: 'datetime-local', step: '1', 'data-field': 'end_ms', 'data-testid': 'schedule-form-end'}),
    maxRuns: numberInput('max_runs', 'schedule-form-max-runs', '0 (no limit)'),
    missed: h('select', {'data-field': 'missed', 'data-testid': 'schedule-form-missed'},
      h('option', {value: 'skip'}, 'skip them'), h('option', {value: 'catch_up'}, 'catch up the latest')),
    catchUp: numberInput('missed.catch_up', 'schedule-form-catch-up', '1'),
    paused: h('input', {type: 'checkbox', 'data-field': 'paused', 'data-testid': 'schedule-form-paused'}),
  };
  const title = h('h2', {'data-testid': 'schedule-form-title'});
  const out = h('p', {class: 'message', 'data-testid': 'schedule-form-result', role: 'status', hidden: true});
  const saveButton = h('button', {type: 'submit', class: 'primary', 'data-testid': 'schedule-form-submit'}, 'Save');
  const cancelButton = h('button', {type: 'button', 'data-testid': 'schedule-form-cancel'}, 'Cancel');
  const catchUpField = field('How many', inputs.catchUp);
  const form = h('form', {class: 'schedule-form', 'data-testid': 'schedule-form', novalidate: true},
    h('div', {class: 'grid'},
      field('Id', inputs.id), field('Cron', inputs.cron), field('Time zone', inputs.tz),
      field('Job type', inputs.type), field('Queue', inputs.queue)),
    h('div', {class: 'grid two'},
      field('Data (JSON object)', inputs.data),
      field('Options (JSON: priority, max_attempts, backoff, timeout_ms, retention, group)', inputs.options)),
    h('div', {class: 'grid'},
      field('Start (local time, optional)', inputs.start), field('End (local time, optional)', inputs.end),
      field('Max runs', inputs.maxRuns), field('Missed fire times', inputs.missed), catchUpField,
      h('label', {class: 'check-field'}, inputs.paused, ' Paused')),
    h('div', {class: 'buttons'}, saveButton, cancelButton),
    out);
  const panel = h('section', {class: 'panel schedule-form-panel', hidden: true}, title, form);

  let editing = null;  // the id being replaced; null: a new schedule

  const drawMissed = () => { catchUpField.hidden = inputs.missed.value !== 'catch_up'; };
  inputs.missed.addEventListener('change', drawMissed);
  cancelButton.addEventListener('click', () => { panel.hidden = true; });

  // schedule: the API's schedule to edit, or null for a new one.
  function open(schedule) {
    editing = schedule ? schedule.id : null;
    replace(title, schedule ? `Edit schedule ${schedule.id}` : 'New schedule');
    clearErrors(form, out);
    showValue(inputs.id, schedule?.id);
    inputs.id.readOnly = !!schedule;
    showValue(inputs.cron, schedule?.cron);
    showValue(inputs.tz, schedule ? schedule.tz : '');
    showValue(inputs.type, schedule?.type);
    showValue(inputs.queue, schedule?.queue);
    inputs.data.value = schedule ? prettyJson(schedule.data ?? {}) : '{}';
    inputs.options.value = schedule ? prettyJson(schedule.options ?? {}) : '{}';
    inputs.start.value = toLocalInput(schedule?.start_ms);
    inputs.end.value = toLocalInput(schedule?.end_ms);
    showValue(inputs.maxRuns, schedule?.max_runs || null);
    const catchUp = schedule?.missed?.catch_up;
    inputs.missed.value = catchUp ? 'catch_up' : 'skip';
    showValue(inputs.catchUp, catchUp);
    inputs.paused.checked = !!schedule?.paused;
    drawMissed();
    panel.hidden = false;
    panel.scrollIntoView({block: 'nearest'});
    (schedule ? inputs.cron : inputs.id).focus();
  }

  function definition() {
    const data = readJsonObject(inputs.data, 'data');
    if (data.error) return data;
    const options = readJsonObject(inputs.options, 'options');
    if (options.error) return options;
    const body = {
      id: inputs.id.value.trim(), cron: inputs.cron.value.trim(), type: inputs.type.value.trim(),
      data: data.value, options: options.value, paused: inputs.paused.checked,
      missed: inputs.missed.value === 'catch_up' ? {catch_up: readNumber(inputs.catchUp)} : 'skip',
    };
    if (inputs.tz.value.trim()) body.tz = inputs.tz.value.trim();
    if (inputs.queue.value.trim()) body.queue = inputs.queue.value.trim();
    const start = fromLocalInput(inputs.start);
    const end = fromLocalInput(inputs.end);
    if (start !== null) body.start_ms = start;
    if (end !== null) body.end_ms = end;
    const maxRuns = readNumber(inputs.maxRuns);
    if (maxRuns !== null) body.max_runs = maxRuns;
    return {value: body};
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form, out);
    const body = definition();
    if (body.error) return showError(form, out, body.error);
    saveButton.disabled = true;
    try {
      const saved = editing === null
        ? await api.post('/schedules', body.value)
        : await api.put(`/schedules/${seg(editing)}`, body.value);
      panel.hidden = true;
      onSaved(saved, editing === null);
    } catch (e) {
      showError(form, out, e);
    } finally {
      saveButton.disabled = false;
    }
  });

  return {panel, open};
}
