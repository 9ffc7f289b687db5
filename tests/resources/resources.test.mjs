// Resource use of the built package (pkg/web) in headless Chromium, against the mock Gemini:
//  1. 20 roadmaps of 52 weeks, one after another in one page: the wasm linear memory and the JS heap
//     (after a forced gc) stop growing. The criterion compares the run with itself: the last 10 runs
//     may not grow more than a few percent over runs 5-10 (a leak of even one roadmap per run would
//     add ten roadmaps). No absolute thresholds. The figures are printed as TAP diagnostics.
//  2. Two generateRoadmap calls at the same time in one page, different keys, roles and mock scripts
//     (one clean, one with faults): each result matches its own key's requests, the faulted one
//     recovers, and neither sees the other's weeks or progress events.
//
//   node --test --test-reporter=tap --test-concurrency=1 tests/resources/
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { dirname, extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';
import { startMock } from '../../mock/gemini-mock.mjs';
import { requests, script } from '../../mock/control.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '../..');
const PKG = join(ROOT, 'pkg');
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.wasm': 'application/wasm' };

/** `/` is page.html; `/pkg/...` is the built package. Nothing else. */
function serve() {
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    const file = path === '/' ? join(HERE, 'page.html') : normalize(join(ROOT, path));
    if (file !== join(HERE, 'page.html') && !file.startsWith(PKG + '/')) {
      res.writeHead(404).end();
      return;
    }
    try {
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  return new Promise((ok) => server.listen(0, '127.0.0.1', () => ok({ server, url: `http://127.0.0.1:${server.address().port}` })));
}

let mock;
let site;
let browser;

before(async () => {
  if (!existsSync(join(PKG, 'web', 'gemini_roadmap.js')) || !existsSync(join(PKG, 'web', 'gemini_roadmap_bg.wasm'))) {
    execFileSync('bash', ['scripts/build.sh'], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'], timeout: 15 * 60_000 });
  }
  mock = await startMock({ port: 0, latencyMs: 0, tokensPerSecond: 0, timeScale: 1, quiet: true });
  site = await serve();
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--enable-precise-memory-info', '--js-flags=--expose-gc'],
  });
});

after(async () => {
  await browser?.close();
  await new Promise((ok) => (site ? site.server.close(ok) : ok()));
  await mock?.close();
});

async function openPage() {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${site.url}/`);
  await page.waitForFunction(() => window.ready === true, null, { timeout: 60_000 });
  return { page, errors };
}

const uniqueKey = (name) => `test-key-resources-${name}-${process.pid}-${Math.floor(Math.random() * 1e9)}`;

/** Growth of the last 10 runs over runs 5-10, from the largest value of each: 0.05 is 5 %. */
function growth(values) {
  const mid = Math.max(...values.slice(4, 10));
  const last = Math.max(...values.slice(10));
  return (last - mid) / mid;
}

test('20 roadmaps of 52 weeks in one page: wasm memory and JS heap stay bounded', { timeout: 600_000 }, async (t) => {
  const { page, errors } = await openPage();
  const key = uniqueKey('memory');
  const figures = await page.evaluate(async ({ mockUrl, key }) => {
    const out = [];
    for (let run = 1; run <= 20; run++) {
      const started = performance.now();
      let rm = await window.generateRoadmap({ apiKey: key, baseUrl: mockUrl, role: 'DevOps Engineer', weeks: 52, log: false });
      const row = { run, weeks: rm.weeks.length, fallback: rm.weeks.filter((w) => w.fallback).length, ms: Math.round(performance.now() - started) };
      rm = null;
      // Let the promise machinery of the run settle, then collect everything collectable.
      await new Promise((r) => setTimeout(r, 0));
      gc();
      gc();
      out.push({ ...row, wasmBytes: window.wasmBytes(), heapBytes: performance.memory.usedJSHeapSize });
    }
    return out;
  }, { mockUrl: mock.url, key });
  await page.close();

  t.diagnostic('run  weeks  ms     wasm memory   JS heap (after gc)');
  for (const f of figures) {
    t.diagnostic(`${String(f.run).padStart(3)}  ${f.weeks}     ${String(f.ms).padStart(5)}  ${String(f.wasmBytes).padStart(10)}    ${String(f.heapBytes).padStart(10)}`);
  }
  const wasmGrowth = growth(figures.map((f) => f.wasmBytes));
  const heapGrowth = growth(figures.map((f) => f.heapBytes));
  t.diagnostic(`growth of runs 11-20 over runs 5-10: wasm memory ${(wasmGrowth * 100).toFixed(1)} %, JS heap ${(heapGrowth * 100).toFixed(1)} %`);

  assert.deepEqual(errors, []);
  for (const f of figures) {
    assert.equal(f.weeks, 52, `run ${f.run} is complete`);
    assert.equal(f.fallback, 0, `run ${f.run} has no placeholder weeks`);
  }
  assert.equal((await requests(mock.url, { key })).length, 20 * (2 + 18), 'model lookup, outline and 18 batches per run');
  // Linear memory never shrinks: any leak shows as growth. One roadmap is ~0.5 MB of JSON.
  assert.ok(wasmGrowth <= 0.05, `wasm memory grew ${(wasmGrowth * 100).toFixed(1)} % over the last 10 runs`);
  assert.ok(heapGrowth <= 0.15, `the JS heap grew ${(heapGrowth * 100).toFixed(1)} % over the last 10 runs`);
});

test('two generateRoadmap calls at once in one page do not interfere', { timeout: 300_000 }, async (t) => {
  const { page, errors } = await openPage();
  const clean = uniqueKey('clean');
  const faulty = uniqueKey('faulty');
  // The clean run's steps only slow it a little, so that both runs are in flight together.
  await script(mock.url, clean, Array.from({ length: 6 }, () => ({ delayMs: 40 })));
  const faults = [
    {},
    { fault: 'status', status: 503 },
    { fault: 'sse-cut' },
    { fault: 'truncate', atChars: 9000 },
    { fault: 'wrong-week-numbers' },
    { fault: 'prose' },
  ];
  await script(mock.url, faulty, faults);

  const out = await page.evaluate(async ({ mockUrl, clean, faulty }) => {
    const events = { clean: [], faulty: [] };
    const run = (key, role, sink) =>
      window.generateRoadmap({ apiKey: key, baseUrl: mockUrl, role, weeks: 12, maxRetries: 2, log: false, onProgress: (e) => sink.push(e) });
    const settled = await Promise.allSettled([
      run(clean, 'Frontend Developer', events.clean),
      run(faulty, 'Data Engineer', events.faulty),
    ]);
    return { settled: settled.map((s) => (s.status === 'fulfilled' ? { ok: s.value } : { error: `${s.reason?.code} ${s.reason?.message}` })), events };
  }, { mockUrl: mock.url, clean, faulty });
  await page.close();
  assert.deepEqual(errors, []);

  const [a, b] = out.settled;
  assert.ok(a.ok, `the clean run failed: ${a.error}`);
  assert.ok(b.ok, `the faulted run failed: ${b.error}`);
  const runs = [
    { name: 'clean', key: clean, role: 'Frontend Developer', rm: a.ok, events: out.events.clean },
    { name: 'faulty', key: faulty, role: 'Data Engineer', rm: b.ok, events: out.events.faulty },
  ];
  for (const r of runs) {
    r.log = await requests(mock.url, { key: r.key });
    t.diagnostic(`${r.name}: ${r.log.length} requests, ${r.rm.warnings.length} warnings, batches ${r.rm.batches.map((x) => x.status).join(',')}`);
    assert.equal(r.rm.role, r.role);
    assert.deepEqual(r.rm.weeks.map((w) => w.week), Array.from({ length: 12 }, (_, i) => i + 1), `${r.name}: every week once, in order`);
    assert.equal(r.rm.weeks.filter((w) => w.fallback).length, 0, `${r.name}: no placeholder: ${r.rm.warnings}`);
    assert.deepEqual(r.rm.weeks.map((w) => w.title), r.rm.outline.map((o) => o.title), `${r.name}: its weeks follow its own plan`);
    // Its requests: all made with its own key, for its own role, and all of them counted in its usage.
    assert.equal(r.log.length, r.rm.usage.requests, `${r.name}: usage.requests counts exactly its key's requests`);
    for (const req of r.log.filter((x) => x.task)) assert.equal(req.task.role, r.role, `${r.name}: a request for another role`);
    // Its progress events: exactly its own weeks, each once.
    const announced = r.events.filter((e) => e.type === 'week').map((e) => e.week);
    assert.deepEqual(announced.map((w) => w.week).sort((x, y) => x - y), r.rm.weeks.map((w) => w.week));
    assert.deepEqual(new Set(announced.map((w) => w.title)), new Set(r.rm.weeks.map((w) => w.title)));
  }
  const [ra, rb] = runs;
  const titlesA = new Set(ra.rm.weeks.map((w) => w.title));
  assert.ok(rb.rm.weeks.every((w) => !titlesA.has(w.title)), 'no week of one run appears in the other');
  assert.ok(ra.events.every((e) => e.type !== 'week' || !rb.rm.weeks.some((w) => w.title === e.week.title)), 'no event of one run shows the other');

  assert.ok(ra.log.every((x) => x.fault === null), 'the clean run saw no fault');
  assert.deepEqual(rb.log.filter((x) => x.fault).map((x) => x.fault), faults.slice(1).map((f) => f.fault), 'the faulted run met every fault, in order');
  assert.ok(rb.rm.batches.some((x) => x.status === 'recovered'), 'and recovered from them');
  // They really ran at the same time.
  const span = (log) => [Math.min(...log.map((x) => x.startedAt)), Math.max(...log.map((x) => x.endedAt ?? x.startedAt))];
  const [a0, a1] = span(ra.log);
  const [b0, b1] = span(rb.log);
  assert.ok(a0 < b1 && b0 < a1, `the runs overlapped: clean ${a0}-${a1}, faulty ${b0}-${b1}`);
});
