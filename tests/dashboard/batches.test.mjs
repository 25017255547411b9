// End-to-end tests of the dashboard's batch view (#/batches/{id}, docs/workflows.md "Batches") in
// Debian's chromium against the real taskq binary and a real redis-server (harness.mjs starts
// them once for this file). The batches go to a queue no worker serves, so that only the test
// moves their jobs (by cancelling them through the API): each move is a live event.
//
//   TASKQ_BINARY=build/taskq TASKQ_TEST_WORKER=build/tests/taskq_test_worker \
//     node --test tests/dashboard/batches.test.mjs
import assert from 'node:assert/strict';
import {stack, e2e, signedInPage, allowFailedLoad, byTestId, shot, assertText, go} from './harness.mjs';

const QUEUE = 'parked-batches';

function job(type = 'notify') {
  return {type, queue: QUEUE, data: {}};
}

e2e('batch: progress, counts and callbacks, refreshed live as its jobs move', async ({pages}) => {
  const created = await stack.call('POST', '/api/batches', {
    batch_id: 'nightly', jobs: [job(), job(), job(), job()], on_complete: job('summary'),
    on_success: job('publish')});
  const id = created.id;
  assert.equal(id, `${QUEUE}:nightly`);
  const page = await signedInPage(pages);
  await go(page, `#/batches/${encodeURIComponent(id)}`);
  await byTestId(page, 'batch-view').waitFor();
  await assertText(byTestId(page, 'batch-id'), id);
  await assertText(byTestId(page, 'batch-state'), 'running');
  await assertText(byTestId(page, 'batch-total'), '4');
  await assertText(byTestId(page, 'batch-pending'), '4');
  await assertText(byTestId(page, 'batch-progress-text'), '0 of 4 settled');
  assert.equal(await byTestId(page, 'batch-progress').getAttribute('value'), '0');
  assert.equal(await byTestId(page, 'batch-progress').getAttribute('max'), '4');
  await assertText(byTestId(page, 'batch-callback-state-on_complete'), 'held');
  await assertText(byTestId(page, 'batch-callback-state-on_success'), 'held');
  assert.equal(await byTestId(page, 'batch-callback-link-on_complete').getAttribute('href'),
    `#/jobs/${QUEUE}/nightly.on_complete`);
  await byTestId(page, 'live-status').and(page.locator('[data-state="live"]')).waitFor();
  await shot(page, 'batch-running');

  // A member cancelled elsewhere: the live event names it, and the view follows without a reload.
  await stack.call('DELETE', `/api/jobs/nightly.2?queue=${QUEUE}`);
  await assertText(byTestId(page, 'batch-dead'), '1');
  await assertText(byTestId(page, 'batch-pending'), '3');
  await assertText(byTestId(page, 'batch-progress-text'), '1 of 4 settled');
  assert.equal(await byTestId(page, 'batch-progress').getAttribute('value'), '1');
  // Its death cancelled on_success at once.
  await assertText(byTestId(page, 'batch-callback-state-on_success'), 'dead');
  await byTestId(page, 'batch-callback-cancelled-on_success').waitFor();
  assert.equal(await byTestId(page, 'batch-callback-cancelled-on_complete').count(), 0);

  // The whole batch cancelled: finished, every callback dead.
  await stack.call('DELETE', `/api/batches/${encodeURIComponent(id)}`);
  await assertText(byTestId(page, 'batch-state'), 'finished');
  await byTestId(page, 'batch-cancelled').waitFor();
  await assertText(byTestId(page, 'batch-dead'), '4');
  await assertText(byTestId(page, 'batch-progress-text'), '4 of 4 settled');
  await assertText(byTestId(page, 'batch-callback-state-on_complete'), 'dead');
  await shot(page, 'batch-cancelled');

  // The callback's link opens its job.
  await byTestId(page, 'batch-callback-link-on_complete').click();
  await assertText(byTestId(page, 'job-id'), 'nightly.on_complete');
});

e2e('batch: an open batch without callbacks, and one that does not exist', async ({pages}) => {
  await stack.call('POST', '/api/batches', {batch_id: 'feed', open: true, jobs: [job()]});
  const page = await signedInPage(pages);
  await go(page, `#/batches/${QUEUE}:feed`);
  await assertText(byTestId(page, 'batch-state'), 'open');
  await assertText(byTestId(page, 'batch-progress-text'), '0 of 1 settled');
  await assertText(byTestId(page, 'batch-callback-on_complete'), 'on_completenone');
  // An addition is a live event naming the new members: the view counts them.
  await stack.call('POST', `/api/batches/${QUEUE}:feed/jobs`, {addition_id: 'p1', jobs: [job(), job()]});
  await assertText(byTestId(page, 'batch-total'), '3');
  await assertText(byTestId(page, 'batch-pending'), '3');

  allowFailedLoad(page, 404);
  await go(page, `#/batches/${QUEUE}:no-such-batch`);
  await byTestId(page, 'batch-missing').waitFor();
});

e2e("job page: a batch's member and callback link their batch and name their role", async ({pages}) => {
  const created = await stack.call('POST', '/api/batches', {
    batch_id: 'linked', jobs: [job(), job()], on_success: job('publish')});
  const id = created.id;
  const page = await signedInPage(pages);
  await go(page, `#/jobs/${QUEUE}/linked.1`);
  await assertText(byTestId(page, 'job-id'), 'linked.1');
  await byTestId(page, 'job-batch').waitFor();
  await assertText(byTestId(page, 'job-batch-link'), id);
  assert.equal(await byTestId(page, 'job-batch-link').getAttribute('href'), `#/batches/${encodeURIComponent(id)}`);
  await assertText(byTestId(page, 'job-batch-role'), 'member');
  assert.equal(await byTestId(page, 'job-flow').count(), 0, 'a batch member is not in a flow');
  await shot(page, 'job-batch-member');

  await go(page, `#/jobs/${QUEUE}/linked.on_success`);
  await assertText(byTestId(page, 'job-id'), 'linked.on_success');
  await assertText(byTestId(page, 'job-batch-role'), 'on_success');
  await byTestId(page, 'job-batch-link').click();
  await byTestId(page, 'batch-view').waitFor();
  await assertText(byTestId(page, 'batch-id'), id);
  await assertText(byTestId(page, 'batch-total'), '2');

  // A job enqueued on its own has no batch panel.
  const lone = await stack.enqueue({type: 'notify', queue: QUEUE, data: {}});
  await go(page, `#/jobs/${QUEUE}/${lone.id}`);
  await assertText(byTestId(page, 'job-id'), lone.id);
  assert.equal(await byTestId(page, 'job-batch').count(), 0);
});
