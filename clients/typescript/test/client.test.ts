// Tests of the TypeScript client against a running taskq (test/run_against_taskq.py starts a
// redis-server, taskq api and taskq worker, and gives the API's URL in TASKQ_API_URL).
import {strict as assert} from 'node:assert';
import {readFileSync} from 'node:fs';
import {test} from 'node:test';

import {TaskqClient, TaskqError} from '../src/index.js';

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
