// End-to-end tests of the dashboard (docs/dashboard.md) in Debian's chromium, headless, against
// the real taskq binary, a real redis-server and a real worker (fixture.mjs).
// The harness (harness.mjs) starts them once for this file.
//
//   TASKQ_BINARY=build/taskq TASKQ_TEST_WORKER=build/tests/taskq_test_worker \
//     [TASKQ_ARTIFACTS=build/dashboard-artifacts] node --test tests/dashboard/dashboard.test.mjs
//
// Screenshots of every page go to TASKQ_ARTIFACTS.
import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import {BASE, USERS, WORKER_QUEUE, STUBBORN_QUEUE, eventually} from './fixture.mjs';
import {
  stack, whenStarted, e2e, openPage, allowFailedLoad, byTestId, shot, signedInPage, assertText, go, pageFetch,
  formatCount, waitForJob,
} from './harness.mjs';

// ----- seed: queues with jobs that no worker takes, so they stay put

const MATCH = 'user@example.com';
const mailIds = {match: [], other: []};

async function seed() {
  for (let i = 0; i < 7; i++) {
    const to = i % 2 === 0 ? MATCH : `other${i}@example.com`;
    const job = await stack.enqueue({type: 'notify', queue: 'mail', job_id: `mail-${i}`, data: {to, n: i}});
    (to === MATCH ? mailIds.match : mailIds.other).push(job.id);
  }
  await stack.enqueue({type: 'notify', queue: 'inbox', job_id: 'inbox-first', data: {}});
}
whenStarted(seed);

// ----- tests

e2e('login: a wrong password is refused with a message; the admin signs in and sees actions', async ({pages}) => {
  const page = await openPage(pages);
  allowFailedLoad(page, 401);
  await page.goto(stack.dashboardUrl);
  await byTestId(page, 'login-view').waitFor();
  assert.equal(await byTestId(page, 'nav-overview').isVisible(), false, 'no navigation before sign-in');
  await byTestId(page, 'login-username').fill(USERS.admin.name);
  await byTestId(page, 'login-password').fill('not the password');
  await byTestId(page, 'login-submit').click();
  await assertText(byTestId(page, 'login-error'), 'wrong user name, password or API key');
  await shot(page, 'login');
  assert.equal(await byTestId(page, 'overview').count(), 0);

  await byTestId(page, 'login-password').fill(USERS.admin.password);
  await byTestId(page, 'login-submit').click();
  await byTestId(page, 'overview').waitFor();
  await assertText(byTestId(page, 'session-user'), `${USERS.admin.name} · admin`);
  await byTestId(page, 'queue-link-mail').click();
  await byTestId(page, 'queue-view').waitFor();
  // The view shows before its page of jobs arrives (slowly under sanitizers): wait for the rows.
  await byTestId(page, `job-row-${mailIds.match[0]}`).waitFor();
  for (const id of ['action-pause', 'add-job-toggle', 'select-all', 'bulk-cancel', 'bulk-remove', `select-${mailIds.match[0]}`]) {
    assert.equal(await byTestId(page, id).isVisible(), true, `${id} is shown to an admin`);
  }
  await byTestId(page, 'sign-out').click();
  await byTestId(page, 'login-view').waitFor();
});

e2e('overview: the counts of every queue and state are those of GET /api/queues', async ({pages}) => {
  const page = await signedInPage(pages);
  const {queues} = await stack.get('/api/queues');
  const names = queues.map((q) => q.name);
  for (const name of ['mail', 'inbox', WORKER_QUEUE]) assert.ok(names.includes(name), `${name} is listed`);
  for (const q of queues) {
    await byTestId(page, `queue-row-${q.name}`).waitFor();
    for (const [state, n] of Object.entries(q.counts)) {
      assert.equal(await byTestId(page, `count-${q.name}-${state}`).textContent(), formatCount(n),
        `${q.name} ${state}`);
    }
  }
  // The dashboard's own B/api answers the same, with the page's cookie.
  const own = await pageFetch(page, 'GET', '/api/queues');
  assert.equal(own.status, 200);
  assert.deepEqual(own.body.queues.map((q) => [q.name, q.counts]), queues.map((q) => [q.name, q.counts]));
  assert.equal(await byTestId(page, `no-workers-mail`).textContent(), 'no workers');
  assert.equal(await byTestId(page, `workers-${WORKER_QUEUE}`).textContent(), '1');
  await byTestId(page, 'live-status').and(page.locator('[data-state="live"]')).waitFor();
  await shot(page, 'overview');
});

