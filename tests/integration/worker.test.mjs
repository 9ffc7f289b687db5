// generateRoadmap in a module Web Worker: the wasm runs off the main thread, progress events are posted
// back, and the main thread keeps running its own timer and animation frames meanwhile. Once with no
// bundler (apps/plain/worker.html) and once bundled by Vite (apps/vite, `?mode=worker`).
// No absolute times are asserted: only counters sampled when each event arrived, and their order.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startMock } from '../../mock/gemini-mock.mjs';
import { assertMockTraffic, assertRendered, launchChromium, openRoadmapPage, packTarball, prepareApp, run, serveStatic } from './helpers.mjs';

let mock, browser, plain, vite;

before(async () => {
  const tarball = await packTarball('worker');
  const plainApp = await prepareApp('plain', { tarball });
  const viteApp = await prepareApp('vite', { tarball });
  run('npm', ['run', 'build'], { cwd: viteApp });
  // Streaming at a finite speed, so that generation spans many main-thread timer ticks.
  mock = await startMock({ port: 0, quiet: true, latencyMs: 40, tokensPerSecond: 20000 });
  browser = await launchChromium();
  plain = await serveStatic(plainApp);
  vite = await serveStatic(join(viteApp, 'dist'));
});

after(async () => {
  await plain?.close();
  await vite?.close();
  await browser?.close();
  await mock?.close();
});

async function checkWorkerRun(url, key, flavour) {
  const page = await openRoadmapPage(browser, url, { mockUrl: mock.url, key, extra: { batchWeeks: '1' } });
  assertRendered(page);
  const r = page.result;
  if (process.env.INTEGRATION_VERBOSE) console.error(flavour, JSON.stringify(r.progress.map((p) => [p.type, p.ticks, p.frames])));
  assert.equal(r.flavour, flavour);
  assert.equal(r.scope, 'DedicatedWorkerGlobalScope', 'init() and generateRoadmap() ran in the worker');
  assert.equal(r.wasmOnMainThread, 0, 'the main thread never fetched the wasm');
  assert.equal(page.wasm.length, 1, 'the worker fetched the wasm once');

  // Every progress event crossed to the main thread, in order: outline, then per batch start/week/done.
  const types = r.progress.map((p) => p.type);
  assert.deepEqual(
    types.filter((t) => t !== 'warning' && t !== 'retry'),
    ['outline', ...[1, 2, 3].flatMap(() => ['batch-start', 'week', 'batch-done']), 'done'],
  );

  // The main thread stayed responsive: its counters kept moving while the worker worked. The tick
  // counter sampled at each week event is strictly increasing (timer callbacks ran between every two
  // weeks), and frames were drawn during the run.
  const weeks = r.progress.filter((p) => p.type === 'week');
  for (let i = 1; i < weeks.length; i++) {
    assert.ok(weeks[i].ticks > weeks[i - 1].ticks, `timer ticks between week ${i} and ${i + 1}: ${JSON.stringify(weeks)}`);
  }
  const first = r.progress[0];
  const last = r.progress.at(-1);
  assert.ok(last.ticks - first.ticks >= r.progress.length, `ticks ${first.ticks} → ${last.ticks} over ${r.progress.length} events`);
  assert.ok(last.frames > first.frames, `animation frames ${first.frames} → ${last.frames}`);
  await assertMockTraffic(mock.url, key, page.origin);
  return r;
}

test('no bundler: a module worker generates 3 weeks, progress reaches the main thread, which stays responsive', async () => {
  await checkWorkerRun(`${plain.url}/worker.html`, 'test-key-worker-plain', 'plain-worker');
});

test('Vite-bundled module worker (default worker config) does the same', async () => {
  await checkWorkerRun(`${vite.url}/?mode=worker`, 'test-key-worker-vite', 'vite-worker');
});
