// The packed package in a webpack 5 app (tests/integration/apps/webpack): the "." export with no
// webpack config at all, and the `gemini-roadmap/bundler` subpath with experiments.asyncWebAssembly.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startMock } from '../../mock/gemini-mock.mjs';
import {
  assertMockTraffic, assertRendered, launchChromium, openRoadmapPage, packTarball, prepareApp, run, serveStatic,
} from './helpers.mjs';

let mock, browser, app, server;

before(async () => {
  const tarball = await packTarball('webpack');
  app = await prepareApp('webpack', { tarball });
  mock = await startMock({ port: 0, quiet: true });
  browser = await launchChromium();
  server = await serveStatic(app);
});

after(async () => {
  await server?.close();
  await browser?.close();
  await mock?.close();
});

test('webpack 5 with no config: the "." export loads its wasm and renders 3 weeks × 7 days', async () => {
  const { output } = run('npm', ['run', 'build'], { cwd: app });
  assert.match(output, /compiled (successfully|with \d+ warnings?)/);
  assert.ok(readdirSync(join(app, 'dist')).some((f) => f.endsWith('.wasm')), 'webpack emitted the wasm as an asset');
  const key = 'test-key-webpack';
  const page = await openRoadmapPage(browser, `${server.url}/index.html`, { mockUrl: mock.url, key });
  assertRendered(page);
  assert.equal(page.wasm.length, 1, 'one wasm download');
  assert.match(new URL(page.wasm[0].url).pathname, /^\/dist\/[0-9a-f]+\.wasm$/);
  assert.equal(page.wasm[0].status, 200);
  assert.deepEqual(
    page.result.events.filter((t) => t === 'outline' || t === 'week' || t === 'done'),
    ['outline', 'week', 'week', 'week', 'done'],
  );
  await assertMockTraffic(mock.url, key, page.origin);
});

test('webpack 5 with experiments.asyncWebAssembly: gemini-roadmap/bundler renders 3 weeks × 7 days', async () => {
  run('npm', ['run', 'build:bundler'], { cwd: app });
  const key = 'test-key-webpack-bundler';
  const page = await openRoadmapPage(browser, `${server.url}/bundler.html`, { mockUrl: mock.url, key });
  assertRendered(page);
  assert.equal(page.result.flavour, 'webpack-bundler');
  assert.equal(page.wasm.length, 1, 'one wasm download');
  assert.match(new URL(page.wasm[0].url).pathname, /^\/dist-bundler\/[0-9a-f]+(\.module)?\.wasm$/);
  await assertMockTraffic(mock.url, key, page.origin);
});