e2e('live: a job enqueued with curl appears on the open queue page and the overview without reload', async ({pages}) => {
  const page = await signedInPage(pages);
  const overview = await signedInPage(pages);
  await go(page, '#/queues/inbox?state=waiting');
  await byTestId(page, 'job-row-inbox-first').waitFor();
  await byTestId(page, 'live-status').and(page.locator('[data-state="live"]')).waitFor();
  await byTestId(overview, 'live-status').and(overview.locator('[data-state="live"]')).waitFor();
  const before = (await stack.counts('inbox')).waiting;
  await assertText(byTestId(overview, 'count-inbox-waiting'), formatCount(before));
  await assertText(byTestId(page, 'tab-count-waiting'), formatCount(before));
  const navigations = [];
  page.on('framenavigated', (frame) => { if (frame === page.mainFrame()) navigations.push(frame.url()); });

  const id = 'curl-live-1';
  // The moment the row is added, seen from inside the page (locator polling would add its own
  // delay to the figure).
  await page.evaluate((testid) => {
    window.rowShownAt = new Promise((resolve) => {
      new MutationObserver((_, observer) => {
        if (document.querySelector(`[data-testid="${testid}"]`)) {
          observer.disconnect();
          resolve(Date.now());
        }
      }).observe(document.body, {childList: true, subtree: true});
    });
  }, `job-row-${id}`);
  const started = Date.now();
  const curl = spawn('curl', ['-sS', '--fail-with-body', '-X', 'POST', `${stack.apiUrl}/api/jobs`,
    '-H', 'Content-Type: application/json', '-H', 'Authorization: Bearer e2e-admin-token-0123456789',
    '-d', JSON.stringify({type: 'notify', queue: 'inbox', job_id: id, data: {via: 'curl'}})],
  {stdio: ['ignore', 'pipe', 'inherit']});
  let answer = '';
  curl.stdout.on('data', (d) => { answer += d; });
  const code = await new Promise((resolve) => curl.on('exit', resolve));
  const answered = Date.now();
  assert.equal(code, 0, `curl failed: ${answer}`);
  assert.equal(JSON.parse(answer).id, id);

  await byTestId(page, `job-row-${id}`).waitFor();
  const shown = await page.evaluate(() => window.rowShownAt);
  await assertText(byTestId(page, 'tab-count-waiting'), formatCount(before + 1));
  await assertText(byTestId(overview, 'count-inbox-waiting'), formatCount(before + 1));
  const counted = Date.now();
  assert.deepEqual(navigations, [], 'the page did not reload');
  console.log(`live latency: job row shown ${shown - answered} ms after curl's answer ` +
    `(${shown - started} ms after curl started); overview count moved ${counted - answered} ms after it`);
  await shot(page, 'queue');
});

