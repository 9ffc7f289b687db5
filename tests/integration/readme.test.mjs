// Every JavaScript, TypeScript and HTML example in README.md is executed or checked here, so that the
// examples cannot rot. The blocks are read from README.md at run time: an edit to an example is tested as
// written, and a new example with no check here fails the first test.
//
// How: browser examples run as written in headless Chromium, as modules of a page whose import map points
// "gemini-roadmap", "gemini-roadmap/web" and "gemini-roadmap/bundler" at the built package (dist/, from its
// "exports"); their requests to https://generativelanguage.googleapis.com are forwarded to the mock Gemini
// (so no example needs a `baseUrl`). The free variables they use (`apiKey`, `render`, `signal`, `p1`..,
// `turns`, ...) are defined before the example's code (FREE below), and a few lines after it record what
// its comments claim. Node examples run with Node against dist/ copied into node_modules. Config snippets
// are syntax-checked and compared with the configs that the Vite and webpack suites really run. The
// examples are also type-checked against the shipped declarations (`tsc --strict`).
//
// The blocks and their checks (README section: how):
//   Quick start              Chromium: 12 weeks, render() per week, console.log as its comment says, key only
//                            in x-goog-api-key, the roadmap against the `Roadmap = {...}` shape's field lists
//   Install and load         Chromium: init() fetches the .wasm once, a second init() fetches nothing
//   Vite: vite.config.js     node --check + equal to apps/vite/dev-server.config.js (vite.test.mjs runs it)
//   Vite: `?url`             Chromium, the `?url` import mapped to a hashed asset URL as Vite would
//                            (vite.test.mjs runs the real thing: apps/vite/wasm-url.js)
//   webpack: webpack.config  node --check + equal to the experiments of apps/webpack/webpack.bundler.config.js
//                            (webpack.test.mjs builds with it)
//   webpack: /bundler import Node with --experimental-wasm-modules (no browser loads .wasm ES modules yet);
//                            webpack.test.mjs runs the bundled equivalent
//   No bundler (html)        Chromium: the page as written, the package served under /node_modules
//   Loading on first use     Chromium: nothing of the package is fetched before the first call; two racing
//                            calls fetch the glue and the .wasm once, and both get every week
//   Web Worker (2 blocks)    Chromium: both blocks together; the worker imports the glue by its path, as the
//                            README says to without a bundler (worker.test.mjs runs it bundled by Vite)
//   Node                     Node: initSync, then the README's repairJson line against its comment
//                            (package.test.mjs also runs initSync on the package installed from the tarball)
//   Lower-level API          Chromium: GeminiChat send/sendJson/generateJsonBatched/history, repairJson
// and every example above is also type-checked by tsc against the shipped .d.ts (--strict, checkJs).
// Skipped (SKIPPED below): the ```sh blocks (shell commands), and the `Roadmap = { ... }` type shape, which
// is pseudo-code rather than TypeScript (not run; its field names are compared with a real roadmap).
// Any other ```ts block is type-checked only.
//
// Playwright's route.fulfill takes a whole body, so a forwarded SSE answer reaches the page in one piece;
// streaming itself is covered by the Chrome/Firefox suites.
//
// README_TEST_FILE=<path> reads the examples from another file: a way to see a test fail on a broken copy.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startMock } from '../../mock/gemini-mock.mjs';
import { requests } from '../../mock/control.mjs';
import { APPS, ROOT, ensureDist, launchChromium, run } from './helpers.mjs';
import { commentedResults, fencedBlocks, literal, parseShape, shapeMismatches } from './readme/blocks.mjs';
import { GOOGLE, VITE_ASSET, WORK, importMap, installPackage, runNode, runPage, runnerPage, startSite } from './readme/harness.mjs';

