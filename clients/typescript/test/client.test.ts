// Tests of the TypeScript client against a running taskq (test/run_against_taskq.py starts a
// redis-server, taskq api and taskq worker, and gives the API's URL in TASKQ_API_URL).
import {strict as assert} from 'node:assert';
import {readFileSync} from 'node:fs';
import {test} from 'node:test';

import {TaskqClient, TaskqError, type BatchJobBody, type FlowJob} from '../src/index.js';

const url = process.env.TASKQ_API_URL;
if (!url) throw new Error('TASKQ_API_URL is not set: run test/run_against_taskq.py');
const client = new TaskqClient(url);

test("the README's example enqueues the quick-start job and it completes", async () => {
  const job = await client.enqueue('email', {to: 'user@example.com', subject: 'Hello'});
  assert.deepEqual([job.queue, job.state, job.created], ['email', 'waiting', true]);
  const done = await client.wait(job.id, {queue: job.queue, timeoutMs: 15000});
  assert.equal(done.state, 'completed');
  const result = done.result as {delivery: string; path: string};
  assert.equal(result.delivery, 'outbox');
  assert.match(readFileSync(result.path, 'utf8'), /Subject: Hello/);
  assert.equal((await client.getJob(job.id)).id, job.id);
  assert.ok((await client.queues()).some((q) => q.name === 'email'));
});

test('options, idempotency and the trace reach the API', async () => {
  const trace = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
  const data = {to: 'a@example.com', subject: 'Later'};
  const first = await client.enqueue('email', data,
      {delay_ms: 600000, priority: -3, idempotencyKey: 'ts-order-1', traceparent: trace});
  assert.deepEqual([first.id, first.state], ['ts-order-1', 'delayed']);
  const again = await client.enqueue('email', data, {delay_ms: 600000, priority: -3, idempotencyKey: 'ts-order-1'});
  assert.equal(again.created, false);
  const stored = await client.getJob('ts-order-1', 'email');
  assert.deepEqual([stored.priority, stored.options.traceparent], [-3, trace]);
  assert.equal((await client.promote('ts-order-1', 'email')).state, 'waiting');
  assert.equal((await client.wait('ts-order-1', {timeoutMs: 15000})).state, 'completed');
  const bulk = await client.enqueueBulk([0, 1, 2].map((i) => ({type: 'email', data: {to: 'b@example.com', subject: `${i}`}})));
  assert.deepEqual(bulk.map((b) => b.created), [true, true, true]);
});

test('errors carry the status, code and field', async () => {
  await assert.rejects(client.enqueue('email', {to: 'not an address', subject: 'x'}), (e: unknown) => {
    assert.ok(e instanceof TaskqError);
    assert.deepEqual([e.status, e.code, e.field], [422, 'invalid_field', 'data.to']);
    assert.ok(e.message.includes('data.to'));
    assert.deepEqual(e.errors.map((x) => x.field), ['data.to']);
    return true;
  });
  await assert.rejects(client.getJob('no-such-job', 'email'), (e: unknown) => e instanceof TaskqError && e.status === 404);
  await assert.rejects(client.pause('no-such-queue'), (e: unknown) => e instanceof TaskqError && e.field === 'queue');
  await client.enqueue('email', {to: 'c@example.com', subject: 'x'}, {delay_ms: 600000});
  assert.equal((await client.pause('email')).paused, true);
  assert.equal((await client.resume('email')).paused, false);
});