e2e('live: counts and the chart move as the worker completes jobs', async ({pages}) => {
  const page = await signedInPage(pages);
  await byTestId(page, 'live-status').and(page.locator('[data-state="live"]')).waitFor();
  const completed = (await stack.counts(WORKER_QUEUE)).completed;
  const ids = [];
  for (let i = 0; i < 5; i++) {
    ids.push((await stack.enqueue({type: 'webhook', queue: WORKER_QUEUE, data: {url: `${stack.receiver.url}/ok`}})).id);
  }
  for (const id of ids) await waitForJob(id, WORKER_QUEUE, 'completed');
  await assertText(byTestId(page, `count-${WORKER_QUEUE}-completed`), formatCount(completed + 5));
  // The API samples its rates every 5 s; the chart follows the queues events.
  await eventually(async () => {
    const value = await byTestId(page, 'chart-processed').locator('strong').textContent().catch(() => '');
    return Number(value) > 0;
  }, 'the chart to show a processed rate above 0', 60000, 200);
  assert.ok(await byTestId(page, 'throughput-svg').locator('polyline.line-processed, circle.dot-processed').count() > 0);
  assert.ok(Number(await byTestId(page, `processed-${WORKER_QUEUE}`).textContent()) > 0);
  // The mean wait of the jobs that started: a duration once the workers' timings are in.
  await eventually(async () => /\d+ (ms|s)/.test(await byTestId(page, `wait-${WORKER_QUEUE}`).textContent()),
    'the wait column to show a duration', 60000, 200);
  await shot(page, 'overview-chart');
});

e2e('retry: a dead job is retried from its page and its state turns completed live', async ({pages}) => {
  stack.receiver.failing.add('retry-me');
  const job = await stack.enqueue({type: 'webhook', queue: WORKER_QUEUE, job_id: 'retry-me', max_attempts: 1,
    data: {url: `${stack.receiver.url}/flaky/retry-me`}});
  await waitForJob(job.id, WORKER_QUEUE, 'dead');

  const page = await signedInPage(pages);
  await go(page, `#/queues/${WORKER_QUEUE}?state=dead`);
  await byTestId(page, `job-error-${job.id}`).waitFor();
  assert.match(await byTestId(page, `job-error-${job.id}`).textContent(), /answered 503/);
  await byTestId(page, `job-link-${job.id}`).click();
  await byTestId(page, 'job-view').waitFor();
  await assertText(byTestId(page, 'job-state'), 'dead');
  assert.match(await byTestId(page, 'job-error-message').textContent(), /receiver down for the test/);
  await shot(page, 'job-dead');

  stack.receiver.failing.delete('retry-me');
  await byTestId(page, 'action-retry').click();
  await assertText(byTestId(page, 'job-state'), 'completed');
  assert.equal(await stack.stateOf(job.id, WORKER_QUEUE), 'completed');
  assert.match(await byTestId(page, 'job-result').textContent(), /"status": 200/);
  assert.equal(await byTestId(page, 'action-retry').count(), 0, 'a completed job offers no retry');
  // "Retry: now waiting." is gone once the job moved on.
  await byTestId(page, 'action-result').waitFor({state: 'hidden'});
  await shot(page, 'job');
});

e2e('a job no live worker handles says so on its page, and its hand-backs are in its log', async ({pages}) => {
  // The worker serves this queue with the built-in types only: it hands a "notify" job back.
  const job = await stack.enqueue({type: 'notify', queue: WORKER_QUEUE, job_id: 'no-handler', data: {}});
  await waitForJob(job.id, WORKER_QUEUE, 'delayed');
  const page = await signedInPage(pages);
  await go(page, `#/jobs/${WORKER_QUEUE}/${job.id}`);
  await byTestId(page, 'job-view').waitFor();
  assert.match(await byTestId(page, 'job-no-live-handler').textContent(),
    new RegExp(`No live worker of queue ${WORKER_QUEUE} has a handler for type notify`));
  assert.match(await byTestId(page, 'job-log').last().textContent(),
    /^handed back \d+ time\(s\), due again in \d+ ms: no handler for job type 'notify' on worker /);
  await assertText(byTestId(page, 'job-attempts'), '0 of 3');
  await shot(page, 'job-no-live-handler');
  await stack.call('DELETE', `/api/jobs/${job.id}?queue=${WORKER_QUEUE}`);

  // A waiting job of a type the worker handles shows no such notice; its trace id, callback and
  // expiry are on its page.
  const trace = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
  const handled = await stack.call('POST', '/api/jobs', {type: 'webhook', queue: WORKER_QUEUE,
    job_id: 'handled-later', delay_ms: 600000, data: {url: `${stack.receiver.url}/ok`},
    callback_url: 'https://hooks.example.com/done', expires_at: '2100-01-01T00:00:00Z'},
  {traceparent: trace});
  await go(page, `#/jobs/${WORKER_QUEUE}/${handled.id}`);
  await assertText(byTestId(page, 'job-id'), handled.id);
  await assertText(byTestId(page, 'job-trace'), '4bf92f3577b34da6a3ce929d0e0e4736');
  await assertText(byTestId(page, 'job-callback'), 'https://hooks.example.com/done');
  await assertText(byTestId(page, 'job-expires'), '2100-01-01T00:00:00.000Z');
  await assertText(byTestId(page, 'job-state'), 'delayed');
  assert.equal(await byTestId(page, 'job-no-live-handler').count(), 0);
  await stack.call('DELETE', `/api/jobs/${handled.id}?queue=${WORKER_QUEUE}`);
});