const README = readFileSync(process.env.README_TEST_FILE ?? join(ROOT, 'README.md'), 'utf8');
const BLOCKS = fencedBlocks(README);
const EXAMPLE_LANGS = new Set(['js', 'javascript', 'mjs', 'jsx', 'ts', 'typescript', 'tsx', 'html']);
const isTs = (b) => ['ts', 'typescript', 'tsx'].includes(b.lang);

/** Blocks that are not run, and why. */
const SKIPPED = {
  'roadmap-shape': {
    match: (b) => isTs(b) && /^Roadmap\s*=\s*\{/.test(b.code.trim()),
    why: 'type-shape pseudo-code (field lists, not TypeScript); not run, but the quick-start test compares its fields with a real roadmap',
  },
};

/** The examples and how to recognise each one; each must match exactly one block. */
const CHECKED = {
  'quick-start': (b) => b.heading === 'Quick start' && b.lang === 'js',
  'install-and-load': (b) => b.heading === 'Install and load' && b.lang === 'js',
  'vite-config': (b) => b.lang === 'js' && /^\/\/ vite\.config\.js/.test(b.code),
  'vite-wasm-url': (b) => b.lang === 'js' && b.heading === 'Vite' && /\?url['"]/.test(b.code),
  'webpack-config': (b) => b.lang === 'js' && /^\/\/ webpack\.config\.js/.test(b.code),
  'bundler-import': (b) => b.lang === 'js' && b.heading === 'webpack 5' && /from 'gemini-roadmap\/bundler'/.test(b.code),
  'no-bundler-html': (b) => b.lang === 'html' && b.heading === 'No bundler',
  'lazy-load': (b) => b.lang === 'js' && b.heading === 'Loading it on first use',
  'worker': (b) => b.lang === 'js' && /^\/\/ roadmap\.worker\.js/.test(b.code),
  'worker-main': (b) => b.lang === 'js' && /^\/\/ main thread/.test(b.code),
  'node': (b) => b.lang === 'js' && b.heading === 'Node' && /initSync/.test(b.code),
  'lower-level': (b) => b.lang === 'js' && b.heading === 'Lower-level API',
};
/** Any other TypeScript block is type-checked (the type-check test); there is none at the moment. */
const TYPECHECK_ONLY = (b) => isTs(b);

function classify(b) {
  const ids = [
    ...Object.entries(CHECKED).filter(([, m]) => m(b)).map(([id]) => id),
    ...Object.entries(SKIPPED).filter(([, s]) => s.match(b)).map(([id]) => `skip:${id}`),
  ];
  return ids.length === 0 && TYPECHECK_ONLY(b) ? ['typecheck-only'] : ids;
}

function block(id) {
  const found = BLOCKS.filter((b) => (CHECKED[id] ?? SKIPPED[id].match)(b));
  assert.equal(found.length, 1, `exactly one README block is "${id}"; found at lines [${found.map((b) => b.line)}]`);
  return found[0];
}
const at = (id) => `README.md:${BLOCKS.filter((b) => CHECKED[id]?.(b)).map((b) => b.line).join(',') || '?'}`;

// The free variables of the examples: what a browser example gets before its code, and the declarations
// the type-check uses. Only those an example uses (and does not declare itself) are defined for it.
const TURNS = [{ role: 'user', text: 'Hi, I want to learn Docker.' }, { role: 'model', text: 'Great, let us start with images.' }];
const FREE = {
  apiKey: ['const apiKey = __readme.apiKey;', 'declare const apiKey: string;'],
  render: ['const render = (week) => { __readme.rendered.push(week.week); };', "declare function render(week: import('gemini-roadmap').Week): void;"],
  signal: ['const signal = new AbortController().signal;', 'declare const signal: AbortSignal;'],
  model: ["const model = 'gemini-3.1-flash-lite';", 'declare const model: string;'],
  baseUrl: [`const baseUrl = '${GOOGLE}';`, 'declare const baseUrl: string;'],
  systemInstruction: ["const systemInstruction = 'You are a concise study coach.';", 'declare const systemInstruction: string;'],
  generationConfig: ['const generationConfig = { temperature: 0.3 };', 'declare const generationConfig: Record<string, unknown>;'],
  timeoutMs: ['const timeoutMs = 30000;', 'declare const timeoutMs: number;'],
  maxRetries: ['const maxRetries = 1;', 'declare const maxRetries: number;'],
  p1: ["const p1 = 'Give me a JSON list of 3 Docker topics';", 'declare const p1: string;'],
  p2: ["const p2 = 'Give me a JSON list of 3 Kubernetes topics';", 'declare const p2: string;'],
  p3: ["const p3 = 'Give me a JSON list of 3 Terraform topics';", 'declare const p3: string;'],
  onProgress: ['const onProgress = (event) => { __readme.progress.push(event.type); };', 'declare const onProgress: (event: { type: string; [key: string]: unknown }) => void;'],
  turns: [`const turns = ${JSON.stringify(TURNS)};`, "declare const turns: import('gemini-roadmap').ChatTurn[];"],
};

const declared = (code, name) =>
  new RegExp(`\\b(const|let|var|function|class)\\s+${name}\\b|import\\s[^;]*\\b${name}\\b[^;]*\\sfrom\\s`).test(code);
const freeNames = (code) => Object.keys(FREE).filter((n) => new RegExp(`\\b${n}\\b`).test(code) && !declared(code, n));

/**
 * The module a browser example runs as: its free variables, a `console` whose log() calls are recorded
 * (with how many weeks render() had received by then), a `Worker` whose messages and errors are recorded, the
 * example as written, then `epilogue`.
 */
function browserModule(code, epilogue = '') {
  const prelude = [
    'const __readme = window.__readme;',
    'const console = Object.create(globalThis.console, { log: { value: (...args) => { __readme.logs.push({ args, rendered: __readme.rendered.length }); globalThis.console.log(...args); } } });',
    'const Worker = class extends globalThis.Worker { constructor(...a) { super(...a); this.addEventListener("message", (e) => __readme.messages.push(e.data)); this.addEventListener("error", (e) => __readme.messages.push({ type: "error", message: `worker error event: ${e.message}` })); } };',
    ...freeNames(`${code}\n${epilogue}`).map((n) => FREE[n][0]),
  ];
  return `${prelude.join('\n')}\n// ---- README example ----\n${code}\n// ---- checks ----\n;${epilogue}\n`;
}

const finished = () => ['done', 'error'].includes(window.__readme?.status);

let mock, browser, site;

before(async () => {
  await ensureDist();
  mkdirSync(WORK, { recursive: true });
  writeFileSync(join(WORK, 'package.json'), '{ "private": true, "type": "module" }\n');
  installPackage();
  mock = await startMock({ port: 0, quiet: true });
  browser = await launchChromium();
  site = await startSite();
});

after(async () => {
  await site?.close();
  await browser?.close();
  await mock?.close();
});

/** Runs one browser example at /b/<id>/ and asserts that it finished without an error. */
async function runExample(id, { code = block(id).code, epilogue = '', files = {}, map, ready = finished } = {}) {
  const key = `readme-key-${id}`;
  site.put(`/b/${id}/index.html`, runnerPage({ apiKey: key, progress: [] }, map));
  site.put(`/b/${id}/block.mjs`, browserModule(code, epilogue));
  for (const [name, text] of Object.entries(files)) site.put(`/b/${id}/${name}`, text);
  const r = await runPage(browser, site, `/b/${id}/index.html`, { mockUrl: mock.url, ready });
  assert.notEqual(r.state?.status, 'error', `the example threw:\n${r.state?.error}\n${r.errors.join('\n')}`);
  assert.deepEqual(r.errors, [], 'no page errors, console errors or failed requests');
  assert.deepEqual(r.strays, [], 'no request to any host but the page and Google');
  return { ...r, key };
}

/** The key went only to Google (forwarded to the mock) and only as the x-goog-api-key header. */
async function assertKeyOnlyInHeader(r) {
  assert.ok(r.google.length > 0, 'the example talked to Gemini');
  for (const g of r.google) {
    assert.equal(g.headers['x-goog-api-key'], r.key, `${g.method} ${g.url}: x-goog-api-key`);
    assert.ok(!g.url.includes(r.key), `${g.url}: the key is not in the URL`);
  }
  const log = await requests(mock.url, { key: r.key });
  assert.equal(log.length, r.google.length, 'every forwarded request reached the mock');
  for (const e of log) assert.equal(e.status, 200, `${e.method} ${e.path}`);
  return log;
}

const range = (n) => Array.from({ length: n }, (_, i) => i + 1);
const weeksOption = (code) => Number(code.match(/\bweeks:\s*(\d+)/)?.[1] ?? NaN);

test('every js/ts/html block of README.md is checked here or skipped with a reason', () => {
  const examples = BLOCKS.filter((b) => EXAMPLE_LANGS.has(b.lang));
  assert.ok(examples.length >= Object.keys(CHECKED).length, `found only ${examples.length} example blocks`);
  for (const b of examples) {
    const ids = classify(b);
    assert.equal(
      ids.length, 1,
      `README.md:${b.line} (\`\`\`${b.lang} under "${b.heading}") matches ${ids.length ? ids.join(', ') : 'no check'}: ` +
        'give it a check in tests/integration/readme.test.mjs (CHECKED) or a skip with a reason (SKIPPED)',
    );
  }
  for (const id of [...Object.keys(CHECKED), ...Object.keys(SKIPPED)]) block(id);
  const unknown = BLOCKS.filter((b) => !EXAMPLE_LANGS.has(b.lang) && b.lang !== 'sh');
  assert.deepEqual(unknown.map((b) => `${b.line}: ${b.lang || '(no language)'}`), [], 'README blocks in a language this test does not know');
});

test(`Quick start (${at('quick-start')}): N weeks, render() per week before the promise resolves, console.log prints what its comment says, the key only in x-goog-api-key, the roadmap has the fields of the README's Roadmap shape`, async () => {
  const { code } = block('quick-start');
  const weeks = weeksOption(code);
  assert.ok(weeks > 0, 'the example passes weeks: N');
  const r = await runExample('quick-start', { epilogue: '__readme.out = { roadmap };' });
  const { roadmap } = r.state.out;

  // console.log(roadmap.weeks.length, roadmap.usage);   // 12, { promptTokens, ..., requests }
  const comment = code.match(/console\.log\([^)]*\);\s*\/\/\s*(.+)$/m)?.[1];
  assert.ok(comment, 'the console.log line states its output in a comment');
  const [, first, keys] = comment.match(/^([^,]+),\s*\{([^}]*)\}/);
  assert.equal(r.state.logs.length, 1, 'one console.log');
  const [{ args, rendered }] = r.state.logs;
  assert.equal(args[0], literal(first), `console.log's first value, as the comment says (${first})`);
  assert.equal(args[0], weeks);
  for (const k of keys.match(/\w+/g)) assert.equal(typeof args[1][k], 'number', `usage.${k}, as the comment says`);
  assert.equal(args[1].requests, r.google.length, 'usage.requests counts every HTTP request');

  assert.deepEqual(roadmap.weeks.map((w) => w.week), range(weeks), 'weeks 1..N, once each, in order');
  for (const w of roadmap.weeks) assert.deepEqual(w.days.map((d) => d.day), range(7), `week ${w.week}: days 1..7`);
  assert.deepEqual(r.state.rendered, range(weeks), 'render() got every week, in order');
  assert.equal(rendered, weeks, 'every week was rendered before generateRoadmap resolved');
  await assertKeyOnlyInHeader(r);

  const shape = parseShape(block('roadmap-shape').code);
  assert.deepEqual(shapeMismatches(shape, roadmap), [], `the roadmap against the README's Roadmap shape (README.md:${block('roadmap-shape').line})`);
});

