// Shared setup for the page tests: the mock Gemini, the static server and headless Chromium,
// all started in-process on free ports. Not a test file itself (no `.test.` in the name).
import { after, before, beforeEach } from 'node:test';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';

import { chromium } from 'playwright-core';
import { startMock } from '../../mock/gemini-mock.mjs';
import { startServer } from '../../scripts/serve.mjs';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const SHOTS = join(ROOT, 'test-output', 'screenshots');
export const STORE_KEY = 'gemini-roadmap:last-roadmap';
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** Builds the web package when it is missing (a fresh clone). */
export function ensureBuild() {
  if (existsSync(join(ROOT, 'pkg/web/gemini_roadmap.js')) && existsSync(join(ROOT, 'pkg/web/gemini_roadmap_bg.wasm'))) return;
  execFileSync('bash', ['scripts/build.sh'], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'], timeout: 15 * 60_000 });
}

/**
 * Starts everything. Returns an env with `mock`, `site` (URL), `browser` and helpers.
 * latency 150 ms and 4000 tokens/s make a 6-week roadmap take a few seconds, so progress is observable.
 */
export async function startEnv({ latencyMs = 150, tokensPerSecond = 4000 } = {}) {
  ensureBuild();
  mkdirSync(SHOTS, { recursive: true });
  const mock = await startMock({ port: 0, latencyMs, tokensPerSecond, timeScale: 1, quiet: true });
  const { server, url: site } = await startServer({ port: 0, mockUrl: mock.url });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  const env = {
    mock,
    site,
    browser,
    async close() {
      await browser.close().catch(() => {});
      await new Promise((ok) => server.close(ok));
      server.closeAllConnections?.();
      await mock.close();
    },
    /** Every API request the mock saw (preflights included), oldest first. */
    async requests({ key, since } = {}) {
      const q = new URLSearchParams();
      if (key) q.set('key', key);
      if (since) q.set('since', String(since));
      const res = await fetch(`${mock.url}/__mock/requests?${q}`);
      return (await res.json()).requests;
    },
    async script(key, steps, { replace = false } = {}) {
      const res = await fetch(`${mock.url}/__mock/script`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ key, steps, replace }),
      });
      assert.equal(res.status, 200, await res.text());
    },
    async reset() {
      await fetch(`${mock.url}/__mock/reset`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    },
  };
  return env;
}

/** A fresh browser context and page (own localStorage), with console and error capture. */
export async function openPage(env, { viewport = { width: 1280, height: 900 }, colorScheme = 'light', initScript } = {}) {
  const context = await env.browser.newContext({ viewport, colorScheme, acceptDownloads: true, reducedMotion: 'reduce' });
  if (initScript) await context.addInitScript(initScript);
  const page = await context.newPage();
  const consoleLines = [];
  const pageErrors = [];
  page.on('console', (m) => consoleLines.push({ type: m.type(), text: m.text() }));
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(`${env.site}/`);
  await page.waitForSelector('body[data-ready="true"]');
  return {
    context,
    page,
    consoleLines,
    pageErrors,
    async reload() {
      await page.reload();
      await page.waitForSelector('body[data-ready="true"]');
    },
    /** No uncaught errors and no CSP violations happened on the page. */
    assertClean() {
      assert.deepEqual(pageErrors, [], 'uncaught page errors');
      const csp = consoleLines.filter((l) => /Content Security Policy|Refused to/i.test(l.text));
      assert.deepEqual(csp, [], 'CSP violations');
    },
    close: () => context.close(),
  };
}

export async function fillForm(page, { role = 'DevOps Engineer', weeks = 6, batch = 3, parallel = false, key, baseUrl } = {}) {
  await page.fill('#role', role);
  await page.fill('#weeks', String(weeks));
  await page.fill('#batch', String(batch));
  await page.setChecked('#parallel', parallel);
  if (key !== undefined) await page.fill('#apiKey', key);
  if (baseUrl !== undefined) {
    await page.click('.advanced summary');
    await page.fill('#baseUrl', baseUrl);
  }
}

export const waitState = (page, state, timeout = 30_000) =>
  page.waitForSelector(`body[data-state="${state}"]`, { timeout });

export const logLines = (page) => page.$$eval('#log li', (lis) => lis.map((li) => li.textContent));
export const weekNumbers = (page) => page.$$eval('#weeks-list > .week-card', (cs) => cs.map((c) => Number(c.dataset.week)));

export async function shot(page, name, opts = {}) {
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(SHOTS, `${name}.png`), ...opts });
}

export function readDownload(path) {
  return readFileSync(path, 'utf8');
}

/** Generate/stream requests in the mock log (no preflights, no model lookups). */
export const generateRequests = (log) => log.filter((r) => r.kind === 'generate' || r.kind === 'stream');
/** Requests the package counts in `usage.requests`: everything but CORS preflights. */
export const apiRequests = (log) => log.filter((r) => r.kind !== 'preflight');

export const sequence = (n) => Array.from({ length: n }, (_, i) => i + 1);

/** Polls `fn` until it returns a truthy value (a condition, not a fixed sleep). */
export async function until(fn, { timeout = 10_000, interval = 50, message = 'condition' } = {}) {
  const end = Date.now() + timeout;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${message}`);
    await new Promise((ok) => setTimeout(ok, interval));
  }
}

/** Weeks covered by the `TASK: WEEKS a-b` requests of a log. */
export function requestedWeeks(log) {
  const weeks = [];
  for (const r of generateRequests(log)) {
    if (r.task?.kind === 'weeks') for (let w = r.task.from; w <= r.task.to; w++) weeks.push(w);
  }
  return weeks;
}

/** Starts the environment once for the enclosing file or `describe`, and resets the mock before each test. */
export function useEnv() {
  const env = {};
  before(async () => {
    Object.assign(env, await startEnv());
  });
  after(async () => {
    await env.close?.();
  });
  beforeEach(async () => {
    await env.reset();
  });
  return env;
}
