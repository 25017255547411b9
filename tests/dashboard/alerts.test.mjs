// End-to-end tests of the dashboard's alert banners (docs/dashboard.md, docs/alerts.md) in
// Debian's chromium against the real taskq binary and a real redis-server (harness.mjs starts
// them once for this file).
//
//   TASKQ_BINARY=build/taskq TASKQ_TEST_WORKER=build/tests/taskq_test_worker \
//     node --test tests/dashboard/alerts.test.mjs
import assert from 'node:assert/strict';
import {BASE, USERS, eventually} from './fixture.mjs';
import {
  stack, e2e, openPage, signIn, signedInPage, byTestId, shot, assertText, go,
} from './harness.mjs';

// A signed-in admin page whose GET B/api/alerts answers `answer.body`, so that a test chooses the
// alerts (the banners' own behaviour: severity, links, dismissal); counts the requests.
async function pageWithAlerts(pages, answer, options) {
  const page = await openPage(pages, options);
  answer.requests = 0;
  await page.route((url) => url.pathname === `${BASE}/api/alerts`, (route) => {
    answer.requests++;
    return route.fulfill({status: 200, contentType: 'application/json', body: JSON.stringify(answer.body)});
  });
  await signIn(page, USERS.admin);
  return page;
}

function alertsOf(...alerts) {
  return {alerts, now_ms: Date.now()};
}

const NO_WORKERS = {name: 'TaskqQueueWithoutWorkers', severity: 'critical', queue: 'email', schedule: null,
  summary: 'Queue email has 12 waiting jobs and no live worker.', value: 12};
const STUCK = {name: 'TaskqScheduleStuck', severity: 'warning', queue: null, schedule: 'nightly',
  summary: 'Schedule nightly is 95 s late.', value: 95};

e2e('alerts: each active alert is a banner on every view, linking to its queue or schedule', async ({pages}) => {
  await stack.enqueue({type: 'notify', queue: 'email', data: {}});
  const answer = {body: alertsOf(NO_WORKERS, STUCK)};
  const page = await pageWithAlerts(pages, answer);
  const queueBanner = byTestId(page, 'alert-TaskqQueueWithoutWorkers-email');
  const scheduleBanner = byTestId(page, 'alert-TaskqScheduleStuck-nightly');
  await queueBanner.waitFor();
  assert.equal(await queueBanner.getAttribute('data-severity'), 'critical');
  assert.equal(await scheduleBanner.getAttribute('data-severity'), 'warning');
  assert.match(await queueBanner.textContent(), /TaskqQueueWithoutWorkers: Queue email has 12 waiting jobs and no live worker\. queue email/);
  await shot(page, 'alerts-overview');

  for (const fragment of ['#/schedules', '#/workers', '#/queues/email?state=waiting']) {
    await go(page, fragment);
    await eventually(async () => (await page.evaluate(() => location.hash)) === fragment, fragment);
    assert.equal(await queueBanner.isVisible(), true, `the banner stays on ${fragment}`);
    assert.equal(await scheduleBanner.isVisible(), true, `the banner stays on ${fragment}`);
  }
  await scheduleBanner.getByRole('link').click();
  await byTestId(page, 'schedules-view').waitFor();
  assert.equal(await page.evaluate(() => location.hash), '#/schedules?id=nightly');
  await queueBanner.getByRole('link').click();
  await byTestId(page, 'queue-view').waitFor();
  await assertText(byTestId(page, 'queue-title'), 'Queues / email');

  // An alert that ends leaves; the box is empty and hidden without alerts.
  answer.body = alertsOf(STUCK);
  await queueBanner.waitFor({state: 'detached', timeout: 15000});
  answer.body = alertsOf();
  await byTestId(page, 'alerts').waitFor({state: 'hidden', timeout: 15000});
});