test(`Install and load (${at('install-and-load')}): init() fetches the .wasm once, a second init() fetches nothing, N weeks`, async () => {
  const { code } = block('install-and-load');
  const r = await runExample('install-and-load', {
    epilogue: 'const __again = await init();\n__readme.out = { weeks: roadmap.weeks.map((w) => w.week), again: typeof __again };',
  });
  assert.deepEqual(r.state.out.weeks, range(weeksOption(code)));
  assert.equal(r.state.out.again, 'object', 'a later init() resolves at once to the same exports');
  assert.deepEqual(
    r.wasm,
    [{ path: '/node_modules/gemini-roadmap/web/gemini_roadmap_bg.wasm', status: 200, type: 'application/wasm' }],
    'the .wasm was fetched once, from next to the glue',
  );
  await assertKeyOnlyInHeader(r);
});

test(`Vite config (${at('vite-config')}): valid JavaScript, and the same optimizeDeps as the config vite.test.mjs runs the dev server with`, async () => {
  const file = join(WORK, 'vite.config.js');
  writeFileSync(file, block('vite-config').code);
  run(process.execPath, ['--check', file]);
  const readme = (await import(`${pathToFileURL(file)}?t=${Date.now()}`)).default;
  const tested = (await import(pathToFileURL(join(APPS, 'vite', 'dev-server.config.js')))).default;
  assert.deepEqual(readme, tested, 'README vite.config.js vs tests/integration/apps/vite/dev-server.config.js');
  assert.ok(readme.optimizeDeps.exclude.includes('gemini-roadmap'));
});