e2e('a job past its timeout shows as overrunning on its page and its queue until its handler returns', async ({pages}) => {
  // The stubborn handler ignores the stop request: it runs 6 s past a 300 ms timeout.
  const job = await stack.enqueue({type: 'stubborn', queue: STUBBORN_QUEUE, timeout_ms: 300,
    max_attempts: 1, data: {ms: 6000}});
  await eventually(async () => (await stack.get(`/api/jobs/${job.id}?queue=${STUBBORN_QUEUE}`)).overrunning,
    'the job to be overrunning', 10000);
  const page = await signedInPage(pages);
  await go(page, `#/jobs/${STUBBORN_QUEUE}/${job.id}`);
  await byTestId(page, 'job-view').waitFor();
  await assertText(byTestId(page, 'job-state'), 'active');
  assert.match(await byTestId(page, 'job-overrunning').textContent(),
    /^This attempt passed its timeout of 300 ms .+ and its handler still runs\. It was asked to stop; the job is not retried until the handler returns\.$/);
  await shot(page, 'job-overrunning');
  await go(page, `#/queues/${STUBBORN_QUEUE}`);
  await assertText(byTestId(page, 'queue-overrunning'), '1 overrunning');
  await waitForJob(job.id, STUBBORN_QUEUE, 'dead');
  await go(page, `#/jobs/${STUBBORN_QUEUE}/${job.id}`);
  await assertText(byTestId(page, 'job-state'), 'dead');
  assert.equal(await byTestId(page, 'job-overrunning').count(), 0);
  assert.match(await byTestId(page, 'job-error-message').textContent(), /timed out after 300 ms; the handler returned after \d+ ms and its late result was discarded/);
});

e2e('bull board urls: a bookmarked queue or job of Bull Board opens the same view', async ({pages}) => {
  const page = await signedInPage(pages);
  await page.goto(`${stack.dashboardUrl}queue/mail?status=waiting`);
  await byTestId(page, `job-row-${mailIds.match[0]}`).waitFor();
  assert.equal(await byTestId(page, 'tab-waiting').getAttribute('aria-current'), 'page');
  await page.goto(`${stack.dashboardUrl}queue/mail/${mailIds.other[0]}`);
  await assertText(byTestId(page, 'job-id'), mailIds.other[0]);
});

e2e('search: a data field finds exactly the matching jobs among others', async ({pages}) => {
  const page = await signedInPage(pages);
  await go(page, '#/queues/mail?state=waiting');
  for (const id of [...mailIds.match, ...mailIds.other]) await byTestId(page, `job-row-${id}`).waitFor();
  await page.locator('details.search > summary').click();
  await byTestId(page, 'search-field').fill('to');
  await byTestId(page, 'search-value').fill(MATCH);
  await byTestId(page, 'search-submit').click();
  await assertText(byTestId(page, 'page-info'), `${mailIds.match.length} matching`);
  const rows = await byTestId(page, 'jobs-table').locator('tbody tr').evaluateAll(
    (trs) => trs.map((tr) => tr.dataset.testid));
  assert.deepEqual(rows.sort(), mailIds.match.map((id) => `job-row-${id}`).sort());
  assert.match(page.url(), /field=to&value=user%40example.com/);
  assert.match(await byTestId(page, 'search-scanned').textContent(), /Scanned 7 jobs \(all of them\)/);
  await shot(page, 'search');

  await byTestId(page, 'search-clear').click();
  await byTestId(page, `job-row-${mailIds.other[0]}`).waitFor();
});