test('a flow is submitted, read, and its parent runs after its children', async () => {
  const mail = (ref: string, extra: Partial<FlowJob> = {}): FlowJob =>
    ({ref, type: 'email', data: {to: `${ref}@example.com`, subject: ref}, ...extra});
  const jobs = [mail('digest'), mail('eu', {parent: 'digest'}), mail('us', {parent: 'digest', on_failure: 'continue'})];
  const submitted = await client.submitFlow({jobs}, {idempotencyKey: 'ts-flow-1'});
  assert.deepEqual([submitted.id, submitted.created], ['email:ts-flow-1', true]);
  assert.deepEqual(submitted.jobs.map((j) => j.id), ['ts-flow-1.digest', 'ts-flow-1.eu', 'ts-flow-1.us']);
  assert.equal(submitted.jobs[0].state, 'held');
  assert.equal((await client.submitFlow({jobs}, {idempotencyKey: 'ts-flow-1'})).created, false);

  const root = await client.wait('ts-flow-1.digest', {queue: 'email', timeoutMs: 15000});
  assert.equal(root.state, 'completed');
  const flow = await client.getFlow(submitted.id);
  assert.equal(flow.state, 'completed');
  const us = flow.jobs.find((j) => j.ref === 'us');
  assert.deepEqual([us?.parent, us?.on_failure], ['digest', 'continue']);
  assert.equal(flow.jobs.find((j) => j.ref === 'digest')?.children?.completed, 2);
  for (const ref of ['eu', 'us']) {
    const child = await client.getJob(`ts-flow-1.${ref}`);
    assert.ok((child.finished_ms as number) <= (root.started_ms as number), `${ref} finished first`);
  }
});

test('a chain runs in order, and a flow is cancelled', async () => {
  const chain = [1, 2].map((n) => ({type: 'email', data: {to: 'c@example.com', subject: `${n}`}}));
  const submitted = await client.submitFlow({flow_id: 'ts-chain', chain});
  assert.deepEqual(submitted.jobs.map((j) => j.ref), ['step1', 'step2']);
  const last = await client.wait('ts-chain.step2', {queue: 'email', timeoutMs: 15000});
  assert.equal(last.state, 'completed');
  assert.ok(((await client.getJob('ts-chain.step1')).finished_ms as number) <= (last.started_ms as number));

  // Paused, the queue leaves the flow waiting until it is cancelled.
  await client.pause('email');
  try {
    const held = await client.submitFlow({flow_id: 'ts-held', jobs: [
      {ref: 'root', type: 'email', data: {to: 'p@example.com', subject: 'r'}},
      {ref: 'leaf', parent: 'root', type: 'email', data: {to: 'p@example.com', subject: 'l'}}]});
    assert.deepEqual(await client.cancelFlow(held.id), {id: 'email:ts-held', outcome: 'cancelled'});
  } finally {
    await client.resume('email');
  }
  const flow = await client.getFlow('email:ts-held');
  assert.equal(flow.state, 'dead');
  assert.deepEqual(flow.jobs.map((j) => [j.ref, j.state, j.cancelled]), [['leaf', 'dead', true], ['root', 'dead', true]]);
  await assert.rejects(client.cancelFlow('email:ts-held'), (e: unknown) => e instanceof TaskqError && e.status === 409);
  await assert.rejects(client.getFlow('email:no-such-flow'), (e: unknown) => e instanceof TaskqError && e.status === 404);
});