test(`Vite ?url (${at('vite-wasm-url')}): init({ module_or_path }) loads the .wasm from the URL it is given, and the package works`, async () => {
  // Vite turns `…wasm?url` into a module whose default export is the asset's URL; the import map does
  // the same here. vite.test.mjs runs the real thing (apps/vite/wasm-url.js under the dev server).
  const r = await runExample('vite-wasm-url', {
    map: importMap({ 'gemini-roadmap/web/gemini_roadmap_bg.wasm?url': '/b/vite-wasm-url/wasm-url.mjs' }),
    files: { 'wasm-url.mjs': `export default '${VITE_ASSET}';\n` },
    epilogue: "const __roadmap = await generateRoadmap({ apiKey, role: 'Frontend Developer', weeks: 1 });\n__readme.out = { weeks: __roadmap.weeks.length };",
  });
  assert.deepEqual(r.wasm, [{ path: VITE_ASSET, status: 200, type: 'application/wasm' }], 'only the given URL was fetched');
  assert.equal(r.state.out.weeks, 1);
  await assertKeyOnlyInHeader(r);
});

test(`webpack config (${at('webpack-config')}): valid JavaScript, and the same experiments as the config webpack.test.mjs builds the bundler app with`, async () => {
  const file = join(WORK, 'webpack.config.js');
  writeFileSync(file, block('webpack-config').code);
  run(process.execPath, ['--check', file]);
  const readme = (await import(`${pathToFileURL(file)}?t=${Date.now()}`)).default;
  const tested = (await import(pathToFileURL(join(APPS, 'webpack', 'webpack.bundler.config.js')))).default;
  assert.deepEqual(readme, { experiments: tested.experiments }, 'README webpack.config.js vs tests/integration/apps/webpack/webpack.bundler.config.js');
  assert.equal(readme.experiments.asyncWebAssembly, true);
});

