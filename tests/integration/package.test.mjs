// The published package itself: what `npm pack` puts in the tarball, the manifest, and how the
// installed package resolves ("exports") and runs outside a browser (the web build with initSync).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { startMock } from '../../mock/gemini-mock.mjs';
import { DIST, ROOT, VERSION, ensureDist, packTarball, prepareApp, run } from './helpers.mjs';

const SHIPPED = [
  'CHANGELOG.md', 'LICENSE', 'README.md', 'package.json',
  'bundler/gemini_roadmap.d.ts', 'bundler/gemini_roadmap.js', 'bundler/gemini_roadmap_bg.js', 'bundler/gemini_roadmap_bg.wasm',
  'web/gemini_roadmap.d.ts', 'web/gemini_roadmap.js', 'web/gemini_roadmap_bg.wasm',
];

let manifest;
let mock;

before(async () => {
  await ensureDist();
  manifest = JSON.parse(readFileSync(join(DIST, 'package.json'), 'utf8'));
});

after(async () => {
  await mock?.close();
});

test('npm pack ships exactly the wasm, the JS glue, the .d.ts, README, LICENSE, CHANGELOG and package.json', () => {
  const [info] = JSON.parse(run('npm', ['pack', '--dry-run', '--json'], { cwd: DIST }).stdout);
  assert.equal(info.name, 'gemini-roadmap');
  assert.equal(info.version, VERSION);
  assert.deepEqual(info.files.map((f) => f.path).sort(), [...SHIPPED].sort());
  assert.equal(info.bundled.length, 0);
});

test('the manifest: name, Cargo version, MIT, ESM, exports, sideEffects, files', () => {
  assert.equal(manifest.name, 'gemini-roadmap');
  assert.equal(manifest.version, VERSION, 'the version comes from Cargo.toml');
  assert.equal(manifest.license, 'MIT');
  assert.equal(manifest.type, 'module');
  assert.equal(manifest.private, undefined, 'publishable');
  for (const k of ['scripts', 'dependencies', 'devDependencies', 'collaborators']) assert.equal(manifest[k], undefined, k);
  assert.ok(manifest.description.length > 20);
  assert.match(manifest.repository.url, /^git\+https:\/\/.+\.git$/);
  assert.ok(manifest.keywords.includes('gemini') && manifest.keywords.includes('webassembly'));
  const web = { types: './web/gemini_roadmap.d.ts', default: './web/gemini_roadmap.js' };
  assert.deepEqual(manifest.exports, {
    '.': web,
    './web': web,
    './bundler': { types: './bundler/gemini_roadmap.d.ts', default: './bundler/gemini_roadmap.js' },
    './web/gemini_roadmap_bg.wasm': './web/gemini_roadmap_bg.wasm',
    './package.json': './package.json',
  });
  assert.deepEqual([manifest.main, manifest.module, manifest.types], [web.default, web.default, web.types]);
  // The bundler entry is the only module with a side effect (it hands the wasm to the glue and starts it).
  assert.deepEqual(manifest.sideEffects, ['./bundler/gemini_roadmap.js']);
  assert.deepEqual(manifest.engines, { node: '>=18' }, 'a global fetch');
  const targets = [manifest.main, manifest.types, ...Object.values(manifest.exports).flatMap((e) => (typeof e === 'string' ? [e] : Object.values(e)))];
  for (const t of targets) assert.ok(existsSync(join(DIST, t)), `${t} exists`);
});

test('README, LICENSE and CHANGELOG are the repository\'s; the CHANGELOG has this version', () => {
  assert.equal(readFileSync(join(DIST, 'README.md'), 'utf8'), readFileSync(join(ROOT, 'README.md'), 'utf8'));
  const license = readFileSync(join(DIST, 'LICENSE'), 'utf8');
  assert.match(license, /^MIT License/);
  assert.match(license, /gemini-roadmap contributors/);
  assert.match(readFileSync(join(DIST, 'CHANGELOG.md'), 'utf8'), new RegExp(`^## \\[${VERSION.replace(/\./g, '\\.')}\\]`, 'm'));
  for (const t of ['web', 'bundler']) {
    assert.ok(!existsSync(join(DIST, t, 'package.json')), `wasm-pack's ${t}/package.json is not shipped`);
  }
});