e2e('XSS: markup in job data and in an error is shown as text and never runs', async ({pages}) => {
  const payload = '<img src=x onerror=alert(1)>';
  stack.receiver.refuseBody = `<script>alert(2)</script>${payload}`;
  const data = await stack.enqueue({type: 'notify', queue: 'mail', job_id: 'xss-data', data: {to: payload, html: payload}});
  const err = await stack.enqueue({type: 'webhook', queue: WORKER_QUEUE, job_id: 'xss-error', max_attempts: 1,
    data: {url: `${stack.receiver.url}/refuse`}});
  await waitForJob(err.id, WORKER_QUEUE, 'dead');

  const page = await signedInPage(pages);
  await go(page, `#/jobs/mail/${data.id}`);
  await byTestId(page, 'job-data').waitFor();
  assert.match(await byTestId(page, 'job-data').textContent(), /<img src=x onerror=alert\(1\)>/);
  const curl = await byTestId(page, 'job-curl').inputValue();
  assert.ok(curl.includes(payload));
  // This API wants keys: the command sends one from the shell, never the page's.
  assert.ok(curl.includes('-H "Authorization: Bearer $TASKQ_API_KEY"'), curl);
  assert.equal(await page.locator('main img, main script').count(), 0);
  await shot(page, 'xss-job-data');

  await go(page, `#/queues/mail?state=waiting&field=to&value=${encodeURIComponent(payload)}`);
  await byTestId(page, `job-row-${data.id}`).waitFor();
  assert.equal(await byTestId(page, 'search-value').inputValue(), payload);

  await go(page, `#/queues/${WORKER_QUEUE}?state=dead`);
  const cell = byTestId(page, `job-error-${err.id}`);
  await cell.waitFor();
  assert.match(await cell.textContent(), /answered 400: <script>alert\(2\)<\/scr/);
  assert.match(await cell.getAttribute('title'), /<script>alert\(2\)<\/script><img src=x onerror=alert\(1\)>/);
  assert.equal(await cell.isVisible(), true);
  await go(page, `#/jobs/${WORKER_QUEUE}/${err.id}`);
  await byTestId(page, 'job-error-message').waitFor();
  assert.match(await byTestId(page, 'job-error-message').textContent(), /<script>alert\(2\)<\/script><img src=x onerror=alert\(1\)>/);
  assert.equal(await page.locator('main img, main script').count(), 0);
  await shot(page, 'xss-job-error');
  // Any alert() would have opened a dialog: assertClean fails on page.dialogs.
});

e2e('CSRF: a change without the token, or from another site, is refused and changes nothing', async ({pages}) => {
  const page = await signedInPage(pages);
  allowFailedLoad(page, 403);
  const missing = await pageFetch(page, 'POST', '/api/queues/mail/pause');
  assert.equal(missing.status, 403);
  assert.equal(missing.body.code, 'csrf');
  const wrong = await pageFetch(page, 'POST', '/api/queues/mail/pause', {csrf: '0'.repeat(64)});
  assert.equal(wrong.status, 403);
  const removal = await pageFetch(page, 'POST', `/api/jobs/${mailIds.other[0]}/remove?queue=mail`);
  assert.equal(removal.status, 403);
  const signOut = await pageFetch(page, 'DELETE', '/session');
  assert.equal(signOut.status, 403);
  assert.equal((await stack.get('/api/queues/mail')).paused, false);
  assert.equal(await stack.stateOf(mailIds.other[0], 'mail'), 'waiting');
  // Still signed in: the refused sign-out did nothing.
  assert.equal((await pageFetch(page, 'GET', '/session')).body.user, USERS.admin.name);

  // Another site (localhost is not 127.0.0.1) posts a form and a fetch to the dashboard in the
  // same browser, where the admin is signed in.
  const target = `${stack.origin}${BASE}/api/queues/mail/pause`;
  stack.receiver.attackPage = `<!doctype html><form id="f" method="POST" action="${target}" enctype="text/plain">` +
    '<input name="x" value="y"></form>';
  const attack = await page.context().newPage();
  attack.on('console', () => {});
  await attack.goto(`http://localhost:${stack.receiver.port}/attack`);
  const fetched = await attack.evaluate(async (url) => {
    try {
      const r = await fetch(url, {method: 'POST', credentials: 'include', mode: 'no-cors', body: '{}'});
      return r.type;
    } catch (e) {
      return String(e);
    }
  }, target);
  assert.equal(fetched, 'opaque');
  const [response] = await Promise.all([
    attack.waitForResponse((r) => r.url() === target),
    attack.evaluate(() => document.getElementById('f').submit()),
  ]);
  assert.ok([401, 403].includes(response.status()), `the form post got ${response.status()}`);
  await attack.close();
  assert.equal((await stack.get('/api/queues/mail')).paused, false, 'no request paused the queue');
});

