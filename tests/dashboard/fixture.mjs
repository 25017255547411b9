// The world the dashboard's browser tests run against: a real redis-server on a free loopback
// port, a real `taskq api` with an admin and a read-only dashboard user, a real `taskq worker`
// serving the `webhook` queue, the test worker (tests/system/test_worker_main.cc) serving the
// `stubborn` queue (and those a test file adds to `testWorkerQueues`), a webhook receiver whose
// answers the tests choose, and Debian's
// chromium (headless) driven by playwright-core. Everything is torn down by stop(), and the
// child processes also when this process exits some other way.
import {spawn, spawnSync} from 'node:child_process';
import {mkdtempSync, mkdirSync, rmSync} from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {chromium} from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
export const BASE = '/admin/queues';
export const USERS = {
  admin: {name: 'alice', password: 'alice-admin-password', role: 'admin'},
  read: {name: 'victor', password: 'victor-read-password', role: 'read'},
};
export const API_KEY = 'e2e-admin-token-0123456789';
// The test worker serves this queue; every other queue of the tests has no worker, so its jobs
// stay where the tests put them.
export const WORKER_QUEUE = 'webhook';
// The test worker serves this one, with handlers that ignore stop requests ("stubborn").
export const STUBBORN_QUEUE = 'stubborn';

const children = new Set();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// Polls fn until it returns a truthy value; throws with `what` after timeoutMs.
export async function eventually(fn, what, timeoutMs = 30000, intervalMs = 50) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${last})`);
    await sleep(intervalMs);
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const {port} = server.address();
      server.close(() => resolve(port));
    });
  });
}

function redisPing(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.setTimeout(500);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (d) => { socket.destroy(); resolve(d.toString().startsWith('+PONG')); });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => { socket.destroy(); resolve(false); });
  });
}

// A child process whose output is kept (and shown when the tests fail).
function launch(name, file, args) {
  const child = spawn(file, args, {stdio: ['ignore', 'pipe', 'pipe']});
  child.log = [];
  const keep = (chunk) => {
    child.log.push(chunk.toString());
    if (child.log.length > 400) child.log.splice(0, 100);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  child.exited = new Promise((resolve) => child.once('exit', (code, signal) => {
    children.delete(child);
    resolve({code, signal});
  }));
  child.label = name;
  children.add(child);
  return child;
}

async function terminate(child) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15000);
  await child.exited;
  clearTimeout(timer);
}

function hashPassword(taskq, password) {
  const out = spawnSync(taskq, ['hash-password'], {input: password + '\n', encoding: 'utf8', timeout: 120000});
  if (out.status !== 0) throw new Error(`taskq hash-password failed: ${out.stderr}`);
  return out.stdout.trim();
}

// Answers webhook jobs: POST /ok -> 200; POST /flaky/<key> -> 503 while the key is failing;
// POST /refuse -> 400 with `refuseBody`. GET /attack serves `attackPage` (another site's page).
class Receiver {
  constructor() {
    this.failing = new Set();
    this.refuseBody = 'refused';
    this.attackPage = '';
    this.server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => this.answer(req, res));
    });
  }

  answer(req, res) {
    const url = new URL(req.url, 'http://x');
    if (req.method === 'GET' && url.pathname === '/attack') {
      res.writeHead(200, {'Content-Type': 'text/html; charset=utf-8'});
      return res.end(this.attackPage);
    }
    if (url.pathname.startsWith('/flaky/') && this.failing.has(url.pathname.slice(7))) {
      res.writeHead(503, {'Content-Type': 'text/plain'});
      return res.end('receiver down for the test');
    }
    if (url.pathname === '/refuse') {
      res.writeHead(400, {'Content-Type': 'text/plain'});
      return res.end(this.refuseBody);
    }
    res.writeHead(200, {'Content-Type': 'application/json'});
    res.end('{"ok":true}');
  }

  async start() {
    await new Promise((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = this.server.address().port;
    this.url = `http://127.0.0.1:${this.port}`;
  }

  stop() {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(resolve));
  }
}

export class Stack {
  // options: {taskq, artifacts}
  constructor({taskq, testWorker, artifacts}) {
    this.taskq = taskq;
    this.testWorkerBinary = testWorker;
    this.artifacts = artifacts;
    this.dir = mkdtempSync(path.join(os.tmpdir(), 'taskq-dashboard-e2e-'));
    this.receiver = new Receiver();
    // More flags of `taskq worker`, set by a test file before the stack starts.
    this.workerFlags = [];
    // The queues the test worker serves ("name=concurrency"), likewise.
    this.testWorkerQueues = [`${STUBBORN_QUEUE}=1`];
  }