e2e('alerts: a dismissed banner stays hidden in this session until its value changes', async ({pages}) => {
  const answer = {body: alertsOf(NO_WORKERS, STUCK)};
  const page = await pageWithAlerts(pages, answer);
  const queueBanner = byTestId(page, 'alert-TaskqQueueWithoutWorkers-email');
  await queueBanner.waitFor();
  await byTestId(page, 'alert-TaskqQueueWithoutWorkers-email-dismiss').click();
  await queueBanner.waitFor({state: 'detached'});
  assert.equal(await byTestId(page, 'alert-TaskqScheduleStuck-nightly').isVisible(), true, 'the other stays');

  // Still dismissed after a reload (same session) and after later refreshes with the same value.
  await page.reload();
  await byTestId(page, 'alert-TaskqScheduleStuck-nightly').waitFor();
  const seen = answer.requests;
  await eventually(() => answer.requests >= seen + 1, 'the alerts to be asked again', 15000);
  assert.equal(await queueBanner.count(), 0, 'hidden while its value is the same');

  // A new value brings it back.
  answer.body = alertsOf({...NO_WORKERS, value: 30, summary: 'Queue email has 30 waiting jobs and no live worker.'}, STUCK);
  await queueBanner.waitFor({timeout: 15000});
  assert.match(await queueBanner.textContent(), /30 waiting jobs/);

  // An age grows with the clock by itself: hidden while it only did, back when it jumps.
  const at = Date.now();
  answer.body = {alerts: [STUCK], now_ms: at};
  const stuckBanner = byTestId(page, 'alert-TaskqScheduleStuck-nightly');
  await eventually(async () => (await queueBanner.count()) === 0 && answer.requests > 0, 'the queue alert to end');
  await byTestId(page, 'alert-TaskqScheduleStuck-nightly-dismiss').click();
  await stuckBanner.waitFor({state: 'detached'});
  answer.body = {alerts: [{...STUCK, value: STUCK.value + 40}], now_ms: at + 40000};
  const asked = answer.requests;
  await eventually(() => answer.requests >= asked + 1, 'the alerts to be asked again', 15000);
  assert.equal(await stuckBanner.count(), 0, 'a delay that grew with the clock stays dismissed');
  answer.body = {alerts: [{...STUCK, value: 300}], now_ms: at + 50000};
  await stuckBanner.waitFor({timeout: 15000});

  // Another session (a new browser context) never saw the dismissal.
  const other = await pageWithAlerts(pages, {body: alertsOf(NO_WORKERS)});
  await byTestId(other, 'alert-TaskqQueueWithoutWorkers-email').waitFor();
});

e2e('alerts: fit a phone\'s width', async ({pages}) => {
  const page = await pageWithAlerts(pages, {body: alertsOf(NO_WORKERS, STUCK)}, {viewport: {width: 375, height: 740}});
  await byTestId(page, 'alert-TaskqScheduleStuck-nightly').waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.equal(overflow, 0);
  await shot(page, 'alerts-phone');
});

e2e('alerts: a queue with waiting jobs and no worker gets a TaskqQueueWithoutWorkers banner from the real API', async ({pages}) => {
  const page = await signedInPage(pages);
  const banner = byTestId(page, 'alert-TaskqQueueWithoutWorkers-orphans');
  assert.equal(await banner.count(), 0, 'no banner before the queue has jobs');
  const ids = [];
  for (let i = 0; i < 3; i++) ids.push((await stack.enqueue({type: 'notify', queue: 'orphans', data: {i}})).id);
  const {alerts} = await stack.get('/api/alerts');
  assert.ok(alerts.some((a) => a.name === 'TaskqQueueWithoutWorkers' && a.queue === 'orphans' && a.value === 3),
    JSON.stringify(alerts));
  // Within the 10 s refresh (or sooner, with the live queues events).
  await banner.waitFor({timeout: 20000});
  assert.equal(await banner.getAttribute('data-severity'), 'critical');
  assert.match(await banner.textContent(), /3 job\(s\) wait in queue orphans and no live worker serves it/);
  await shot(page, 'alerts-real');
  await banner.getByRole('link', {name: 'queue orphans'}).click();
  await assertText(byTestId(page, 'queue-title'), 'Queues / orphans');

  // The jobs leave: the alert ends, and its banner with it.
  await stack.call('POST', '/api/queues/orphans/jobs/actions', {action: 'remove', ids});
  await banner.waitFor({state: 'detached', timeout: 20000});
});
