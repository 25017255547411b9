// End-to-end tests of a sharded queue on the dashboard (docs/dashboard.md, "Sharded queues") in
// Debian's chromium against the real taskq binary and a real redis-server (harness.mjs starts
// them once for this file). The queues here have no worker, so their jobs stay waiting where
// the producer placed them.
//
//   TASKQ_BINARY=build/taskq TASKQ_TEST_WORKER=build/tests/taskq_test_worker \
//     node --test tests/dashboard/shards.test.mjs
import assert from 'node:assert/strict';
import {stack, whenStarted, e2e, signedInPage, byTestId, shot, assertText, go, UI_TIMEOUT_MS} from './harness.mjs';
import {USERS, eventually} from './fixture.mjs';

const SHARDED = 'parked-sharded';
const PLAIN = 'parked-plain';
const JOBS = 30;

async function seed() {
  // Spread over 3 shards while empty (the change refuses a queue with jobs waiting), then filled.
  const layout = await stack.call('PUT', `/api/queues/${SHARDED}/shards`, {shards: 3});
  assert.equal(layout.shards, 3);
  const jobs = Array.from({length: JOBS},
    (_, i) => ({type: 'parked', queue: SHARDED, job_id: `sharded-${i}`, data: {i}}));
  await stack.call('POST', '/api/jobs/bulk', {jobs});
  await stack.enqueue({type: 'parked', queue: PLAIN, job_id: 'plain-0', data: {}});
}
whenStarted(seed);

// Every request of the page to B/api/queues/{queue}/shards, as paths.
function watchShardRequests(page) {
  const seen = [];
  page.on('request', (request) => {
    const {pathname} = new URL(request.url());
    if (pathname.endsWith('/shards')) seen.push(pathname);
  });
  return seen;
}

e2e('overview: a sharded queue has an "N shards" badge, an unsharded one none', async ({pages}) => {
  const page = await signedInPage(pages);
  await byTestId(page, `queue-row-${SHARDED}`).waitFor();
  await byTestId(page, `queue-row-${PLAIN}`).waitFor();
  await assertText(byTestId(page, `shards-${SHARDED}`), '3 shards');
  await assertText(byTestId(page, `count-${SHARDED}-waiting`), String(JOBS));
  assert.equal(await byTestId(page, `shards-${PLAIN}`).count(), 0, 'no badge on an unsharded queue');
  await shot(page, 'shards-overview');
});

e2e('queue page: the Shards panel lists each shard with its counts', async ({pages}) => {
  const page = await signedInPage(pages);
  const requests = watchShardRequests(page);
  await go(page, `#/queues/${SHARDED}`);
  await byTestId(page, 'queue-view').waitFor();
  await byTestId(page, 'shards-panel').waitFor();  // visible
  const rows = byTestId(page, 'shards-table').locator('tbody tr');
  await eventually(async () => (await rows.count()) === 3, 'the Shards table to have 3 rows', UI_TIMEOUT_MS);
  await assertText(byTestId(page, 'shard-tag-0'), SHARDED);
  const tags = [];
  let waiting = 0;
  for (let i = 0; i < 3; i++) {
    await assertText(byTestId(page, `shard-index-${i}`), String(i));
    tags.push(await byTestId(page, `shard-tag-${i}`).textContent());
    waiting += Number(await byTestId(page, `shard-count-${i}-waiting`).textContent());
    for (const state of ['delayed', 'active', 'completed', 'retrying', 'dead', 'held']) {
      assert.equal(await byTestId(page, `shard-count-${i}-${state}`).textContent(), '0', `shard ${i} ${state}`);
    }
  }
  assert.equal(tags[0], SHARDED);
  assert.ok(tags[1].startsWith(`${SHARDED}#1.`), `shard 1's tag ${tags[1]}`);
  assert.ok(tags[2].startsWith(`${SHARDED}#2.`), `shard 2's tag ${tags[2]}`);
  assert.equal(waiting, JOBS, 'the shards\' waiting jobs add up to the queue\'s');
  // The same as the API says, shard by shard.
  const {breakdown} = await stack.get(`/api/queues/${SHARDED}/shards`);
  assert.deepEqual(breakdown.map((s) => s.tag), tags);
  // One redis-server, no cluster: no shard has a master of its own to show.
  assert.deepEqual(breakdown.map((s) => s.master), [null, null, null]);
  for (let i = 0; i < 3; i++) await assertText(byTestId(page, `shard-master-${i}`), '—');
  for (const s of breakdown) {
    assert.equal(await byTestId(page, `shard-count-${s.shard}-waiting`).textContent(), String(s.counts.waiting));
  }
  await assertText(byTestId(page, 'shards-summary'), ' · 3 shards, counts of each');
  await assertText(byTestId(page, 'tab-count-waiting'), String(JOBS));
  assert.ok(requests.length >= 1);
  await shot(page, 'shards-queue');

  // A job removed elsewhere: the panel follows with the queue's next counts.
  await stack.call('DELETE', `/api/jobs/sharded-0?queue=${SHARDED}`);
  await assertText(byTestId(page, 'tab-count-waiting'), String(JOBS - 1));
  await eventually(async () => {
    let sum = 0;
    for (let i = 0; i < 3; i++) sum += Number(await byTestId(page, `shard-count-${i}-waiting`).textContent());
    return sum === JOBS - 1;
  }, 'the shards\' waiting jobs to add up to one fewer', UI_TIMEOUT_MS);
});

e2e('queue page: a read-only user sees the Shards panel too', async ({pages}) => {
  const page = await signedInPage(pages, USERS.read);
  await go(page, `#/queues/${SHARDED}`);
  await byTestId(page, 'shards-panel').waitFor();
  await eventually(async () => (await byTestId(page, 'shards-table').locator('tbody tr').count()) === 3,
    'the Shards table to have 3 rows', UI_TIMEOUT_MS);
});

e2e('queue page: an unsharded queue has no Shards panel and asks for no shards', async ({pages}) => {
  const page = await signedInPage(pages);
  const requests = watchShardRequests(page);
  await go(page, `#/queues/${PLAIN}`);
  await byTestId(page, 'queue-view').waitFor();
  await byTestId(page, 'job-row-plain-0').waitFor();
  await assertText(byTestId(page, 'tab-count-waiting'), '1');
  // Past a live `queues` event or two (at least every 5 s), each a refresh of the counts.
  await byTestId(page, 'live-status').and(page.locator('[data-state="live"]')).waitFor();
  await page.waitForTimeout(6000);
  assert.equal(await byTestId(page, 'shards-panel').isVisible(), false, 'no Shards panel');
  assert.deepEqual(requests, [], 'no request for the shards of an unsharded queue');
  await shot(page, 'shards-none');
});