test(`gemini-roadmap/bundler (${at('bundler-import')}): the import loads the wasm with no init() (Node's wasm ES modules), generateRoadmap then works`, async () => {
  // No browser loads `import … from './x.wasm'` yet; Node does with --experimental-wasm-modules, which
  // runs the bundler build's module graph as a bundler would. webpack.test.mjs runs it bundled.
  const { code } = block('bundler-import');
  assert.doesNotMatch(code.replace(/\/\/.*$/gm, ''), /\binit\s*\(/, 'the example calls no init()');
  const key = 'readme-key-bundler';
  const r = await runNode('bundler-import', `${code}
const __roadmap = await generateRoadmap({ apiKey: process.env.README_KEY, baseUrl: process.env.README_MOCK, role: 'Data Engineer', weeks: 2, log: false });
console.log('README_RESULT ' + JSON.stringify(__roadmap.weeks.map((w) => w.week)));
`, { args: ['--experimental-wasm-modules', '--no-warnings'], env: { README_KEY: key, README_MOCK: mock.url } });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.results, [[1, 2]]);
  assert.ok((await requests(mock.url, { key })).length >= 2, 'the mock served the run');
});

test(`No bundler (${at('no-bundler-html')}): the page as written, served with the package under /node_modules, loads the wasm next to the glue and initialises the module`, async () => {
  // A script of ours imports the same module instance (through the example's import map) and never calls
  // init(): its repairJson() works only once the example's `await init()` has completed.
  const probe = `
<script>
  import('gemini-roadmap').then(({ repairJson }) => {
    const until = Date.now() + 30000;
    (function poll() {
      try { window.__probe = repairJson('[1, 2,'); } catch (e) { if (Date.now() < until) setTimeout(poll, 20); else window.__probe = 'never initialised: ' + e; }
    })();
  }, (e) => { window.__probe = 'import failed: ' + e; });
</script>`;
  site.put('/b/no-bundler-html/index.html', `<!doctype html>\n<meta charset="utf-8">\n${block('no-bundler-html').code}\n${probe}\n`);
  const r = await runPage(browser, site, '/b/no-bundler-html/index.html', {
    mockUrl: mock.url, ready: () => window.__probe !== undefined, collect: () => window.__probe,
  });
  assert.deepEqual(r.errors, [], 'no page errors, console errors or failed requests');
  assert.equal(r.state, '[1, 2]', 'the module was initialised by the example');
  assert.deepEqual(
    r.wasm,
    [{ path: '/node_modules/gemini-roadmap/web/gemini_roadmap_bg.wasm', status: 200, type: 'application/wasm' }],
    'init() fetched gemini_roadmap_bg.wasm from next to gemini_roadmap.js, once',
  );
});

