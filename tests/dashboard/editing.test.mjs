// End-to-end tests of the dashboard's forms that change configuration: a queue's limits and
// schedules (docs/dashboard.md), in Debian's chromium against the real taskq binary and a real
// redis-server (harness.mjs starts them once for this file).
//
//   TASKQ_BINARY=build/taskq TASKQ_TEST_WORKER=build/tests/taskq_test_worker \
//     node --test tests/dashboard/editing.test.mjs
import assert from 'node:assert/strict';
import {USERS, eventually} from './fixture.mjs';
import {
  stack, e2e, allowFailedLoad, byTestId, shot, signedInPage, assertText, assertValue, go,
} from './harness.mjs';

// Fills inputs by test id: {'limits-concurrency': '3', ...}.
async function fill(page, values) {
  for (const [id, value] of Object.entries(values)) await byTestId(page, id).fill(value);
}

// Types `typed` and submits a form the API refuses: its message matches `error` (text or RegExp),
// the input of the field it names is marked, and everything typed is still there.
async function assertRefused(page, {submit, result, typed, error, invalid}) {
  await fill(page, typed);
  await byTestId(page, submit).click();
  const out = byTestId(page, result);
  if (error instanceof RegExp) {
    await eventually(async () => error.test(await out.textContent()), `${result} to match ${error}`);
  } else {
    await assertText(out, error);
  }
  const marked = await page.locator('[aria-invalid="true"]').evaluateAll((els) => els.map((el) => el.dataset.testid));
  assert.deepEqual(marked, [invalid], 'only the named field is marked');
  for (const [id, value] of Object.entries(typed)) {
    assert.equal(await byTestId(page, id).inputValue(), value, `${id} keeps what was typed`);
  }
}

e2e('limits: an admin sets a queue\'s limits and sees them after a reload; a bad value shows the API\'s error and keeps the input', async ({pages}) => {
  await stack.enqueue({type: 'notify', queue: 'limited', data: {}});
  const page = await signedInPage(pages);
  allowFailedLoad(page, 422);
  await go(page, '#/queues/limited?state=waiting');
  await assertText(byTestId(page, 'limits-summary'), 'none');
  await byTestId(page, 'limits-toggle').click();
  await fill(page, {'limits-concurrency': '3', 'limits-rate-max': '50', 'limits-rate-window': '2000',
    'limits-group-field': 'tenant', 'limits-max-length': '500'});
  await byTestId(page, 'limits-submit').click();
  const described = 'concurrency 3, rate 50 per 2,000 ms, per group (data field tenant), max length 500';
  await assertText(byTestId(page, 'limits-result'), `Saved. Limits of limited: ${described}.`);
  assert.deepEqual(await stack.get('/api/queues/limited/limits'), {
    queue: 'limited', rate: {max: 50, window_ms: 2000}, concurrency: 3,
    group: {rate: null, concurrency: null, field: 'tenant'}, priority_aging_ms: null, max_length: 500,
  });

  await page.reload();
  await byTestId(page, 'queue-view').waitFor();
  await assertText(byTestId(page, 'limits-summary'), described);
  await byTestId(page, 'limits-toggle').click();
  await assertValue(byTestId(page, 'limits-concurrency'), '3');
  await assertValue(byTestId(page, 'limits-rate-window'), '2000');
  await assertValue(byTestId(page, 'limits-group-field'), 'tenant');
  await assertValue(byTestId(page, 'limits-max-length'), '500');

  // 0 is out of range: the API's 422 names the field and the rule; nothing typed is lost and
  // nothing is saved.
  const limitsForm = {submit: 'limits-submit', result: 'limits-result'};
  await assertRefused(page, {...limitsForm, typed: {'limits-concurrency': '0', 'limits-max-length': '900'},
    error: 'concurrency: must be an integer from 1 to 1000000', invalid: 'limits-concurrency'});
  assert.equal((await stack.get('/api/queues/limited/limits')).max_length, 500);
  await shot(page, 'limits-error');

  // A rate window without its max: the API names the nested field.
  await assertRefused(page, {...limitsForm, typed: {'limits-concurrency': '4', 'limits-rate-max': ''},
    error: 'rate.max: is required', invalid: 'limits-rate-max'});
  await byTestId(page, 'limits-rate-window').fill('');
  await byTestId(page, 'limits-submit').click();
  await assertText(byTestId(page, 'limits-summary'), 'concurrency 4, per group (data field tenant), max length 900');
  const saved = await stack.get('/api/queues/limited/limits');
  assert.deepEqual([saved.concurrency, saved.rate, saved.max_length], [4, null, 900]);
  assert.equal(await byTestId(page, 'limits-rate-max').getAttribute('aria-invalid'), null);
});