  async start() {
    mkdirSync(this.artifacts, {recursive: true});
    await this.receiver.start();

    this.redisPort = await freePort();
    this.redisUrl = `redis://127.0.0.1:${this.redisPort}`;
    this.redis = launch('redis-server', 'redis-server', [
      '--port', String(this.redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
      '--dir', this.dir]);
    await eventually(() => redisPing(this.redisPort), 'redis-server to answer PING');

    const users = Object.values(USERS).map((u) => `${u.name}:${u.role}:${hashPassword(this.taskq, u.password)}`);
    this.apiPort = await freePort();
    this.dashboardPort = await freePort();
    this.apiUrl = `http://127.0.0.1:${this.apiPort}`;
    this.origin = `http://127.0.0.1:${this.dashboardPort}`;
    this.dashboardUrl = `${this.origin}${BASE}/`;
    this.api = launch('taskq api', this.taskq, [
      '--redis-url', this.redisUrl, 'api', '--listen', `127.0.0.1:${this.apiPort}`,
      '--dashboard-listen', `127.0.0.1:${this.dashboardPort}`,
      ...users.flatMap((u) => ['--dashboard-user', u]),
      '--api-key', `admin:${API_KEY}`, '--job-types', '*']);
    await eventually(async () => {
      if (this.api.exitCode !== null) throw new Error('taskq api exited:\n' + this.api.log.join(''));
      return (await fetch(`${this.apiUrl}/healthz`)).ok;
    }, 'taskq api to answer /healthz', 60000);

    this.worker = launch('taskq worker', this.taskq, [
      // Its handlers run in handler processes (process isolation), as image-resize's do by default.
      '--redis-url', this.redisUrl, 'worker', '--queues', `${WORKER_QUEUE}=2:process`,
      '--webhook-allow', '127.0.0.1', '--webhook-ports', '*',
      '--data-dir', path.join(this.dir, 'data'), ...this.workerFlags]);
    await eventually(async () => {
      if (this.worker.exitCode !== null) throw new Error('taskq worker exited:\n' + this.worker.log.join(''));
      const {workers} = await this.get('/api/workers');
      return workers.some((w) => w.pid === this.worker.pid);
    }, 'the worker to show up in /api/workers', 60000);

    this.testWorker = launch('taskq_test_worker', this.testWorkerBinary, [
      this.redisUrl, this.testWorkerQueues.join(','), '2000', '1000']);
    await eventually(() => {
      if (this.testWorker.exitCode !== null) {
        throw new Error('taskq_test_worker exited:\n' + this.testWorker.log.join(''));
      }
      return this.testWorker.log.join('').includes('ready');
    }, 'the test worker to be ready', 60000);

    // No background traffic: the machine's network is closed, and the tests want none.
    this.browser = await chromium.launch({executablePath: CHROMIUM, headless: true, args: [
      '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync']});
  }

  async stop() {
    const steps = [
      () => this.browser?.close(),
      () => terminate(this.worker),
      () => terminate(this.testWorker),
      () => terminate(this.api),
      () => terminate(this.redis),
      () => this.receiver.stop(),
    ];
    for (const step of steps) {
      try {
        await step();
      } catch (e) {
        console.error('teardown:', e);
      }
    }
    rmSync(this.dir, {recursive: true, force: true});
  }

  logs() {
    return [this.api, this.worker, this.testWorker].filter(Boolean)
      .map((c) => `----- ${c.label} (pid ${c.pid})\n${c.log.join('').slice(-8000)}`).join('\n');
  }

  // The HTTP API with the admin key: parsed JSON, or throws with the status and body.
  async call(method, apiPath, body, headers = {}) {
    const response = await fetch(this.apiUrl + apiPath, {
      method,
      headers: {Authorization: `Bearer ${API_KEY}`, 'Content-Type': 'application/json', ...headers},
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${apiPath}: ${response.status} ${text}`);
    return text ? JSON.parse(text) : null;
  }

  get(apiPath) {
    return this.call('GET', apiPath);
  }

  enqueue(job) {
    return this.call('POST', '/api/jobs', job);
  }

  async stateOf(id, queue) {
    return (await this.get(`/api/jobs/${encodeURIComponent(id)}?queue=${encodeURIComponent(queue)}`)).state;
  }

  async counts(queue) {
    return (await this.get(`/api/queues/${encodeURIComponent(queue)}`)).counts;
  }
}
