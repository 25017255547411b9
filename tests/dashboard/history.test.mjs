// End-to-end tests of the dashboard's charts, fed by the history the workers record in Redis
// (docs/dashboard.md), in Debian's chromium against the real taskq binary and a real redis-server
// (harness.mjs starts them once for this file).
//
//   TASKQ_BINARY=build/taskq TASKQ_TEST_WORKER=build/tests/taskq_test_worker \
//     node --test tests/dashboard/history.test.mjs
import assert from 'node:assert/strict';
import {BASE, USERS, WORKER_QUEUE, eventually} from './fixture.mjs';
import {
  stack, e2e, openPage, signIn, signedInPage, byTestId, shot, go, waitForJob,
} from './harness.mjs';

const MINUTE_MS = 60000;
// The worker records a history row every second instead of every minute, so that jobs run in
// earlier buckets within a test's time. Everything else (recorder, Redis, API, chart) is as in
// production; the chart scales a bucket's counts to jobs per minute.
stack.workerFlags = ['--history-bucket-ms', '1000'];

// A signed-in admin page whose GET B/api/history answers `rows(minutes)` as the recorded minutes;
// `asked` collects the minutes=N of each request.
async function pageWithHistory(pages, rows) {
  const page = await openPage(pages);
  const asked = [];
  await page.route((url) => url.pathname === `${BASE}/api/history`, (route) => {
    const minutes = Number(new URL(route.request().url()).searchParams.get('minutes'));
    asked.push(minutes);
    return route.fulfill({status: 200, contentType: 'application/json',
      body: JSON.stringify({minutes: rows(minutes), now_ms: Date.now()})});
  });
  await signIn(page, USERS.admin);
  return {page, asked};
}

function minuteRow(t, processed, failed = 0) {
  return {t, processed, failed, enqueued: processed, dead: 0, waiting: 0};
}

e2e('chart: the overview draws the recorded minutes of the chosen range, with gaps where nothing was recorded', async ({pages}) => {
  const start = Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS;
  const rows = (minutes) => {
    const out = [];
    // Five hours ago: only within 6 h and 24 h.
    if (minutes >= 360) for (let m = 300; m > 290; m--) out.push(minuteRow(start - m * MINUTE_MS, 40));
    // 10 minutes an hour ago, none for 30 minutes, then the last 10 minutes.
    for (let m = 50; m > 40; m--) out.push(minuteRow(start - m * MINUTE_MS, 6, 1));
    for (let m = 10; m > 0; m--) out.push(minuteRow(start - m * MINUTE_MS, 3));
    return out;
  };
  const {page, asked} = await pageWithHistory(pages, rows);
  const svg = byTestId(page, 'throughput-svg');
  await svg.waitFor();
  assert.deepEqual(asked, [60]);
  assert.equal(await byTestId(page, 'chart-range-60').getAttribute('aria-pressed'), 'true');
  assert.equal(await svg.getAttribute('data-points'), '20');
  // Two runs per series: the 30 unrecorded minutes break the lines.
  assert.equal(await svg.locator('polyline.line-processed').count(), 2);
  assert.equal(await byTestId(page, 'chart-processed').locator('strong').textContent(), '3.0');
  assert.match(await svg.getAttribute('aria-label'), /over the last 1 h:/);
  await shot(page, 'chart-1h');

  await byTestId(page, 'chart-range-360').click();
  await eventually(async () => (await svg.getAttribute('data-points')) === '30', 'the 6 h range to be drawn');
  assert.deepEqual(asked.slice(-1), [360]);
  assert.equal(await byTestId(page, 'chart-range-360').getAttribute('aria-pressed'), 'true');
  assert.equal(await svg.locator('polyline.line-processed').count(), 3);
  assert.match(await svg.getAttribute('aria-label'), /over the last 6 h:/);
  await shot(page, 'chart-6h');

  // The range is kept while moving between views.
  await go(page, '#/workers');
  await byTestId(page, 'workers-view').waitFor();
  await go(page, '#/');
  await eventually(async () => (await svg.getAttribute('data-points')) === '30', 'the 6 h range again');
  assert.equal(asked[asked.length - 1], 360);
});

e2e('chart: jobs that ran in earlier buckets are on the overview and queue charts after a reload', async ({pages}) => {
  const ids = [];
  for (let i = 0; i < 4; i++) {
    ids.push((await stack.enqueue({type: 'webhook', queue: WORKER_QUEUE, data: {url: `${stack.receiver.url}/ok`}})).id);
  }
  for (const id of ids) await waitForJob(id, WORKER_QUEUE, 'completed');
  // The recorder's rows count them once the buckets after them are sampled.
  const processed = async (route) => (await stack.get(`${route}?minutes=60`)).minutes
    .reduce((sum, row) => sum + (row.processed || 0), 0);
  await eventually(async () => (await processed('/api/history')) >= 4, 'the history to count the 4 jobs');

  const page = await signedInPage(pages);
  await page.reload();
  const chart = byTestId(page, 'throughput-chart');
  await byTestId(page, 'throughput-svg').waitFor();
  await eventually(async () => Number(await chart.getAttribute('data-recorded-processed')) >= 4,
    'the overview chart to draw the recorded jobs');
  assert.ok(Number(await chart.getAttribute('data-recorded')) > 1, 'several rows are drawn');
  assert.ok(await byTestId(page, 'throughput-svg').locator('polyline.line-processed').count() > 0);
  await shot(page, 'chart-after-reload');

  await go(page, `#/queues/${WORKER_QUEUE}?state=completed`);
  await byTestId(page, 'queue-chart-toggle').click();
  await eventually(async () => Number(await chart.getAttribute('data-recorded-processed')) >= 4,
    'the queue chart to draw the recorded jobs');
  assert.ok(await processed(`/api/queues/${WORKER_QUEUE}/history`) >= 4);
  await shot(page, 'queue-chart');
});
