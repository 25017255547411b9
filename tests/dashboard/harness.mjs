// What every browser test file of the dashboard shares: one Stack (fixture.mjs) started before
// the file's tests and stopped after them, the e2e() test wrapper that fails on console errors
// and CSP violations and keeps screenshots of failures, and the helpers that drive a page.
//
// Each *.test.mjs file runs in its own process (node --test), so each gets its own Stack.
import {test, before, after} from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {Stack, USERS, BASE, eventually} from './fixture.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const taskq = process.env.TASKQ_BINARY;
if (!taskq) throw new Error('set TASKQ_BINARY to the taskq binary');
const artifacts = process.env.TASKQ_ARTIFACTS || path.resolve(here, '../../build/dashboard-artifacts');

// Generous: under AddressSanitizer the binary is several times slower.
export const UI_TIMEOUT_MS = 30000;

const testWorker = process.env.TASKQ_TEST_WORKER;
if (!testWorker) throw new Error('set TASKQ_TEST_WORKER to the taskq_test_worker binary');
export const stack = new Stack({taskq, testWorker, artifacts});
let failed = false;

const setups = [];

// fn runs once the stack is up, before the file's first test (a file's seed data).
export function whenStarted(fn) {
  setups.push(fn);
}

before(async () => {
  await stack.start();
  for (const fn of setups) await fn();
}, {timeout: 180000});

after(async () => {
  if (failed) console.log(stack.logs());
  await stack.stop();
}, {timeout: 60000});

// Runs fn as a test; on failure the server logs are printed at the end. Every page's console
// errors, uncaught exceptions and Content-Security-Policy violations fail the test that opened
// it, except the failed loads a test provokes on purpose (allowFailedLoad).
export function e2e(name, fn) {
  test(name, {timeout: 180000}, async (t) => {
    const pages = [];
    try {
      await fn({t, pages});
      for (const page of pages) assertClean(page);
    } catch (e) {
      failed = true;
      for (const page of pages) {
        await page.screenshot({path: path.join(artifacts, `FAILED-${slug(name)}-${pages.indexOf(page)}.png`), fullPage: true})
          .catch(() => {});
      }
      throw e;
    } finally {
      for (const page of pages) await page.context().close().catch(() => {});
    }
  });
}

function slug(text) {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, '-').slice(0, 60);
}

// A page in a context of its own (its own cookies), with its console watched.
export async function openPage(pages, {viewport = {width: 1280, height: 900}} = {}) {
  const context = await stack.browser.newContext({viewport});
  context.setDefaultTimeout(UI_TIMEOUT_MS);
  // Init scripts run outside the page's CSP: this one reports every violation to the console.
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI}`);
    });
  });
  const page = await context.newPage();
  page.problems = [];
  page.allowed = [];
  page.dialogs = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') page.problems.push(`console error: ${msg.text()} (${msg.location().url})`);
  });
  page.on('pageerror', (error) => page.problems.push(`uncaught: ${error.message}`));
  page.on('dialog', (dialog) => {
    page.dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    dialog.dismiss().catch(() => {});
  });
  pages.push(page);
  return page;
}

// Chromium logs every failed resource load as a console error; a test that provokes one on
// purpose names its status here.
export function allowFailedLoad(page, status) {
  page.allowed.push(new RegExp(`Failed to load resource: the server responded with a status of ${status}\\b`));
}

function assertClean(page) {
  const unexpected = page.problems.filter((p) => !page.allowed.some((re) => re.test(p)));
  assert.deepEqual(unexpected, [], `console errors or CSP violations on ${page.url()}`);
  assert.deepEqual(page.dialogs, [], `dialogs opened on ${page.url()}`);
}

export const byTestId = (page, id) => page.getByTestId(id, {exact: true});

export async function shot(page, name) {
  await page.screenshot({path: path.join(artifacts, `${name}.png`), fullPage: true});
}

export async function signIn(page, who) {
  await page.goto(stack.dashboardUrl);
  await byTestId(page, 'login-view').waitFor();
  await byTestId(page, 'login-username').fill(who.name);
  await byTestId(page, 'login-password').fill(who.password);
  await byTestId(page, 'login-submit').click();
  await byTestId(page, 'overview').waitFor();
  await assertText(byTestId(page, 'session-user'), `${who.name} · ${who.role}`);
}

export async function signedInPage(pages, who = USERS.admin, options) {
  const page = await openPage(pages, options);
  await signIn(page, who);
  return page;
}

export async function assertText(locator, text) {
  await eventually(async () => (await locator.textContent()) === text,
    `${locator} to read "${text}"`, UI_TIMEOUT_MS);
}

// An input's value, once the page has filled it (a form is filled when the API answers).
export async function assertValue(locator, value) {
  await eventually(async () => (await locator.inputValue()) === value,
    `${locator} to hold "${value}"`, UI_TIMEOUT_MS);
}

export async function go(page, fragment) {
  await page.evaluate((f) => { location.hash = f; }, fragment);
}

// The page's own call of B/api or B/session, with its cookie: {status, body}.
export function pageFetch(page, method, apiPath, {csrf = null, body} = {}) {
  return page.evaluate(async ({method, url, csrf, body}) => {
    const headers = {'Content-Type': 'application/json'};
    if (csrf) headers['X-CSRF-Token'] = csrf;
    const r = await fetch(url, {method, headers, credentials: 'include', body});
    const text = await r.text();
    let parsed = null;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
    return {status: r.status, body: parsed};
  }, {method, url: BASE + apiPath, csrf, body: body === undefined ? undefined : JSON.stringify(body)});
}

export function formatCount(n) {
  return n.toLocaleString('en-US');
}

export function waitForJob(id, queue, state) {
  return eventually(async () => (await stack.stateOf(id, queue)) === state,
    `job ${id} to be ${state}`, 60000);
}
