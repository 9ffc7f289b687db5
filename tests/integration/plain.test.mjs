// The packed package with no bundler at all (tests/integration/apps/plain): static files, an import map
// pointing "gemini-roadmap" at the `web` build's glue, `await init()`, and a 3-week roadmap.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startMock } from '../../mock/gemini-mock.mjs';
import { assertMockTraffic, assertRendered, launchChromium, openRoadmapPage, packTarball, prepareApp, serveStatic } from './helpers.mjs';

let mock, browser, server;

before(async () => {
  const tarball = await packTarball('plain');
  const app = await prepareApp('plain', { tarball });
  mock = await startMock({ port: 0, quiet: true });
  browser = await launchChromium();
  server = await serveStatic(app);
});

after(async () => {
  await server?.close();
  await browser?.close();
  await mock?.close();
});

test('<script type="module"> with an import map and init(): the web build renders 3 weeks × 7 days', async () => {
  const key = 'test-key-plain';
  const page = await openRoadmapPage(browser, `${server.url}/index.html`, { mockUrl: mock.url, key });
  assertRendered(page);
  assert.deepEqual(
    page.wasm.map((w) => [new URL(w.url).pathname, w.status, w.type]),
    [['/node_modules/gemini-roadmap/web/gemini_roadmap_bg.wasm', 200, 'application/wasm']],
    'init() fetched the wasm next to the glue, once',
  );
  assert.deepEqual(
    page.result.events.filter((t) => t === 'outline' || t === 'week' || t === 'done'),
    ['outline', 'week', 'week', 'week', 'done'],
  );
  await assertMockTraffic(mock.url, key, page.origin);
});