e2e('pause and resume from the queue page, shown at once by views opened next (not a stale snapshot)', async ({t, pages}) => {
  t.after(() => stack.call('POST', '/api/queues/mail/resume'));  // later tests need it running
  const page = await signedInPage(pages);
  await go(page, '#/queues/mail?state=waiting');
  await byTestId(page, 'action-pause').click();
  await byTestId(page, 'queue-paused').waitFor();
  assert.equal((await stack.get('/api/queues/mail')).paused, true);
  await assertText(byTestId(page, 'action-result'), 'mail is paused: workers claim nothing from it.');
  // A pause sends no job event, so the live snapshot the page holds says "not paused" until the
  // next periodic one (up to 5 s): each view asks the server anew when it opens.
  await Promise.all([
    page.waitForResponse((r) => new URL(r.url()).pathname === `${BASE}/api/queues`),
    go(page, '#/'),
  ]);
  await byTestId(page, 'paused-mail').waitFor();
  await shot(page, 'overview-paused');
  await Promise.all([
    page.waitForResponse((r) => new URL(r.url()).pathname === `${BASE}/api/queues/mail`),
    go(page, '#/queues/mail?state=waiting'),
  ]);
  await byTestId(page, 'action-resume').click();
  await byTestId(page, 'action-pause').waitFor();
  assert.equal(await byTestId(page, 'queue-paused').isVisible(), false);
  assert.equal((await stack.get('/api/queues/mail')).paused, false);
});

e2e('bulk: remove two selected jobs after confirming; the others stay', async ({pages}) => {
  const ids = [];
  for (let i = 0; i < 3; i++) ids.push((await stack.enqueue({type: 'notify', queue: 'bulk', job_id: `bulk-${i}`, data: {i}})).id);
  const page = await signedInPage(pages);
  await go(page, '#/queues/bulk?state=waiting');
  for (const id of ids) await byTestId(page, `job-row-${id}`).waitFor();
  assert.equal(await byTestId(page, 'bulk-remove').isDisabled(), true);
  await byTestId(page, `select-${ids[0]}`).check();
  await byTestId(page, `select-${ids[2]}`).check();
  await assertText(byTestId(page, 'selected-count'), '2 selected');
  await byTestId(page, 'bulk-remove').click();
  await byTestId(page, 'confirm-dialog').waitFor();
  assert.equal(await byTestId(page, 'confirm-title').textContent(), 'Remove 2 jobs?');
  await shot(page, 'bulk-confirm');
  // Cancel first: nothing happens.
  await byTestId(page, 'confirm-cancel').click();
  assert.equal((await stack.counts('bulk')).waiting, 3);
  await byTestId(page, 'bulk-remove').click();
  await byTestId(page, 'confirm-ok').click();
  await assertText(byTestId(page, 'action-result'), 'Remove: 2 done');
  await eventually(async () => (await byTestId(page, 'jobs-table').locator('tbody tr').count()) === 1, 'one row left');
  await byTestId(page, `job-row-${ids[1]}`).waitFor();
  assert.equal((await stack.counts('bulk')).waiting, 1);
  await assertText(byTestId(page, 'tab-count-waiting'), '1');
});