test(`Loading it on first use (${at('lazy-load')}): nothing of the package is fetched before the first call; two racing calls fetch the glue and the .wasm once, and both get N weeks`, async () => {
  const weeks = weeksOption(block('lazy-load').code);
  const r = await runExample('lazy-load', {
    epilogue: `
const __fetched = () => performance.getEntriesByType('resource').map((e) => new URL(e.name).pathname).filter((p) => p.includes('/gemini-roadmap/'));
const __before = __fetched();
const [__a, __b] = await Promise.all([onGenerateClick(), onGenerateClick()]);
__readme.out = { before: __before, after: __fetched(), a: __a.weeks.map((w) => w.week), b: __b.weeks.map((w) => w.week) };`,
  });
  const { before, after, a, b } = r.state.out;
  assert.deepEqual(before, [], 'nothing of the package was fetched with the page');
  assert.deepEqual(a, range(weeks));
  assert.deepEqual(b, range(weeks));
  assert.deepEqual(after.filter((p) => p.endsWith('.js')), ['/node_modules/gemini-roadmap/web/gemini_roadmap.js'], 'the glue, once');
  assert.deepEqual(r.wasm.map((w) => w.path), ['/node_modules/gemini-roadmap/web/gemini_roadmap_bg.wasm'], 'the .wasm, once');
  assert.deepEqual([...r.state.rendered].sort((x, y) => x - y), range(weeks).flatMap((w) => [w, w]), 'render() got every week of both runs');
  await assertKeyOnlyInHeader(r);
});

