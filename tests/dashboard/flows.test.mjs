// End-to-end tests of the dashboard's flow view and the flow panel of the job page
// (docs/dashboard.md, docs/workflows.md), in Debian's chromium against the real taskq binary, a
// real redis-server and the test worker, whose `gather` (a parent: returns what its children
// gave it), `echo` and `fail` handlers run the flows (harness.mjs starts them once for this file).
//
//   TASKQ_BINARY=build/taskq TASKQ_TEST_WORKER=build/tests/taskq_test_worker \
//     node --test tests/dashboard/flows.test.mjs
import assert from 'node:assert/strict';
import {STUBBORN_QUEUE, USERS} from './fixture.mjs';
import {
  stack, e2e, openPage, allowFailedLoad, signIn, signedInPage, byTestId, shot, assertText, go,
} from './harness.mjs';

// The test worker serves this queue too; the tests pause it to hold a flow where they want it.
const FLOW_QUEUE = 'flows';
stack.testWorkerQueues = [`${STUBBORN_QUEUE}=1`, `${FLOW_QUEUE}=2`];

function flowHash(flowId) {
  return `#/flows/${encodeURIComponent(flowId)}`;
}

async function pauseFlows() {
  await stack.call('POST', `/api/queues/${FLOW_QUEUE}/pause`);
}

async function resumeFlows() {
  await stack.call('POST', `/api/queues/${FLOW_QUEUE}/resume`);
}

// Three levels: root <- exports <- (users, orders), and root <- mail. `orders` fails for good; its
// policy `ignore` lets `exports` run anyway.
const REPORT = {
  flow_id: 'report',
  jobs: [
    {ref: 'root', type: 'gather', queue: FLOW_QUEUE},
    {ref: 'exports', parent: 'root', type: 'gather', queue: FLOW_QUEUE},
    {ref: 'users', parent: 'exports', type: 'echo', queue: FLOW_QUEUE, data: {table: 'users'}},
    {ref: 'orders', parent: 'exports', type: 'fail', queue: FLOW_QUEUE, on_failure: 'ignore'},
    {ref: 'mail', parent: 'root', type: 'echo', queue: FLOW_QUEUE, data: {to: 'ops'}},
  ],
};

// Events sent before the page's stream opened are not replayed to it, and the server starts
// reading the queues' event streams just after a first page's stream opens (the page shows
// "live" at the opening): a second lets the server's first read begin.
async function waitUntilLive(page) {
  await byTestId(page, 'live-status').and(page.locator('[data-state="live"]')).waitFor();
  await new Promise((resolve) => setTimeout(resolve, 1000));
}

async function assertNode(page, ref, state) {
  await byTestId(page, `flow-node-${ref}`).and(page.locator(`[data-state="${state}"]`)).waitFor();
  await assertText(byTestId(page, `flow-node-state-${ref}`), state);
}

e2e('flow view: the tree shows every job with its state, policy and children, and follows the flow live', async ({pages}) => {
  await pauseFlows();
  const submitted = await stack.call('POST', '/api/flows', REPORT);
  assert.equal(submitted.id, `${FLOW_QUEUE}:report`);
  assert.equal(submitted.created, true);

  const page = await signedInPage(pages);
  await go(page, flowHash(submitted.id));
  await byTestId(page, 'flow-view').waitFor();
  await assertText(byTestId(page, 'flow-state'), 'running');
  await assertText(byTestId(page, 'flow-jobs'), '5');
  await assertText(byTestId(page, 'flow-queue'), FLOW_QUEUE);
  for (const ref of ['root', 'exports']) await assertNode(page, ref, 'held');
  for (const ref of ['users', 'orders', 'mail']) await assertNode(page, ref, 'waiting');
  await assertText(byTestId(page, 'flow-node-join-root'), '0 of 2 children done');
  await assertText(byTestId(page, 'flow-node-join-exports'), '0 of 2 children done');
  await assertText(byTestId(page, 'flow-node-join-state-exports'), 'waiting');
  assert.equal(await byTestId(page, 'flow-node-join-users').count(), 0, 'a leaf has no children counts');
  await assertText(byTestId(page, 'flow-node-policy-root'), 'root');
  await assertText(byTestId(page, 'flow-node-policy-orders'), 'on failure: ignore');
  await assertText(byTestId(page, 'flow-node-policy-users'), 'on failure: fail');
  // The tree nests each job under its parent.
  const exports = byTestId(page, 'flow-node-exports');
  assert.equal(await exports.getByTestId('flow-node-users', {exact: true}).count(), 1);
  assert.equal(await exports.getByTestId('flow-node-orders', {exact: true}).count(), 1);
  assert.equal(await exports.getByTestId('flow-node-mail', {exact: true}).count(), 0);
  assert.equal(await byTestId(page, 'flow-node-root').getByTestId('flow-node-mail', {exact: true}).count(), 1);
  for (const ref of ['root', 'exports', 'users', 'orders', 'mail']) {
    assert.equal(await byTestId(page, `flow-node-link-${ref}`).getAttribute('href'),
      `#/jobs/${FLOW_QUEUE}/report.${ref}`);
  }
  assert.equal(await byTestId(page, 'flow-node-cancelled-orders').count(), 0);
  await shot(page, 'flow-held');

  // What follows must come from the live events: the page is not loaded again.
  await page.evaluate(() => { window.flowTestMarker = 'same page'; });
  await waitUntilLive(page);
  await resumeFlows();
  await assertText(byTestId(page, 'flow-state'), 'completed');
  for (const ref of ['root', 'exports', 'users', 'mail']) await assertNode(page, ref, 'completed');
  await assertNode(page, 'orders', 'dead');
  await assertText(byTestId(page, 'flow-node-join-exports'), '1 of 2 children done, 1 dead');
  await assertText(byTestId(page, 'flow-node-join-root'), '2 of 2 children done');
  await assertText(byTestId(page, 'flow-node-join-state-root'), 'released');
  assert.equal(await page.evaluate(() => window.flowTestMarker), 'same page');
  assert.equal((await stack.get(`/api/flows/${submitted.id}`)).state, 'completed');
  await shot(page, 'flow-completed');
});