e2e('schedules: run now enqueues a job from the schedule', async ({pages}) => {
  await stack.call('POST', '/api/schedules', {id: 'nightly-report', cron: '0 3 * * *', tz: 'Europe/Berlin',
    type: 'report', queue: 'reports', data: {kind: 'nightly'}});
  const page = await signedInPage(pages);
  await byTestId(page, 'nav-schedules').click();
  await byTestId(page, 'schedule-row-nightly-report').waitFor();
  await assertText(byTestId(page, 'schedule-status-nightly-report').locator('.badge'), 'active');
  assert.equal(await byTestId(page, 'schedule-next-nightly-report').locator('time').count(), 3);
  await byTestId(page, 'schedule-run-nightly-report').click();
  await byTestId(page, 'action-result').getByText('Enqueued job').waitFor();
  const link = byTestId(page, 'action-result').locator('a');
  const id = await link.textContent();
  assert.equal(await stack.stateOf(id, 'reports'), 'waiting');
  assert.deepEqual((await stack.get(`/api/jobs/${id}?queue=reports`)).data, {kind: 'nightly'});
  await shot(page, 'schedules');
  await link.click();
  await byTestId(page, 'job-view').waitFor();
  await assertText(byTestId(page, 'job-id'), id);
});

e2e('workers: the worker process is listed with its pid and queue', async ({pages}) => {
  const page = await signedInPage(pages);
  await byTestId(page, 'nav-workers').click();
  await byTestId(page, 'workers-view').waitFor();
  const {workers} = await stack.get('/api/workers');
  const worker = workers.find((w) => w.pid === stack.worker.pid);
  assert.ok(worker, 'the API lists the worker');
  const row = byTestId(page, `worker-row-${worker.id}`);
  await row.waitFor();
  assert.equal(await row.locator('td').first().textContent(), String(stack.worker.pid));
  assert.match(await row.textContent(), new RegExp(`${WORKER_QUEUE} \\d+/2 running`));
  // Its queue runs in handler processes: both alive, on this page and the queue's.
  await assertText(byTestId(page, `worker-processes-${worker.id}-${WORKER_QUEUE}`),
    ', in 2/2 handler processes');
  await shot(page, 'workers');
  await go(page, `#/queues/${WORKER_QUEUE}?state=active`);
  await assertText(byTestId(page, 'queue-handler-processes'), '2 handler processes');
  assert.match(await byTestId(page, 'queue-handler-processes').getAttribute('title'),
    /^Handler processes started: \d+; stopped at a timeout: \d+/);
});