test(`In a Web Worker (${at('worker')} + ${at('worker-main')}): the worker generates N weeks, progress and the roadmap reach the main thread, render() gets every week`, async () => {
  // With no bundler, import maps do not apply inside workers: as the README says, the worker imports the
  // glue by its path. That is the only change; worker.test.mjs runs the same code bundled by Vite.
  const worker = block('worker').code;
  assert.match(worker, /from 'gemini-roadmap';/);
  const main = block('worker-main').code;
  const weeks = weeksOption(main);
  const r = await runExample('worker-main', {
    code: main,
    files: { 'roadmap.worker.js': worker.replace("from 'gemini-roadmap';", "from './node_modules/gemini-roadmap/web/gemini_roadmap.js';") },
    ready: () => window.__readme?.status === 'error' || window.__readme?.messages.some((m) => m.type === 'done' || m.type === 'error'),
  });
  const { messages } = r.state;
  assert.deepEqual(messages.filter((m) => m.type === 'error'), [], 'the worker reported no error');
  const done = messages.find((m) => m.type === 'done');
  assert.deepEqual(done.roadmap.weeks.map((w) => w.week), range(weeks), 'the roadmap crossed to the main thread');
  const events = messages.filter((m) => m.type === 'progress').map((m) => m.event.type);
  assert.deepEqual(events.filter((t) => t === 'outline' || t === 'week' || t === 'done'), ['outline', ...range(weeks).map(() => 'week'), 'done']);
  assert.deepEqual(r.state.rendered, range(weeks), 'render() got every week, in order');
  assert.equal(r.wasm.length, 1, 'the worker fetched the wasm once');
  assert.match(r.wasm[0].path, /\/node_modules\/gemini-roadmap\/web\/gemini_roadmap_bg\.wasm$/);
  await assertKeyOnlyInHeader(r);
});

test(`Node (${at('node')}): initSync with the bytes, then the README's repairJson example returns what its comment says`, async () => {
  // package.test.mjs also runs this initSync line on the package installed from the tarball.
  const checks = commentedResults(block('lower-level').code).filter((c) => c.expr.startsWith('repairJson('));
  assert.ok(checks.length > 0, 'the Lower-level API example has a repairJson(...) line with its result in a comment');
  const r = await runNode('node-initsync', `${block('node').code}
${checks.map((c) => `console.log('README_RESULT ' + JSON.stringify(${c.expr}));`).join('\n')}
`);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.results, checks.map((c) => c.expected));
});

test(`Lower-level API (${at('lower-level')}): GeminiChat send / sendJson / generateJsonBatched / history, and repairJson returns what its comment says`, async () => {
  const { code } = block('lower-level');
  const checks = commentedResults(code);
  assert.ok(checks.length > 0, 'at least one line states its result in a comment');
  const r = await runExample('lower-level', {
    epilogue: [
      `__readme.out = { text, finishReason, usage, value, values, historyAfterClear: chat.history, results: [${checks.map((c) => c.expr).join(', ')}] };`,
      'chat.setHistory(turns);',
      '__readme.out.historyAfterSet = chat.history;',
    ].join('\n'),
  });
  const out = r.state.out;
  assert.equal(typeof out.text, 'string');
  assert.ok(out.text.length > 0, 'send() resolved to the model text');
  assert.equal(out.finishReason, 'STOP');
  for (const k of ['promptTokens', 'outputTokens', 'totalTokens', 'requests']) assert.equal(typeof out.usage[k], 'number', `usage.${k}`);
  assert.equal(out.usage.requests, 1);
  assert.ok(out.value !== null && typeof out.value === 'object', `sendJson() resolved to a parsed value: ${JSON.stringify(out.value)}`);
  const prompts = code.match(/generateJsonBatched\(\[([^\]]*)\]/)[1].split(',').length;
  assert.equal(out.values.length, prompts, 'one parsed value per prompt');
  for (const v of out.values) assert.ok(v !== null && typeof v === 'object', `a parsed value: ${JSON.stringify(v)}`);
  assert.deepEqual(r.state.progress, Array.from({ length: prompts }, () => ['batch-start', 'batch-done']).flat(), 'onProgress saw every batch');
  assert.deepEqual(out.historyAfterClear, [], 'clear() empties the history');
  assert.deepEqual(out.historyAfterSet, TURNS, 'setHistory(turns) then history');
  assert.deepEqual(out.results, checks.map((c) => c.expected), `${checks.map((c) => c.expr).join(', ')}: the values in the comments`);

  // The options of the constructor reached Gemini: the model, the system instruction, the config.
  const log = await assertKeyOnlyInHeader(r);
  const sent = log.filter((e) => e.kind === 'generate' || e.kind === 'stream');
  assert.equal(sent.length, 2 + prompts, 'send, sendJson, one request per prompt');
  for (const e of sent) {
    assert.equal(e.model, 'gemini-3.1-flash-lite');
    assert.match(e.systemInstruction ?? '', /concise study coach/);
  }
  assert.equal(sent[0].lastUserText, 'Hello');
  assert.equal(sent[0].generationConfig?.temperature, 0.3);
});