e2e('job page: a job of a flow links its flow, its parent and its children, with their states', async ({pages}) => {
  const flowId = `${FLOW_QUEUE}:report`;
  const page = await signedInPage(pages);
  await go(page, flowHash(flowId));
  await byTestId(page, 'flow-node-link-exports').click();
  await assertText(byTestId(page, 'job-id'), 'report.exports');
  await byTestId(page, 'job-flow').waitFor();
  assert.equal(await byTestId(page, 'job-flow-link').getAttribute('href'), flowHash(flowId));
  await assertText(byTestId(page, 'job-flow-ref'), 'exports');
  await assertText(byTestId(page, 'job-flow-policy'), 'fail');
  assert.equal(await byTestId(page, 'job-flow-parent').getAttribute('href'), `#/jobs/${FLOW_QUEUE}/report.root`);
  await assertText(byTestId(page, 'job-flow-parent-state'), 'completed');
  await assertText(byTestId(page, 'job-flow-join'), '1 of 2 children done, 1 dead');
  await assertText(byTestId(page, 'job-flow-child-state-users'), 'completed');
  await assertText(byTestId(page, 'job-flow-child-state-orders'), 'dead');
  assert.equal(await byTestId(page, 'job-flow-child-users').getAttribute('href'), `#/jobs/${FLOW_QUEUE}/report.users`);
  await shot(page, 'job-flow-parent');

  await byTestId(page, 'job-flow-child-users').click();
  await assertText(byTestId(page, 'job-id'), 'report.users');
  await assertText(byTestId(page, 'job-flow-parent'), 'exports');
  assert.equal(await byTestId(page, 'job-flow-join').count(), 0, 'a leaf has no children');

  await go(page, `#/jobs/${FLOW_QUEUE}/report.root`);
  await assertText(byTestId(page, 'job-id'), 'report.root');
  await assertText(byTestId(page, 'job-flow-parent'), 'none: the root');
  await assertText(byTestId(page, 'job-flow-child-state-mail'), 'completed');
  await byTestId(page, 'job-flow-link').click();
  await byTestId(page, 'flow-view').waitFor();
  await assertText(byTestId(page, 'flow-id'), 'report');

  // A job not in a flow has no flow panel.
  const lone = await stack.enqueue({type: 'notify', queue: 'lone', data: {}});
  await go(page, `#/jobs/lone/${lone.id}`);
  await assertText(byTestId(page, 'job-id'), lone.id);
  assert.equal(await byTestId(page, 'job-flow').count(), 0);
});

e2e("job page: a parent's children change state live on its flow panel", async ({pages}) => {
  await pauseFlows();
  const submitted = await stack.call('POST', '/api/flows', {chain: [
    {type: 'echo', queue: FLOW_QUEUE, data: {step: 1}},
    {type: 'gather', queue: FLOW_QUEUE},
  ], flow_id: 'digest'});
  const page = await signedInPage(pages);
  await go(page, `#/jobs/${FLOW_QUEUE}/digest.step2`);
  await byTestId(page, 'job-flow').waitFor();
  await assertText(byTestId(page, 'job-state'), 'held');
  await assertText(byTestId(page, 'job-flow-join'), '0 of 1 child done');
  await assertText(byTestId(page, 'job-flow-child-state-step1'), 'waiting');
  await waitUntilLive(page);
  await resumeFlows();
  await assertText(byTestId(page, 'job-flow-child-state-step1'), 'completed');
  await assertText(byTestId(page, 'job-state'), 'completed');
  await assertText(byTestId(page, 'job-flow-join'), '1 of 1 child done');
  assert.equal((await stack.get(`/api/flows/${submitted.id}`)).state, 'completed');
});

e2e('flow view: an unknown flow says so', async ({pages}) => {
  const page = await openPage(pages);
  allowFailedLoad(page, 404);
  await signIn(page, USERS.admin);
  await go(page, flowHash(`${FLOW_QUEUE}:never-submitted`));
  await byTestId(page, 'flow-missing').waitFor();
  assert.match(await byTestId(page, 'flow-missing').textContent(), /No flow "flows:never-submitted"/);
});
