// The packed package in a Vite 7 app (tests/integration/apps/vite): a production build with no
// vite.config at all, served as static files; then the dev server, either with the one documented line
// of config (optimizeDeps.exclude) or with no config and the wasm URL from Vite's `?url`.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startMock } from '../../mock/gemini-mock.mjs';
import {
  assertMockTraffic, assertRendered, launchChromium, openRoadmapPage, packTarball, prepareApp, run, serveStatic, startProcess,
} from './helpers.mjs';

let mock, browser, app;

before(async () => {
  const tarball = await packTarball('vite');
  app = await prepareApp('vite', { tarball });
  mock = await startMock({ port: 0, quiet: true });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await mock?.close();
});

test('Vite production build with no config: the "." export loads its wasm and renders 3 weeks × 7 days', async () => {
  const { output } = run('npm', ['run', 'build'], { cwd: app });
  const assets = readdirSync(join(app, 'dist', 'assets'));
  assert.ok(assets.some((f) => /^gemini_roadmap_bg-.+\.wasm$/.test(f)), `Vite emitted the wasm as a hashed asset:\n${output}`);
  const server = await serveStatic(join(app, 'dist'));
  try {
    const key = 'test-key-vite-build';
    const page = await openRoadmapPage(browser, `${server.url}/`, { mockUrl: mock.url, key });
    assertRendered(page);
    assert.deepEqual(
      page.wasm.map((w) => [new URL(w.url).pathname.replace(/-[\w-]+\.wasm$/, '.wasm'), w.status, w.type]),
      [['/assets/gemini_roadmap_bg.wasm', 200, 'application/wasm']],
      'the wasm came from the app\'s own assets, once',
    );
    assert.deepEqual(
      page.result.events.filter((t) => t === 'outline' || t === 'week' || t === 'done'),
      ['outline', 'week', 'week', 'week', 'done'],
    );
    await assertMockTraffic(mock.url, key, page.origin);
  } finally {
    await server.close();
  }
});

test('Vite dev server with optimizeDeps.exclude (dev-server.config.js) renders 3 weeks × 7 days', async () => {
  const vite = await startProcess(
    join(app, 'node_modules', '.bin', 'vite'),
    ['--config', 'dev-server.config.js', '--host', '127.0.0.1', '--port', '0', '--strictPort'],
    { cwd: app, ready: /Local:\s+(http:\/\/127\.0\.0\.1:\d+)\//, timeoutMs: 60_000 },
  );
  try {
    const key = 'test-key-vite-dev';
    const page = await openRoadmapPage(browser, `${vite.match[1]}/`, { mockUrl: mock.url, key });
    assertRendered(page);
    assert.deepEqual(
      page.wasm.map((w) => [new URL(w.url).pathname, w.status]),
      [['/node_modules/gemini-roadmap/web/gemini_roadmap_bg.wasm', 200]],
      'served from the installed package, not from .vite/deps',
    );
    await assertMockTraffic(mock.url, key, page.origin);
  } finally {
    await vite.stop();
  }
});

test('Vite dev server with no config, init({ module_or_path }) from `?url` (wasm-url.html) renders 3 weeks × 7 days', async () => {
  const vite = await startProcess(
    join(app, 'node_modules', '.bin', 'vite'),
    ['--host', '127.0.0.1', '--port', '0', '--strictPort'],
    { cwd: app, ready: /Local:\s+(http:\/\/127\.0\.0\.1:\d+)\//, timeoutMs: 60_000 },
  );
  try {
    const key = 'test-key-vite-dev-url';
    const page = await openRoadmapPage(browser, `${vite.match[1]}/wasm-url.html`, { mockUrl: mock.url, key });
    assertRendered(page);
    assert.equal(page.result.flavour, 'vite-wasm-url');
    assert.deepEqual(
      page.wasm.filter((w) => w.type === 'application/wasm').map((w) => [new URL(w.url).pathname, w.status]),
      [['/node_modules/gemini-roadmap/web/gemini_roadmap_bg.wasm', 200]],
    );
    await assertMockTraffic(mock.url, key, page.origin);
  } finally {
    await vite.stop();
  }
});