test('installed from the tarball, the package resolves through "exports" and the web build runs in Node via initSync', async () => {
  const tarball = await packTarball('node');
  const app = await prepareApp('plain', { tarball, as: 'node' });
  writeFileSync(join(app, 'check.mjs'), `
    import { readFileSync } from 'node:fs';
    import init, { initSync, repairJson, generateRoadmap, regenerateWeek, GeminiChat } from 'gemini-roadmap';
    const rel = (s) => import.meta.resolve(s).replace(/^.*node_modules\\//, '');
    const out = {
      main: rel('gemini-roadmap'), web: rel('gemini-roadmap/web'), bundler: rel('gemini-roadmap/bundler'),
      wasm: rel('gemini-roadmap/web/gemini_roadmap_bg.wasm'), manifest: rel('gemini-roadmap/package.json'),
      exported: [typeof init, typeof generateRoadmap, typeof regenerateWeek, typeof GeminiChat],
    };
    try { import.meta.resolve('gemini-roadmap/web/gemini_roadmap_bg.js'); out.deep = 'resolved'; } catch (e) { out.deep = e.code; }
    initSync({ module: readFileSync(new URL(import.meta.resolve('gemini-roadmap/web/gemini_roadmap_bg.wasm'))) });
    out.repaired = JSON.parse(repairJson('Sure!\\n\`\`\`json\\n{"a": [1, 2,],}\\n\`\`\`'));
    console.log(JSON.stringify(out));
  `);
  const out = JSON.parse(run('node', ['check.mjs'], { cwd: app }).stdout);
  assert.deepEqual(out, {
    main: 'gemini-roadmap/web/gemini_roadmap.js',
    web: 'gemini-roadmap/web/gemini_roadmap.js',
    bundler: 'gemini-roadmap/bundler/gemini_roadmap.js',
    wasm: 'gemini-roadmap/web/gemini_roadmap_bg.wasm',
    manifest: 'gemini-roadmap/package.json',
    exported: ['function', 'function', 'function', 'function'],
    deep: 'ERR_PACKAGE_PATH_NOT_EXPORTED',
    repaired: { a: [1, 2] },
  });
});

test('installed from the tarball, Node runs the README quick start as is: `await init()` with no argument, then a 3-week roadmap', async () => {
  mock = await startMock({ port: 0, quiet: true });
  const tarball = await packTarball('node-init');
  const app = await prepareApp('plain', { tarball, as: 'node-init' });
  // Node's fetch cannot read the file: URL that init() defaults to ("fetch failed": "not implemented... yet...").
  writeFileSync(join(app, 'quick-start.mjs'), `
    import init, { generateRoadmap } from 'gemini-roadmap';
    await init();
    const events = [];
    const roadmap = await generateRoadmap({ apiKey: 'demo-key', baseUrl: process.env.MOCK_URL, role: 'DevOps Engineer', weeks: 3,
      log: false, onProgress: (e) => events.push(e.type) });
    console.log(JSON.stringify({ weeks: roadmap.weeks.map((w) => [w.week, w.days.length, w.fallback]), events: events.filter((t) => t !== 'week'), same: (await init()) === (await init()) }));
  `);
  // Not run(): spawnSync would block this process, where the mock answers.
  const { stdout } = await promisify(execFile)(process.execPath, ['quick-start.mjs'], { cwd: app, timeout: 60_000, env: { ...process.env, MOCK_URL: mock.url } });
  const out = JSON.parse(stdout);
  assert.deepEqual(out, {
    weeks: [[1, 7, false], [2, 7, false], [3, 7, false]],
    events: ['outline', 'batch-start', 'batch-done', 'done'],
    same: true,
  });
});

test('installed from the tarball, CommonJS `require(\'gemini-roadmap\')` loads the web build (Node 20.19+: require of an ES module)', async () => {
  const tarball = await packTarball('node-cjs');
  const app = await prepareApp('plain', { tarball, as: 'node-cjs' });
  // Only an ES module without top-level await can be required: this keeps the glue free of it.
  writeFileSync(join(app, 'check.cjs'), `
    const { readFileSync } = require('node:fs');
    const pkg = require('gemini-roadmap');
    pkg.initSync({ module: readFileSync(require.resolve('gemini-roadmap/web/gemini_roadmap_bg.wasm')) });
    console.log(JSON.stringify({ exported: Object.keys(pkg).filter((k) => k !== '__esModule').sort(), repaired: pkg.repairJson('{"a": [1, 2,],}') }));
  `);
  const r = run('node', ['check.cjs'], { cwd: app });
  assert.deepEqual(JSON.parse(r.stdout), {
    exported: ['GeminiChat', 'default', 'generateRoadmap', 'initSync', 'regenerateWeek', 'repairJson'],
    repaired: '{"a": [1, 2]}',
  });
  assert.doesNotMatch(r.stderr, /Warning/, 'no ExperimentalWarning');
  // As the README shows it: what require returns is the namespace, and init is its default.
  writeFileSync(join(app, 'default.cjs'), `
    (async () => {
      const roadmap = require('gemini-roadmap');
      await roadmap.default();
      console.log(roadmap.repairJson('[1, 2,'));
    })();
  `);
  assert.equal(run('node', ['default.cjs'], { cwd: app }).stdout.trim(), '[1, 2]');
});