e2e('read-only user: no action buttons anywhere, and a forged change is refused with 403', async ({pages}) => {
  const page = await signedInPage(pages, USERS.read);
  allowFailedLoad(page, 403);
  await go(page, '#/queues/mail?state=waiting');
  await byTestId(page, `job-row-${mailIds.match[0]}`).waitFor();
  for (const id of ['action-pause', 'action-resume', 'add-job-toggle', 'select-all', `select-${mailIds.match[0]}`,
    'bulk-cancel', 'bulk-remove', 'clean-form']) {
    assert.equal(await byTestId(page, id).count(), 0, `${id} is not shown to a read-only user`);
  }
  await shot(page, 'readonly-queue');
  await go(page, `#/queues/${WORKER_QUEUE}?state=dead`);
  await byTestId(page, 'jobs-table').locator('tbody tr').first().waitFor();
  for (const id of ['bulk-retry', 'retry-all-dead', 'clean-form']) assert.equal(await byTestId(page, id).count(), 0, id);
  await go(page, `#/jobs/${WORKER_QUEUE}/xss-error`);
  await assertText(byTestId(page, 'job-state'), 'dead');
  for (const id of ['action-retry', 'action-remove', 'action-cancel', 'action-promote']) {
    assert.equal(await byTestId(page, id).count(), 0, `${id} is not shown to a read-only user`);
  }
  await shot(page, 'readonly-job');
  await go(page, '#/schedules');
  await byTestId(page, 'schedule-row-nightly-report').waitFor();
  assert.equal(await byTestId(page, 'schedule-run-nightly-report').count(), 0);
  assert.equal(await byTestId(page, 'schedule-pause-nightly-report').count(), 0);
  assert.equal(await byTestId(page, 'schedule-edit-nightly-report').count(), 0);
  assert.equal(await byTestId(page, 'schedule-create').count(), 0);

  const session = await pageFetch(page, 'GET', '/session');
  assert.equal(session.body.role, 'read');
  const forged = await pageFetch(page, 'POST', '/api/queues/mail/pause', {csrf: session.body.csrf});
  assert.equal(forged.status, 403);
  assert.notEqual(forged.body.code, 'csrf', 'refused for its role, not its token');
  const retry = await pageFetch(page, 'POST', `/api/jobs/xss-error/retry?queue=${WORKER_QUEUE}`, {csrf: session.body.csrf});
  assert.equal(retry.status, 403);
  assert.equal((await stack.get('/api/queues/mail')).paused, false);
  assert.equal(await stack.stateOf('xss-error', WORKER_QUEUE), 'dead');
});

e2e('secret fields: a reader sees them redacted, and copy as curl never carries them', async ({pages}) => {
  const secret = 'k3y-only-for-the-receiver';
  const job = await stack.enqueue({type: 'webhook', queue: WORKER_QUEUE, job_id: 'secret-headers',
    run_at: '2099-01-01T00:00:00Z', data: {url: `${stack.receiver.url}/ok`, headers: {'X-Api-Key': secret}}});

  const reader = await signedInPage(pages, USERS.read);
  await go(reader, `#/jobs/${WORKER_QUEUE}/${job.id}`);
  await byTestId(reader, 'job-data').waitFor();
  assert.match(await byTestId(reader, 'job-data').textContent(), /"X-Api-Key": "\[redacted\]"/);
  assert.ok(!(await reader.content()).includes(secret), 'the secret reaches no reader page');

  const admin = await signedInPage(pages);
  await go(admin, `#/jobs/${WORKER_QUEUE}/${job.id}`);
  await byTestId(admin, 'job-data').waitFor();
  assert.ok((await byTestId(admin, 'job-data').textContent()).includes(secret), 'an admin sees the data');
  const curl = await byTestId(admin, 'job-curl').inputValue();
  assert.ok(!curl.includes(secret), curl);
  assert.ok(curl.includes('"X-Api-Key":"[redacted]"'), curl);
  assert.match(await byTestId(admin, 'curl-secrets').textContent(), /data\.headers/);
  await shot(admin, 'secret-fields-curl');
});

e2e('phone width (375 px): the overview fits without horizontal page scrolling', async ({pages}) => {
  const page = await signedInPage(pages, USERS.admin, {viewport: {width: 375, height: 740}});
  await byTestId(page, 'queue-row-mail').waitFor();
  await byTestId(page, 'throughput-svg').waitFor();
  const overflow = () => page.evaluate(() => ({
    page: document.documentElement.scrollWidth - document.documentElement.clientWidth,
    body: document.body.scrollWidth - document.body.clientWidth,
  }));
  assert.deepEqual(await overflow(), {page: 0, body: 0}, 'overview');
  await shot(page, 'phone-overview');
  await go(page, '#/queues/mail?state=waiting');
  await byTestId(page, `job-row-${mailIds.match[0]}`).waitFor();
  assert.deepEqual(await overflow(), {page: 0, body: 0}, 'queue page');
  await shot(page, 'phone-queue');
  await go(page, `#/jobs/${WORKER_QUEUE}/xss-error`);
  await byTestId(page, 'job-error-message').waitFor();
  assert.deepEqual(await overflow(), {page: 0, body: 0}, 'job page');
  await shot(page, 'phone-job');
});