e2e('limits: a read-only user sees the limits and no form', async ({pages}) => {
  await stack.call('PUT', '/api/queues/watched/limits', {concurrency: 7, rate: {max: 10}});
  const page = await signedInPage(pages, USERS.read);
  await go(page, '#/queues/watched?state=waiting');
  await assertText(byTestId(page, 'limits-summary'), 'concurrency 7, rate 10 per 1,000 ms');
  assert.equal(await byTestId(page, 'limits-form').count(), 0);
  assert.equal(await byTestId(page, 'limits-toggle').count(), 0);
});

e2e('schedules: an admin creates a schedule, then edits it; a bad cron or option shows the API\'s error and keeps the input', async ({pages}) => {
  const page = await signedInPage(pages);
  allowFailedLoad(page, 422);
  allowFailedLoad(page, 409);
  const scheduleForm = {submit: 'schedule-form-submit', result: 'schedule-form-result'};
  await go(page, '#/schedules');
  await byTestId(page, 'schedules-view').waitFor();
  await byTestId(page, 'schedule-create').click();
  await assertText(byTestId(page, 'schedule-form-title'), 'New schedule');
  await fill(page, {'schedule-form-id': 'digest', 'schedule-form-cron': '0 * * * *', 'schedule-form-type': 'digest',
    'schedule-form-queue': 'digests', 'schedule-form-data': '{"kind": "hourly"}'});
  await byTestId(page, 'schedule-form-submit').click();
  await assertText(byTestId(page, 'action-result'), 'digest is created: 0 * * * * (UTC), active.');
  await byTestId(page, 'schedule-row-digest').waitFor();
  assert.equal(await byTestId(page, 'schedule-form').isVisible(), false, 'the form closes once saved');
  const created = await stack.get('/api/schedules/digest');
  assert.deepEqual([created.cron, created.tz, created.type, created.queue, created.data, created.paused],
    ['0 * * * *', 'UTC', 'digest', 'digests', {kind: 'hourly'}, false]);

  // Creating never overwrites: the same id again is the API's 409.
  await byTestId(page, 'schedule-create').click();
  await assertRefused(page, {...scheduleForm,
    typed: {'schedule-form-id': 'digest', 'schedule-form-cron': '*/5 * * * *', 'schedule-form-type': 'digest'},
    error: /^id: /, invalid: 'schedule-form-id'});
  assert.equal((await stack.get('/api/schedules/digest')).cron, '0 * * * *');
  await byTestId(page, 'schedule-form-cancel').click();

  // Edit: the form holds the stored definition.
  await byTestId(page, 'schedule-edit-digest').click();
  await assertText(byTestId(page, 'schedule-form-title'), 'Edit schedule digest');
  await assertValue(byTestId(page, 'schedule-form-cron'), '0 * * * *');
  assert.equal(await byTestId(page, 'schedule-form-id').getAttribute('readonly'), '');
  assert.deepEqual(JSON.parse(await byTestId(page, 'schedule-form-data').inputValue()), {kind: 'hourly'});

  // An hour of 25: the API's 422 names the field and the parser's position; nothing is lost.
  await assertRefused(page, {...scheduleForm, typed: {'schedule-form-cron': '30 25 * * *', 'schedule-form-tz': 'Europe/Berlin'},
    error: 'cron: position 4: hour 25 is out of range 0-23', invalid: 'schedule-form-cron'});
  assert.equal((await stack.get('/api/schedules/digest')).tz, 'UTC');
  await shot(page, 'schedule-error');

  // An option's error names options.<field>; the options box is marked.
  await assertRefused(page, {...scheduleForm,
    typed: {'schedule-form-cron': '30 2 * * *', 'schedule-form-options': '{"priority": "high"}'},
    error: /^options\.priority: /, invalid: 'schedule-form-options'});
  await byTestId(page, 'schedule-form-options').fill('{"priority": 5, "max_attempts": 2}');
  await byTestId(page, 'schedule-form-paused').check();
  await byTestId(page, 'schedule-form-submit').click();
  await assertText(byTestId(page, 'action-result'), 'digest is saved: 30 2 * * * (Europe/Berlin), paused.');
  const edited = await stack.get('/api/schedules/digest');
  assert.deepEqual([edited.cron, edited.tz, edited.paused, edited.options.priority, edited.options.max_attempts,
    edited.data], ['30 2 * * *', 'Europe/Berlin', true, 5, 2, {kind: 'hourly'}]);

  // What is shown after a reload comes from the server.
  await page.reload();
  await byTestId(page, 'schedule-row-digest').waitFor();
  await assertText(byTestId(page, 'schedule-status-digest').locator('.badge'), 'paused');
  await assertText(byTestId(page, 'schedule-row-digest').locator('code'), '30 2 * * *');
  await byTestId(page, 'schedule-edit-digest').click();
  await assertValue(byTestId(page, 'schedule-form-tz'), 'Europe/Berlin');
  assert.equal(await byTestId(page, 'schedule-form-paused').isChecked(), true);
  await shot(page, 'schedule-edit');
});