test('the examples type-check against the shipped declarations (tsc --strict, checkJs, the free variables declared)', () => {
  const dir = join(WORK, 'types');
  mkdirSync(dir, { recursive: true });
  const files = [];
  const add = (name, text) => {
    writeFileSync(join(dir, name), `${text}\nexport {};\n`);
    files.push(name);
  };
  for (const b of BLOCKS) {
    const [id] = classify(b);
    if (!id || id.startsWith('skip:')) continue;
    const base = `${id}-L${b.line}`;
    if (b.lang === 'html') {
      const scripts = [...b.code.matchAll(/<script type="module">([\s\S]*?)<\/script>/g)].map((m) => m[1]);
      assert.ok(scripts.length > 0, `README.md:${b.line}: a module script`);
      scripts.forEach((s, i) => add(`${base}-${i}.js`, s));
    } else {
      add(`${base}.${isTs(b) ? 'ts' : 'js'}`, b.code);
    }
  }
  writeFileSync(join(dir, 'globals.d.ts'), [
    '// The examples\' free variables, and what Vite\'s client types and @types/node would provide.',
    ...Object.values(FREE).map(([, decl]) => decl),
    "declare module '*?url' { const url: string; export default url; }",
    "declare module 'node:fs' { export function readFileSync(path: string | URL): Uint8Array; }",
    '',
  ].join('\n'));
  // JavaScript has no annotations to give: for .js examples, implicit `any` (a destructured `{ data }`) and
  // `catch (e)` as `any` are what the language means, not mistakes. Everything else is --strict, and a
  // TypeScript example would be checked with all of --strict.
  const project = (name, include, extra) => {
    writeFileSync(join(dir, name), JSON.stringify({
      compilerOptions: {
        strict: true, noEmit: true, allowJs: true, checkJs: true, skipLibCheck: false, types: [],
        target: 'es2022', module: 'esnext', moduleResolution: 'bundler', lib: ['es2022', 'dom'], ...extra,
      },
      files: ['globals.d.ts', ...include],
    }, null, 2));
    return run(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(dir, name)], { cwd: dir, allowFail: true });
  };
  const js = files.filter((f) => f.endsWith('.js'));
  const ts = files.filter((f) => f.endsWith('.ts'));
  const r = project('tsconfig.js.json', js, { noImplicitAny: false, useUnknownInCatchVariables: false });
  assert.equal(r.code, 0, `tsc reported errors in the JavaScript examples (files in ${dir}):\n${r.output}`);
  if (ts.length) {
    const t = project('tsconfig.ts.json', ts, {});
    assert.equal(t.code, 0, `tsc reported errors in the TypeScript examples (files in ${dir}):\n${t.output}`);
  }
  assert.ok(files.length >= Object.keys(CHECKED).length, `checked ${files.length} files`);
});