test('an open batch takes additions and runs its callback once closed', async () => {
  const mail = (subject: string): BatchJobBody => ({type: 'email', data: {to: 'feed@example.com', subject}});
  const submitted = await client.submitBatch({batch_id: 'ts-feed', open: true, jobs: [mail('page 0')],
                                              on_complete: mail('summary')});
  assert.deepEqual([submitted.id, submitted.queue, submitted.state, submitted.created],
                   ['email:ts-feed', 'email', 'open', true]);
  assert.deepEqual(submitted.jobs, [{id: 'ts-feed.0'}]);
  assert.deepEqual([submitted.on_complete, submitted.on_success], [{id: 'ts-feed.on_complete'}, null]);
  assert.equal((await client.submitBatch({batch_id: 'ts-feed', open: true, jobs: [mail('page 0')]})).created, false);

  const added = await client.addToBatch('email:ts-feed', {addition_id: 'more', jobs: [mail('page 1'), mail('page 2')]});
  assert.deepEqual([added.addition_id, added.created], ['more', true]);
  assert.deepEqual(added.jobs.map((j) => j.id), ['ts-feed.more-0', 'ts-feed.more-1']);
  assert.equal((await client.addToBatch('email:ts-feed', {addition_id: 'more', jobs: [mail('page 1')]})).created, false);
  for (const member of ['ts-feed.0', 'ts-feed.more-0', 'ts-feed.more-1']) {
    assert.equal((await client.wait(member, {queue: 'email', timeoutMs: 15000})).state, 'completed', member);
  }

  // Every member has completed, but an open batch holds its callback until the close.
  let batch = await client.getBatch('email:ts-feed');
  assert.deepEqual([batch.state, batch.total, batch.pending, batch.completed, batch.dead], ['open', 3, 0, 3, 0]);
  assert.equal(batch.on_complete?.state, 'held');
  assert.deepEqual((await client.getJob('ts-feed.0', 'email')).batch,
                   {id: 'email:ts-feed', role: 'member', links: {batch: '/api/batches/email:ts-feed'}});

  assert.deepEqual(await client.closeBatch('email:ts-feed'), {id: 'email:ts-feed', outcome: 'closed'});
  const callback = await client.wait('ts-feed.on_complete', {queue: 'email', timeoutMs: 15000});
  assert.equal(callback.state, 'completed');
  batch = await client.getBatch('email:ts-feed');
  assert.deepEqual([batch.state, batch.cancelled, batch.on_complete?.state], ['finished', false, 'completed']);
  assert.ok(batch.finished_ms !== null);
  assert.equal((await client.closeBatch('email:ts-feed')).outcome, 'already_closed');
  await assert.rejects(client.addToBatch('email:ts-feed', {jobs: [mail('late')]}),
                       (e: unknown) => e instanceof TaskqError && e.status === 409 && e.code === 'batch_finished');
});

test('a batch is cancelled, and its errors name the field', async () => {
  // Delayed, the members wait until the batch is cancelled.
  const member: BatchJobBody = {type: 'email', data: {to: 'b@example.com', subject: 'member'}, delay_ms: 600000};
  const submitted = await client.submitBatch(
      {jobs: [member, member], on_success: {type: 'email', data: {to: 'b@example.com', subject: 'all sent'}}},
      {idempotencyKey: 'ts-cancelled'});
  assert.deepEqual([submitted.id, submitted.state], ['email:ts-cancelled', 'running']);
  assert.deepEqual(await client.cancelBatch(submitted.id), {id: 'email:ts-cancelled', outcome: 'cancelled'});
  const batch = await client.getBatch('email:ts-cancelled');
  assert.deepEqual([batch.state, batch.cancelled, batch.total, batch.dead], ['finished', true, 2, 2]);
  assert.deepEqual(batch.on_success, {id: 'ts-cancelled.on_success', state: 'dead', cancelled: true});
  assert.equal(batch.on_complete, null);
  await assert.rejects(client.cancelBatch('email:ts-cancelled'),
                       (e: unknown) => e instanceof TaskqError && e.status === 409 && e.code === 'batch_finished');

  await assert.rejects(client.getBatch('email:no-such-batch'), (e: unknown) => e instanceof TaskqError && e.status === 404);
  await assert.rejects(client.closeBatch('email:no-such-batch'), (e: unknown) => e instanceof TaskqError && e.status === 404);
  await assert.rejects(client.submitBatch({batch_id: 'ts-refused', jobs: [member, {...member, queue: 'other'}]}),
                       (e: unknown) => {
                         assert.ok(e instanceof TaskqError);
                         assert.deepEqual([e.status, e.code, e.field], [422, 'invalid_field', 'jobs[1].queue']);
                         return true;
                       });
  await assert.rejects(client.getBatch('email:ts-refused'), (e: unknown) => e instanceof TaskqError && e.status === 404,
                       'a refused batch writes nothing');
});
