// End-to-end tests of the dashboard's forms that change configuration: a queue's limits and
// schedules (docs/dashboard.md), in Debian's chromium against the real taskq binary and a real
// redis-server (harness.mjs starts them once for this file).
//
//   TASKQ_BINARY=build/taskq TASKQ_TEST_WORKER=build/tests/taskq_test_worker \
//     node --test tests/dashboard/editing.test.mjs
import assert from 'node:assert/strict';
import {USERS} from './fixture.mjs';
import {
  stack, e2e, allowFailedLoad, byTestId, shot, signedInPage, assertText, assertValue, go,
} from './harness.mjs';

e2e('limits: an admin sets a queue\'s limits and sees them after a reload; a bad value shows the API\'s error and keeps the input', async ({pages}) => {
  await stack.enqueue({type: 'notify', queue: 'limited', data: {}});
  const page = await signedInPage(pages);
  allowFailedLoad(page, 422);
  await go(page, '#/queues/limited?state=waiting');
  await assertText(byTestId(page, 'limits-summary'), 'none');
  await byTestId(page, 'limits-toggle').click();
  await byTestId(page, 'limits-concurrency').fill('3');
  await byTestId(page, 'limits-rate-max').fill('50');
  await byTestId(page, 'limits-rate-window').fill('2000');
  await byTestId(page, 'limits-group-field').fill('tenant');
  await byTestId(page, 'limits-max-length').fill('500');
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
  await byTestId(page, 'limits-concurrency').fill('0');
  await byTestId(page, 'limits-max-length').fill('900');
  await byTestId(page, 'limits-submit').click();
  await assertText(byTestId(page, 'limits-result'), 'concurrency: must be an integer from 1 to 1000000');
  assert.equal(await byTestId(page, 'limits-concurrency').getAttribute('aria-invalid'), 'true');
  assert.equal(await byTestId(page, 'limits-concurrency').inputValue(), '0');
  assert.equal(await byTestId(page, 'limits-max-length').inputValue(), '900');
  assert.equal((await stack.get('/api/queues/limited/limits')).max_length, 500);
  await shot(page, 'limits-error');

  // A rate window without its max: the API names the nested field.
  await byTestId(page, 'limits-concurrency').fill('4');
  await byTestId(page, 'limits-rate-max').fill('');
  await byTestId(page, 'limits-submit').click();
  await assertText(byTestId(page, 'limits-result'), 'rate.max: is required');
  assert.equal(await byTestId(page, 'limits-rate-max').getAttribute('aria-invalid'), 'true');
  assert.equal(await byTestId(page, 'limits-concurrency').getAttribute('aria-invalid'), null);

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
