// The web build in plain Node (initSync with the bytes), for what only Node shows: a pending timer keeps
// the process alive, so a wait the package gave up on must not leave its setTimeout behind.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startMock } from '../../mock/gemini-mock.mjs';
import { requests, script } from '../../mock/control.mjs';
import { DIST, ROOT, ensureDist, loadWebPackage } from './helpers.mjs';

const WORK = join(ROOT, 'test-output', 'node');
let mock;

before(async () => {
  await ensureDist();
  mkdirSync(WORK, { recursive: true });
  mock = await startMock({ port: 0, quiet: true });
});

after(async () => {
  await mock?.close();
});

/** Runs `code` in a child Node process; resolves to its output and when it exited (Date.now()). */
function runChild(name, code, { env = {}, timeoutMs }) {
  const file = join(WORK, `${name}.mjs`);
  writeFileSync(file, code);
  return new Promise((ok) => {
    const child = execFile(process.execPath, [file], { encoding: 'utf8', timeout: timeoutMs, env: { ...process.env, ...env } },
      (error, stdout, stderr) => ok({ code: child.exitCode, killed: Boolean(error?.killed), stdout, stderr, exitedAt: Date.now() }));
  });
}

test('an abort during a retry wait lets Node exit at once: the wait leaves no timer behind', async () => {
  const DELAY_S = 20;
  const key = 'test-key-node-abort-wait';
  await script(mock.url, key, [{ fault: 'status', status: 429, retryDelay: `${DELAY_S}s` }]);
  const glue = pathToFileURL(join(DIST, 'web', 'gemini_roadmap.js')).href;
  const wasm = pathToFileURL(join(DIST, 'web', 'gemini_roadmap_bg.wasm')).href;
  const r = await runChild('abort-retry-wait', `
import { readFileSync } from 'node:fs';
import { initSync, GeminiChat } from ${JSON.stringify(glue)};
initSync({ module: readFileSync(new URL(${JSON.stringify(wasm)})) });
const chat = new GeminiChat({ apiKey: process.env.KEY, baseUrl: process.env.MOCK_URL, maxRetries: 1 });
const ctrl = new AbortController();
// The retry event comes just before the ${DELAY_S} s wait begins: abort 200 ms into the wait.
const onProgress = (ev) => ev.type === 'retry' && setTimeout(() => ctrl.abort(), 200);
const e = await chat.send('hi', { signal: ctrl.signal, onProgress }).catch((x) => x);
console.log('REJECTED ' + JSON.stringify({ name: e.name, at: Date.now() }));
`, { env: { KEY: key, MOCK_URL: mock.url }, timeoutMs: (DELAY_S + 30) * 1000 });
  assert.equal(r.code, 0, `${r.stderr}${r.killed ? ' (killed)' : ''}`);
  const line = r.stdout.split('\n').find((l) => l.startsWith('REJECTED '));
  assert.ok(line, r.stdout);
  const rejected = JSON.parse(line.slice('REJECTED '.length));
  assert.equal(rejected.name, 'AbortError');
  const lingered = r.exitedAt - rejected.at;
  assert.ok(lingered < (DELAY_S * 1000) / 4, `Node exited ${lingered} ms after the abort; the wait was ${DELAY_S} s`);
});

test('a chat freed (or collected) while a call runs settles that call and throws nothing afterwards', async () => {
  const key = 'test-key-node-chat-free';
  await script(mock.url, key, [{ delayMs: 200 }, { delayMs: 200 }]);
  const glue = pathToFileURL(join(DIST, 'web', 'gemini_roadmap.js')).href;
  const wasm = pathToFileURL(join(DIST, 'web', 'gemini_roadmap_bg.wasm')).href;
  const r = await runChild('chat-free', `
import { readFileSync } from 'node:fs';
import { initSync, GeminiChat } from ${JSON.stringify(glue)};
initSync({ module: readFileSync(new URL(${JSON.stringify(wasm)})) });
const problems = [];
process.on('uncaughtException', (e) => problems.push('uncaught: ' + e.message));
process.on('unhandledRejection', (e) => problems.push('unhandled: ' + (e && e.message)));
const options = { apiKey: process.env.KEY, baseUrl: process.env.MOCK_URL };
const chat = new GeminiChat(options);
const reply = chat.send('one');
chat.free();
const first = await reply.then((v) => 'resolved ' + v.finishReason, (e) => 'rejected ' + e.code);
// what a \`using\` block or the garbage collector does: the last reference goes while two calls are queued
const other = new GeminiChat(options);
const a = other.send('two');
const b = other.send('three');
other.free();
const rest = await Promise.allSettled([a, b]);
// the queue's own bookkeeping runs in later microtasks and tasks: let them all run
await new Promise((ok) => setImmediate(ok));
console.log('RESULT ' + JSON.stringify({ first, rest: rest.map((x) => x.status), problems }));
`, { env: { KEY: key, MOCK_URL: mock.url }, timeoutMs: 30_000 });
  assert.equal(r.code, 0, r.stderr);
  const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  assert.ok(line, r.stdout + r.stderr);
  const out = JSON.parse(line.slice('RESULT '.length));
  assert.deepEqual(out.problems, []);
  assert.equal(out.first, 'resolved STOP');
  assert.deepEqual(out.rest, ['fulfilled', 'fulfilled']);
});

test('an async onProgress that rejects is reported like one that throws: the run goes on and Node does not crash', async () => {
  const key = 'test-key-node-async-progress';
  const glue = pathToFileURL(join(DIST, 'web', 'gemini_roadmap.js')).href;
  const wasm = pathToFileURL(join(DIST, 'web', 'gemini_roadmap_bg.wasm')).href;
  // Node's default --unhandled-rejections=throw ends the process on a rejection nobody handles.
  const r = await runChild('async-progress', `
import { readFileSync } from 'node:fs';
import { initSync, generateRoadmap, GeminiChat } from ${JSON.stringify(glue)};
initSync({ module: readFileSync(new URL(${JSON.stringify(wasm)})) });
const reported = [];
console.error = (...args) => reported.push(String(args[0]));
const options = { apiKey: process.env.KEY, baseUrl: process.env.MOCK_URL };
let events = 0;
const roadmap = await generateRoadmap({ ...options, role: 'Tester', weeks: 4,
  onProgress: async (e) => { events++; throw new Error('render failed: ' + e.type); } });
const chat = new GeminiChat(options);
const values = await chat.generateJsonBatched(['{"a":1}', '{"b":2}'], { onProgress: () => Promise.reject(new Error('nope')) });
await new Promise((ok) => setTimeout(ok, 0));
console.log('RESULT ' + JSON.stringify({ weeks: roadmap.weeks.length, values: values.length, events, reported }));
`, { env: { KEY: key, MOCK_URL: mock.url }, timeoutMs: 60_000 });
  assert.equal(r.code, 0, r.stderr);
  const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  assert.ok(line, r.stdout + r.stderr);
  const out = JSON.parse(line.slice('RESULT '.length));
  assert.equal(out.weeks, 4);
  assert.equal(out.values, 2);
  const rejected = out.reported.filter((m) => m === 'gemini-roadmap: onProgress rejected');
  // every roadmap event, and the chat's four batch events, each reported once
  assert.equal(rejected.length, out.events + 4, JSON.stringify(out.reported));
});

/** Runs `body` in a child Node with the web build initialised as `M`; resolves to what it printed after `RESULT `. */
async function childResult(name, body, { key, args = [] } = {}) {
  const glue = pathToFileURL(join(DIST, 'web', 'gemini_roadmap.js')).href;
  const wasm = pathToFileURL(join(DIST, 'web', 'gemini_roadmap_bg.wasm')).href;
  const file = join(WORK, `${name}.mjs`);
  writeFileSync(file, `
import { readFileSync } from 'node:fs';
import * as M from ${JSON.stringify(glue)};
M.initSync({ module: readFileSync(new URL(${JSON.stringify(wasm)})) });
const KEY = process.env.KEY, MOCK_URL = process.env.MOCK_URL;
${body}
`);
  const r = await new Promise((ok) => {
    execFile(process.execPath, [...args, file], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, KEY: key, MOCK_URL: mock.url } },
      (error, stdout, stderr) => ok({ error, stdout, stderr }));
  });
  const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  assert.ok(line, `${r.stdout}${r.stderr}${r.error ?? ''}`);
  return JSON.parse(line.slice('RESULT '.length));
}

test('a chat holds no result of a settled call: its queue keeps only that the calls settled', async () => {
  // Each call's place in the queue was `allSettled([the place before, the call])`, which held every result (and
  // the places before) for as long as the chat lived (found by a review: ~9 KB per call, never freed).
  const out = await childResult('chat-results-freed', `
const chat = new M.GeminiChat({ apiKey: KEY, baseUrl: MOCK_URL });
const refs = [];
for (let i = 0; i < 5; i++) { refs.push(new WeakRef(await chat.send('hello ' + i))); chat.clear(); }
await chat.send('one more');
for (let i = 0; i < 5; i++) { await new Promise((ok) => setTimeout(ok, 10)); globalThis.gc(); }
console.log('RESULT ' + JSON.stringify({ alive: refs.map((r) => Boolean(r.deref())) }));
`, { key: 'test-key-node-chat-freed', args: ['--expose-gc'] });
  assert.deepEqual(out.alive, [false, false, false, false, false]);
});

test('a console that throws breaks nothing: runs settle, also other runs, and the callback error is dropped', async () => {
  // console.error and console.debug were plain imports: their exception unwound through the wasm and left the
  // promise driver's queue half run, so this run and any other never settled (found by a review).
  const out = await childResult('console-throws', `
console.error = () => { throw new Error('console.error is broken'); };
console.debug = () => { throw new Error('console.debug is broken'); };
const pending = new Promise((ok) => setTimeout(() => ok('pending'), 20_000));
const settle = (p) => Promise.race([p.then(() => 'resolved', (e) => 'rejected ' + e.name), pending]);
const options = { apiKey: KEY, baseUrl: MOCK_URL, role: 'Tester', weeks: 3 };
const thrower = await settle(M.generateRoadmap({ ...options, onProgress: () => { throw new Error('render failed'); } }));
const ctrl = new AbortController();
const logged = M.generateRoadmap({ ...options, log: true, signal: ctrl.signal, onProgress: (e) => e.type === 'week' && ctrl.abort() });
const quiet = M.generateRoadmap({ ...options, weeks: 6, signal: ctrl.signal });
const both = await Promise.all([settle(logged), settle(quiet)]);
console.log('RESULT ' + JSON.stringify({ thrower, both }));
`, { key: 'test-key-node-console-throws' });
  assert.deepEqual(out, { thrower: 'resolved', both: ['rejected AbortError', 'rejected AbortError'] });
});

test('input the facade refuses or hides: a given empty role or 0 weeks, a pasted key in any error, a queued batched call aborted', async () => {
  const key = 'test-key-node-facade-input-0123';
  const out = await childResult('facade-input', `
const desc = (e) => ({ name: e.name, code: e.code, field: e.field, message: String(e.message), batch: e.batch, results: e.results });
const base = { apiKey: KEY, baseUrl: MOCK_URL, role: 'Tester', weeks: 3 };
const rm = await M.generateRoadmap(base);
const sentBefore = (await (await fetch(MOCK_URL + '/__mock/requests?key=' + KEY)).json()).requests.length;
// regenerateWeek fills in only what is left out: an empty role or 0 weeks was written, and is not the roadmap's
const given = [];
for (const o of [{ role: '' }, { role: '   ' }, { weeks: 0 }, { weeks: -0 }]) {
  given.push(await M.regenerateWeek(rm, 2, { apiKey: KEY, baseUrl: MOCK_URL, ...o }).then(() => 'resolved', desc));
}
const sentAfter = (await (await fetch(MOCK_URL + '/__mock/requests?key=' + KEY)).json()).requests.length;
// the key as pasted (a line break after it) is hidden like the key itself, also from a getter's error
const pasted = KEY + '\\n';
const named = await M.generateRoadmap({ ...base, apiKey: pasted, [KEY]: 1 }).then(() => 'resolved', desc);
const getter = await M.generateRoadmap({ ...base, get signal() { throw new Error('no signal for ' + KEY); } }).then(() => 'resolved', desc);
// a generateJsonBatched aborted while it waits its turn rejects as it does before its first batch
const chat = new M.GeminiChat({ apiKey: KEY, baseUrl: MOCK_URL });
await chat.send('first');
const fresh = new M.GeminiChat({ apiKey: KEY, baseUrl: MOCK_URL });
const aborted = AbortSignal.abort();
const queued = await chat.generateJsonBatched(['{"a":1}'], { signal: aborted }).then(() => 'resolved', desc);
const first = await fresh.generateJsonBatched(['{"a":1}'], { signal: aborted }).then(() => 'resolved', desc);
console.log('RESULT ' + JSON.stringify({ given, sent: sentAfter - sentBefore, named, getter, queued, first }));
`, { key });
  assert.deepEqual(out.given.map((e) => [e.code, e.field]), [['INVALID_INPUT', 'role'], ['INVALID_INPUT', 'role'], ['INVALID_INPUT', 'weeks'], ['INVALID_INPUT', 'weeks']]);
  assert.equal(out.sent, 0, 'refused input costs no request');
  for (const e of [out.named, out.getter]) {
    assert.equal(e.code, 'INVALID_INPUT');
    assert.ok(!JSON.stringify(e).includes(key), JSON.stringify(e));
  }
  assert.deepEqual(out.queued, out.first);
  assert.deepEqual([out.queued.name, out.queued.batch, out.queued.results], ['AbortError', 1, []]);
});

test('a call before init() throws NOT_INITIALIZED, also after a failed init, and works once init() succeeds', async () => {
  // A query string gives this test its own, uninitialised instance of the glue.
  const glue = `${pathToFileURL(join(DIST, 'web', 'gemini_roadmap.js')).href}?before-init`;
  const pkg = await import(glue);
  const notInitialized = (e) => {
    assert.ok(e instanceof Error, String(e));
    assert.equal(e.name, 'GeminiRoadmapError');
    assert.equal(e.code, 'NOT_INITIALIZED');
    assert.equal(e.retryable, false);
    assert.match(e.message, /await init\(\)/);
    return true;
  };
  const calls = {
    generateRoadmap: () => pkg.generateRoadmap({ apiKey: 'k', role: 'DevOps Engineer', weeks: 1 }),
    regenerateWeek: () => pkg.regenerateWeek({}, 1, { apiKey: 'k' }),
    repairJson: () => pkg.repairJson('{"a":1,'),
    GeminiChat: () => new pkg.GeminiChat({ apiKey: 'k' }),
  };
  for (const [name, call] of Object.entries(calls)) assert.throws(call, notInitialized, name);
  assert.throws(() => pkg.initSync({ module: new Uint8Array([0, 97, 115, 109, 9, 9, 9, 9]) }), WebAssembly.CompileError);
  assert.throws(calls.repairJson, notInitialized, 'after a failed init');
  await pkg.default({ module_or_path: readFileSync(join(DIST, 'web', 'gemini_roadmap_bg.wasm')) });
  assert.equal(pkg.repairJson('{"a":1,'), '{"a":1}');
  assert.equal(await pkg.default(), await pkg.default(), 'init() twice gives the same exports');

  // initSync() while an init() loads: the load's end replaced the instance, and a chat made in between read a memory
  // no longer used ("memory access out of bounds"; found by an exploratory test of the package).
  const race = await import(`${pathToFileURL(join(DIST, 'web', 'gemini_roadmap.js')).href}?init-race`);
  const bytes = readFileSync(join(DIST, 'web', 'gemini_roadmap_bg.wasm'));
  const loading = race.default({ module_or_path: bytes });
  const first = race.initSync({ module: bytes });
  const chat = new race.GeminiChat({ apiKey: 'k' });
  chat.setHistory([{ role: 'user', text: 'hi' }, { role: 'model', text: 'hello' }]);
  assert.equal(await loading, first, 'the load gives the instance initSync() made');
  assert.deepEqual(chat.history, [{ role: 'user', text: 'hi' }, { role: 'model', text: 'hello' }]);
});

test('a freed GeminiChat: free() and dispose may come again, a call throws FREED', async () => {
  const pkg = await import(`${pathToFileURL(join(DIST, 'web', 'gemini_roadmap.js')).href}?freed`);
  pkg.initSync({ module: readFileSync(join(DIST, 'web', 'gemini_roadmap_bg.wasm')) });
  const chat = new pkg.GeminiChat({ apiKey: 'test-key-freed', baseUrl: mock.url });
  chat.free();
  // Idempotent, as a disposer should be: React's StrictMode runs a cleanup twice, `using` disposes after a free().
  chat.free();
  chat[Symbol.dispose]();
  const freed = (e) => e instanceof Error && e.name === 'GeminiRoadmapError' && e.code === 'FREED' && /create a new one/.test(e.message);
  assert.throws(() => chat.send('hi'), freed, 'send');
  assert.throws(() => chat.history, freed, 'history');
  assert.throws(() => chat.setHistory([]), freed, 'setHistory');
  // Other chats are not affected.
  const other = new pkg.GeminiChat({ apiKey: 'test-key-freed', baseUrl: mock.url });
  assert.deepEqual(other.history, []);
  other.free();
});

test('free() from inside one of the chat\'s own calls (a getter it reads) throws nothing; the call settles, then FREED', async () => {
  const pkg = await import(`${pathToFileURL(join(DIST, 'web', 'gemini_roadmap.js')).href}?reentrant-free`);
  pkg.initSync({ module: readFileSync(join(DIST, 'web', 'gemini_roadmap_bg.wasm')) });
  const freed = (e) => e?.name === 'GeminiRoadmapError' && e?.code === 'FREED';
  // A getter setHistory reads while it holds the chat: wasm-bindgen's free() threw a plain Error there.
  const chat = new pkg.GeminiChat({ apiKey: 'test-key-freed', baseUrl: mock.url });
  let thrown = 'nothing';
  chat.setHistory([{ role: 'user', get text() { try { chat.free(); } catch (e) { thrown = e; } return 'x'; } }]);
  assert.equal(thrown, 'nothing');
  assert.throws(() => chat.history, freed);
  chat.free();
  // The same from a call option's getter: the call goes on with what it holds and settles.
  const other = new pkg.GeminiChat({ apiKey: 'test-key-freed', baseUrl: mock.url });
  const sent = other.send('hi', { get signal() { try { other.free(); } catch (e) { thrown = e; } return undefined; } });
  assert.equal(thrown, 'nothing');
  const settled = await sent.then((r) => `resolved ${typeof r.text}`, (e) => `rejected ${e?.name} ${e?.code}`);
  assert.match(settled, /^(resolved string|rejected GeminiRoadmapError \w+)$/);
  assert.throws(() => other.send('again'), freed);
});

test('an option set to null counts as not given, as the README says, for the roadmap and the chat alike', async () => {
  const pkg = await import(`${pathToFileURL(join(DIST, 'web', 'gemini_roadmap.js')).href}?null-options`);
  pkg.initSync({ module: readFileSync(join(DIST, 'web', 'gemini_roadmap_bg.wasm')) });
  const roadmap = await pkg.generateRoadmap({
    apiKey: 'test-key-null', baseUrl: mock.url, role: 'Tester', weeks: 3, log: false,
    model: null, signal: null, onProgress: null, level: null, userId: null, batchWeeks: null, maxRetries: null, timeoutMs: null,
    contextDays: null, hoursPerDay: null, resumeFrom: null, history: null, stream: null, strategy: null, concurrency: null, maxOutputTokens: null,
  });
  assert.equal(roadmap.weeks.length, 3);
  // A roadmap given back with its optional fields null, as storage may return them (the .d.ts's StoredRoadmap).
  const stored = { ...roadmap, userId: null, level: null, hoursPerDay: null };
  assert.equal((await pkg.generateRoadmap({ apiKey: 'test-key-null', baseUrl: mock.url, role: 'Tester', weeks: 3, resumeFrom: stored })).weeks.length, 3);
  assert.equal((await pkg.regenerateWeek(stored, 2, { apiKey: 'test-key-null', baseUrl: mock.url, log: false })).weeks.length, 3);
  const sent = await requests(mock.url, { key: 'test-key-null' });
  assert.ok(sent.length >= 2 && sent.every((r) => r.model === 'gemini-3.1-flash-lite'), `the default model: ${JSON.stringify(sent.map((r) => r.model))}`);
  const chat = new pkg.GeminiChat({ apiKey: 'test-key-null', baseUrl: mock.url, model: null, systemInstruction: null, generationConfig: null, log: false });
  assert.equal(typeof (await chat.send('hi', null)).text, 'string');
  assert.equal(typeof (await chat.send('again', { signal: null, onProgress: null })).text, 'string');
  chat.free();
  // Not a value to check: a null still has to be a known option.
  const count = (await requests(mock.url, { key: 'test-key-null' })).length;
  await assert.rejects(pkg.generateRoadmap({ apiKey: 'test-key-null', baseUrl: mock.url, role: 'Tester', weeks: 3, colour: null }), { code: 'INVALID_INPUT' });
  assert.equal((await requests(mock.url, { key: 'test-key-null' })).length, count, 'refused before any request');
});

test('what the caller\'s code throws costs no externref slot: getters, Proxy traps and onProgress, thousands of times', async () => {
  const pkg = await import(`${pathToFileURL(join(DIST, 'web', 'gemini_roadmap.js')).href}?slots`);
  const out = pkg.initSync({ module: readFileSync(join(DIST, 'web', 'gemini_roadmap_bg.wasm')) });
  const table = Object.values(out).find((v) => v instanceof WebAssembly.Table);
  const boom = () => { throw new Error('boom'); };
  const throwers = [
    () => new pkg.GeminiChat({ apiKey: 'test-key-slots', get model() { return boom(); } }),
    () => new pkg.GeminiChat(new Proxy({ apiKey: 'k' }, { ownKeys: boom })),
    () => new pkg.GeminiChat(new Proxy({ apiKey: 'k' }, { get: boom })),
  ];
  const throwAll = (n) => { for (let i = 0; i < n; i++) for (const f of throwers) assert.throws(f, { code: 'INVALID_INPUT' }); };
  const onProgress = () => { throw new Error('a render bug'); };
  const run = () => pkg.generateRoadmap({ apiKey: 'test-key-slots', baseUrl: mock.url, role: 'Tester', weeks: 3, log: false, onProgress });
  throwAll(10);
  await run();
  const before = table.length;
  // wasm-bindgen's `catch` imports kept one slot per throw, so the table grew by thousands here.
  throwAll(1000);
  for (let i = 0; i < 20; i++) assert.equal((await run()).weeks.length, 3);
  assert.equal(table.length, before, `the externref table grew from ${before} to ${table.length}`);
});

test('an abort names the first batch under way: in parallel, week 1 in parts, not the batch that noticed first', async () => {
  // Aborted on the outline event while week 1's parts were in flight, the error named batch 2, which the same event
  // had let start and which saw the signal before its first request, at once; the parts saw it only when their
  // fetches rejected (found by an exploratory test).
  const key = 'test-key-node-parallel-abort-batch';
  const out = await childResult('parallel-abort-batch', `
const runs = [];
for (const strategy of ['parallel', 'sequential']) {
  const c = new AbortController();
  const e = await M.generateRoadmap({ apiKey: KEY, baseUrl: MOCK_URL, role: 'DevOps Engineer', weeks: 7, strategy, signal: c.signal,
    onProgress: (ev) => { if (ev.type === 'outline') c.abort(); } }).then(() => null, (e) => e);
  runs.push({ strategy, name: e && e.name, batch: e && e.batch, batches: e && e.partial && e.partial.batches });
}
console.log('RESULT ' + JSON.stringify(runs));
`, { key });
  for (const r of out) {
    assert.equal(r.name, 'AbortError', JSON.stringify(r));
    assert.ok(r.batches.length > 0, JSON.stringify(r));
    assert.equal(r.batch, 1, JSON.stringify(r));
  }
  const [parallel] = out;
  assert.deepEqual([parallel.batches[0].startWeek, parallel.batches[0].endWeek], [1, 1], 'week 1 in parts');
  assert.ok(parallel.batches[0].attempts > 0, JSON.stringify(parallel));
});

test('an abort reason that passes instanceof DOMException but throws when read rejects every call it stops, and stalls none', async () => {
  // `abort(Object.create(DOMException.prototype))`: reading its `name` throws. That throw came out of the package's
  // promise driver in the middle of a microtask: every call polled in that microtask never settled (the chat's later
  // calls, unrelated runs) and Node ended on the uncaught exception (found by a concurrency audit).
  const key = 'test-key-node-abort-reason-throws';
  // slow answers, so that the abort comes while the requests are in flight
  await script(mock.url, key, Array.from({ length: 40 }, () => ({ delayMs: 300 })), { replace: true });
  const out = await childResult('abort-reason-throws', `
const problems = [];
process.on('uncaughtException', (e) => problems.push('uncaught: ' + e.message));
const within = (p) => Promise.race([p, new Promise((ok) => setTimeout(ok, 3000, 'never settled'))]);
const settle = (p) => within(p.then(() => 'fulfilled', (e) => e.name));
const reasons = {
  prototype: () => Object.create(DOMException.prototype),
  proxy: () => new Proxy({}, { getPrototypeOf() { throw new Error('trap'); } }),
};
const runs = {};
for (const [kind, reason] of Object.entries(reasons)) {
  const ctrl = new AbortController();
  const chat = new M.GeminiChat({ apiKey: KEY, baseUrl: MOCK_URL });
  const calls = [chat.send('hello', { signal: ctrl.signal }),
    M.generateRoadmap({ apiKey: KEY, role: 'DevOps Engineer', weeks: 6, baseUrl: MOCK_URL, log: false, signal: ctrl.signal }),
    M.generateRoadmap({ apiKey: KEY, role: 'DevOps Engineer', weeks: 6, strategy: 'parallel', baseUrl: MOCK_URL, log: false, signal: ctrl.signal })];
  const causes = calls.map((p) => p.catch((e) => e.cause));
  // an unrelated run without a signal (and another key), begun in the same microtask as the abort
  let unrelated;
  setTimeout(() => { ctrl.abort(reason()); unrelated = M.generateRoadmap({ apiKey: KEY + '-free', role: 'Tester', weeks: 2, baseUrl: MOCK_URL, log: false }); }, 50);
  const settled = await Promise.all(calls.map(settle));
  const cs = await within(Promise.all(causes));
  runs[kind] = { settled, sameCause: Array.isArray(cs) && cs.every((c) => c !== undefined && typeof c === 'object'),
    unrelated: await settle(unrelated), next: await settle(chat.send('again')) };
}
console.log('RESULT ' + JSON.stringify({ runs, problems }));
`, { key });
  assert.deepEqual(out.problems, []);
  for (const [kind, r] of Object.entries(out.runs)) {
    assert.deepEqual(r.settled, ['AbortError', 'AbortError', 'AbortError'], kind);
    assert.ok(r.sameCause, `${kind}: the reason is the AbortError's cause`);
    assert.equal(r.unrelated, 'fulfilled', kind);
    assert.equal(r.next, 'fulfilled', `${kind}: the chat goes on`);
  }
});

test('a throw out of JavaScript while a call runs rejects that call with what was thrown; calls beside it go on', async () => {
  // The package calls the page's global `setTimeout` without a catch. Replaced by one that throws, the throw left the
  // promise driver mid-batch: the runs polled after it in that microtask never settled (found with a Proxy signal,
  // whose reads are now caught).
  const out = await childResult('poll-throws', `
const problems = [];
process.on('uncaughtException', (e) => problems.push('uncaught: ' + e.message));
const realSetTimeout = globalThis.setTimeout;
let armed = false;
globalThis.setTimeout = (...a) => { if (armed) { armed = false; throw new Error('setTimeout trap'); } return realSetTimeout(...a); };
const within = (p) => Promise.race([p, new Promise((ok) => realSetTimeout(ok, 3000, 'never settled'))]);
const settle = (p) => within(p.then(() => 'fulfilled', (e) => e && e.message));
const run = () => M.generateRoadmap({ apiKey: KEY, role: 'Tester', weeks: 3, baseUrl: MOCK_URL, log: false });
const sp = M.initSync({ module: new Uint8Array(0) }).$sp; // the instance already made: initSync returns its exports
const spBefore = sp.value;
armed = true;
// polled in this order, in one microtask: the first call's first request meets the trap
const [first, ...rest] = await Promise.all([run(), run(), run()].map(settle));
// Each throw unwinds through the wasm without giving back the stack space of the frames it leaves: about 2.5 KB.
// Without the guard's reset, the 1 MB stack ran out after some 400 throws, and calls stopped settling.
const many = {};
for (let i = 0; i < 1000; i++) {
  armed = true;
  const m = await settle(run());
  many[m] = (many[m] || 0) + 1;
}
const after = await settle(run());
console.log('RESULT ' + JSON.stringify({ first, rest, many, after, problems, spMoved: sp.value - spBefore }));
`, { key: 'test-key-node-poll-throws' });
  assert.deepEqual(out.problems, []);
  assert.equal(out.first, 'setTimeout trap');
  assert.deepEqual(out.rest, ['fulfilled', 'fulfilled']);
  assert.deepEqual(out.many, { 'setTimeout trap': 1000 });
  assert.equal(out.after, 'fulfilled');
  assert.equal(out.spMoved, 0, 'the shadow stack pointer is back where it was');
});

test('a revoked Proxy as options, or a callback Proxy whose traps throw: INVALID_INPUT or a working call, and the instance unharmed', async () => {
  // `Array.isArray` of a revoked Proxy throws: out of the synchronous part of a call, with no guard around it, each
  // such throw left the shadow stack ~0.6-2 KB lower, and after some 500 every call failed "memory access out of
  // bounds" (found by a review). `chat.send` threw it synchronously instead of rejecting.
  const out = await childResult('revoked-proxy', `
const problems = [];
process.on('uncaughtException', (e) => problems.push('uncaught: ' + e.message));
const sp = M.initSync({ module: new Uint8Array(0) }).$sp;
const spBefore = sp.value;
const { proxy, revoke } = Proxy.revocable({}, {});
revoke();
const seen = {};
const tally = (k, v) => { seen[k] = seen[k] || {}; seen[k][v] = (seen[k][v] || 0) + 1; };
const chat = new M.GeminiChat({ apiKey: KEY, baseUrl: MOCK_URL });
for (let i = 0; i < 2000; i++) {
  try { new M.GeminiChat(proxy); tally('new GeminiChat', 'no throw'); } catch (e) { tally('new GeminiChat', e.code); }
  let p;
  try { p = chat.send('hi', proxy); } catch (e) { tally('send', 'threw ' + (e.code || e.message)); continue; }
  tally('send', await p.then(() => 'fulfilled', (e) => e.code));
}
tally('generateRoadmap', await M.generateRoadmap(proxy).then(() => 'fulfilled', (e) => e.code));
let calls = 0;
const onProgress = new Proxy(() => { calls++; }, { getPrototypeOf() { throw new Error('trap'); } });
const r = await M.generateRoadmap({ apiKey: KEY, role: 'Tester', weeks: 3, baseUrl: MOCK_URL, log: false, onProgress });
// arrays are still arrays (the glue's shrinking once renamed Array.isArray along with the package's own isArray)
const again = await M.regenerateWeek(r, 2, { apiKey: KEY, baseUrl: MOCK_URL, log: false });
console.log('RESULT ' + JSON.stringify({ seen, weeks: r.weeks.length, again: again.weeks.length, calls, problems, spMoved: sp.value - spBefore }));
`, { key: 'test-key-node-revoked' });
  assert.deepEqual(out.problems, []);
  assert.deepEqual(out.seen, { 'new GeminiChat': { INVALID_INPUT: 2000 }, send: { INVALID_INPUT: 2000 }, generateRoadmap: { INVALID_INPUT: 1 } });
  assert.equal(out.weeks, 3);
  assert.equal(out.again, 3);
  assert.ok(out.calls > 3, 'the Proxy callback was called');
  assert.equal(out.spMoved, 0);
});

test('onProgress returning a promise whose then, catch or constructor throws: reported or ignored, and the run goes on', async () => {
  // The package watched the returned promise with Promise.resolve(p).catch(...): a throwing `constructor` or `catch`
  // threw out of that, and the run rejected with the raw error, without `code` or `partial` (found by a review).
  const out = await childResult('odd-promises', `
const problems = [];
process.on('uncaughtException', (e) => problems.push('uncaught: ' + e.message));
process.on('unhandledRejection', (e) => problems.push('unhandled: ' + (e && e.message)));
const reported = [];
console.error = (label) => reported.push(String(label));
const boom = () => { throw new Error('boom'); };
const odd = {
  catchThrows: () => { const p = Promise.resolve(); Object.defineProperty(p, 'catch', { get: boom }); return p; },
  constructorThrows: () => { const p = Promise.resolve(); Object.defineProperty(p, 'constructor', { get: boom }); return p; },
  thenThrows: () => ({ then: boom }),
};
const runs = {};
for (const [name, make] of Object.entries(odd)) {
  reported.length = 0;
  const r = await M.generateRoadmap({ apiKey: KEY, role: 'Tester', weeks: 3, baseUrl: MOCK_URL, log: false, onProgress: make })
    .then((r) => 'weeks ' + r.weeks.length, (e) => 'rejected ' + e.message);
  await new Promise((ok) => setImmediate(ok));
  runs[name] = { r, reported: [...new Set(reported)] };
}
console.log('RESULT ' + JSON.stringify({ runs, problems }));
`, { key: 'test-key-node-odd-promises' });
  assert.deepEqual(out.problems, []);
  assert.deepEqual(out.runs.catchThrows, { r: 'weeks 3', reported: [] });
  // a native promise's `then` reads `constructor`: that throw is the promise's rejection
  assert.deepEqual(out.runs.constructorThrows, { r: 'weeks 3', reported: ['gemini-roadmap: onProgress rejected'] });
  assert.deepEqual(out.runs.thenThrows, { r: 'weeks 3', reported: ['gemini-roadmap: onProgress rejected'] });
});

test('a signal that throws when read counts as aborted: AbortError with partial, and nothing left running', async () => {
  // A Proxy of a signal whose `aborted` trap throws once the run is under way. The throw came out of a poll: the run
  // was rejected with the trap's error, without `partial`, and its request and deadline timer stayed alive, so Node
  // stayed up for `timeoutMs` (found by a review).
  const TIMEOUT_S = 20;
  const glue = pathToFileURL(join(DIST, 'web', 'gemini_roadmap.js')).href;
  const wasm = pathToFileURL(join(DIST, 'web', 'gemini_roadmap_bg.wasm')).href;
  const r = await runChild('signal-read-throws', `
import { readFileSync } from 'node:fs';
import { initSync, generateRoadmap } from ${JSON.stringify(glue)};
initSync({ module: readFileSync(new URL(${JSON.stringify(wasm)})) });
const ctrl = new AbortController();
let armed = false;
const signal = new Proxy(ctrl.signal, { get(t, k) {
  if (armed && k === 'aborted') throw new Error('aborted trap');
  const v = Reflect.get(t, k, t);
  return typeof v === 'function' ? v.bind(t) : v;
} });
const e = await generateRoadmap({ apiKey: process.env.KEY, role: 'Tester', weeks: 8, baseUrl: process.env.MOCK_URL, log: false, signal,
  timeoutMs: ${TIMEOUT_S * 1000}, onProgress: (ev) => { if (ev.type === 'week') armed = true; } }).then(() => null, (x) => x);
console.log('REJECTED ' + JSON.stringify({ name: e && e.name, message: e && e.message, partial: Boolean(e && e.partial), at: Date.now() }));
`, { env: { KEY: 'test-key-node-signal-read-throws', MOCK_URL: mock.url }, timeoutMs: (TIMEOUT_S + 30) * 1000 });
  assert.equal(r.code, 0, r.stderr);
  const line = r.stdout.split('\n').find((l) => l.startsWith('REJECTED '));
  assert.ok(line, r.stdout + r.stderr);
  const rejected = JSON.parse(line.slice('REJECTED '.length));
  assert.equal(rejected.name, 'AbortError', JSON.stringify(rejected));
  assert.ok(rejected.partial, 'the finished weeks are kept');
  const lingered = r.exitedAt - rejected.at;
  assert.ok(lingered < (TIMEOUT_S * 1000) / 4, `Node exited ${lingered} ms after the rejection; timeoutMs was ${TIMEOUT_S} s`);
});

test('generateJsonBatched with a signal that throws when read rejects as an abort, like the other calls', async () => {
  // Its checks between batches read `aborted` unguarded: the call rejected with the getter's raw error (found by a
  // review), where `send` and `generateRoadmap` count such a signal as aborted.
  const glue = pathToFileURL(join(DIST, 'web', 'gemini_roadmap.js')).href;
  const wasm = pathToFileURL(join(DIST, 'web', 'gemini_roadmap_bg.wasm')).href;
  const r = await runChild('batched-signal-read-throws', `
import { readFileSync } from 'node:fs';
import { initSync, GeminiChat } from ${JSON.stringify(glue)};
initSync({ module: readFileSync(new URL(${JSON.stringify(wasm)})) });
const out = [];
for (const kind of ['object', 'proxy']) {
  let reads = 0;
  const ctrl = new AbortController();
  const signal = kind === 'object'
    ? { get aborted() { if (++reads > 1) throw new Error('boom'); return false; }, addEventListener() {}, removeEventListener() {} }
    : new Proxy(ctrl.signal, { get(t, k) {
        if (k === 'aborted' && ++reads > 1) throw new Error('boom');
        const v = Reflect.get(t, k, t);
        return typeof v === 'function' ? v.bind(t) : v;
      } });
  const chat = new GeminiChat({ apiKey: process.env.KEY + kind, baseUrl: process.env.MOCK_URL, log: false });
  const e = await chat.generateJsonBatched(['Return JSON {"a":1}', 'Return JSON {"b":2}'], { signal }).then(() => null, (x) => x);
  out.push({ kind, name: e && e.name, message: e && e.message, results: e && Array.isArray(e.results) });
}
console.log('RESULT ' + JSON.stringify(out));
`, { env: { KEY: 'test-key-node-batched-signal-', MOCK_URL: mock.url }, timeoutMs: 30_000 });
  assert.equal(r.code, 0, r.stderr);
  const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  assert.ok(line, r.stdout + r.stderr);
  for (const x of JSON.parse(line.slice('RESULT '.length))) {
    assert.equal(x.name, 'AbortError', JSON.stringify(x));
    assert.ok(x.results, `${x.kind}: the results so far are kept`);
  }
});

test('one signal for many requests or queued calls adds one listener to it: Node warns of no leak, and the abort still reaches every call', async () => {
  // A listener per request in flight (or per queued chat call) on the caller's signal: from 11 on (`concurrency`
  // 11-16, a chat's queued calls, runs sharing a Cancel button) Node printed `MaxListenersExceededWarning: Possible
  // EventTarget memory leak detected` (found by an exploratory test).
  const glue = pathToFileURL(join(DIST, 'web', 'gemini_roadmap.js')).href;
  const wasm = pathToFileURL(join(DIST, 'web', 'gemini_roadmap_bg.wasm')).href;
  await script(mock.url, 'test-key-node-listeners-chat', [{ fault: 'hang' }]);
  const r = await runChild('one-listener-per-signal', `
import { readFileSync } from 'node:fs';
import { initSync, generateRoadmap, GeminiChat } from ${JSON.stringify(glue)};
initSync({ module: readFileSync(new URL(${JSON.stringify(wasm)})) });
const base = { role: 'Tester', baseUrl: process.env.MOCK_URL, log: false };
const run = new AbortController();
const rm = await generateRoadmap({ ...base, apiKey: 'test-key-node-listeners-run', weeks: 40, batchWeeks: 1, strategy: 'parallel',
  concurrency: 16, signal: run.signal });
const chat = new GeminiChat({ apiKey: 'test-key-node-listeners-chat', baseUrl: process.env.MOCK_URL, log: false, maxRetries: 0 });
const ctrl = new AbortController();
const calls = Array.from({ length: 14 }, (_, i) => chat.send('call ' + i, { signal: ctrl.signal }).then(() => 'resolved', (e) => e.name));
setTimeout(() => ctrl.abort(), 300);
console.log('RESULT ' + JSON.stringify({ weeks: rm.weeks.length, calls: await Promise.all(calls) }));
`, { env: { MOCK_URL: mock.url }, timeoutMs: 60_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /MaxListenersExceeded|memory leak/, r.stderr);
  const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  assert.ok(line, r.stdout + r.stderr);
  const out = JSON.parse(line.slice('RESULT '.length));
  assert.equal(out.weeks, 40);
  assert.deepEqual(out.calls, Array(14).fill('AbortError'), 'the running call and every queued one hear the abort');
});

test('a signal of its own per call (AbortSignal.any, .timeout) is given back once the call settles, also aborted; a failed addEventListener is tried again', async () => {
  // The one listener a signal got stayed after its calls settled, and engines keep an `AbortSignal.any()` signal with
  // a live source (or a `.timeout()` one until it fires) alive while it has a listener: every call's signal stayed
  // (found by a review). And a signal whose first `addEventListener` threw was never listened to again.
  const glue = pathToFileURL(join(DIST, 'web', 'gemini_roadmap.js')).href;
  const wasm = pathToFileURL(join(DIST, 'web', 'gemini_roadmap_bg.wasm')).href;
  await script(mock.url, 'test-key-node-signal-gc-deaf', [{}, { fault: 'hang' }]);
  await script(mock.url, 'test-key-node-signal-gc-abort', Array(20).fill({ fault: 'hang' }));
  const r = await runChild('signal-per-call-collected', `
import { readFileSync } from 'node:fs';
import v8 from 'node:v8';
import vm from 'node:vm';
import { initSync, GeminiChat } from ${JSON.stringify(glue)};
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');
initSync({ module: readFileSync(new URL(${JSON.stringify(wasm)})) });
const chat = new GeminiChat({ apiKey: 'test-key-node-signal-gc', baseUrl: process.env.MOCK_URL, log: false });
const app = new AbortController();
const kept = { any: [], timeout: [] };
for (let i = 0; i < 60; i++) {
  const any = AbortSignal.any([app.signal]);
  kept.any.push(new WeakRef(any));
  await chat.send('any ' + i, { signal: any });
  const timeout = AbortSignal.timeout(600_000);
  kept.timeout.push(new WeakRef(timeout));
  await chat.send('timeout ' + i, { signal: timeout });
}
// Aborted while its request hangs: the listener that ran stays on the signal unless it removes itself.
const aborting = new GeminiChat({ apiKey: 'test-key-node-signal-gc-abort', baseUrl: process.env.MOCK_URL, log: false });
kept.aborted = [];
for (let i = 0; i < 20; i++) {
  const call = new AbortController();
  const signal = AbortSignal.any([app.signal, call.signal]);
  kept.aborted.push(new WeakRef(signal));
  const pending = aborting.send('hang ' + i, { signal });
  setTimeout(() => call.abort(), 30);
  await pending.catch(() => {});
}
for (let i = 0; i < 5; i++) { await new Promise((ok) => setTimeout(ok, 20)); gc(); }
const alive = Object.fromEntries(Object.entries(kept).map(([k, refs]) => [k, refs.filter((w) => w.deref()).length]));
// A signal whose first addEventListener throws: the next call listens again, and hears the abort at once.
const ctrl = new AbortController();
let failed = false;
const deaf = new Proxy(ctrl.signal, { get(t, k) {
  if (k === 'addEventListener' && !failed) { failed = true; return () => { throw new Error('not now'); }; }
  const v = Reflect.get(t, k, t);
  return typeof v === 'function' ? v.bind(t) : v;
} });
const other = new GeminiChat({ apiKey: 'test-key-node-signal-gc-deaf', baseUrl: process.env.MOCK_URL, log: false, timeoutMs: 20_000 });
await other.send('first', { signal: deaf });
const pending = other.send('second', { signal: deaf }).then(() => 'resolved', (e) => e.name);
setTimeout(() => ctrl.abort(), 300);
const t0 = Date.now();
const second = await pending;
console.log('RESULT ' + JSON.stringify({ alive, second, ms: Date.now() - t0 }));
process.exit(0);
`, { env: { MOCK_URL: mock.url }, timeoutMs: 60_000 });
  assert.equal(r.code, 0, r.stderr);
  const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  assert.ok(line, r.stdout + r.stderr);
  const out = JSON.parse(line.slice('RESULT '.length));
  assert.ok(out.alive.any <= 2 && out.alive.timeout <= 2 && out.alive.aborted <= 2, `signals still alive (60, 60, 20): ${JSON.stringify(out.alive)}`);
  assert.equal(out.second, 'AbortError');
  assert.ok(out.ms < 5_000, `the abort was heard after ${out.ms} ms (timeoutMs 20 s)`);
});

test('a body read chunk by chunk keeps no chunk it has read while its request goes on', async () => {
  // Every read was raced with one promise that lived as long as the request, and each race left a reaction on it
  // holding its chunk: a streamed answer kept about 350 B per event until it ended (found by a scaling hunt).
  const glue = pathToFileURL(join(DIST, 'web', 'gemini_roadmap.js')).href;
  const wasm = pathToFileURL(join(DIST, 'web', 'gemini_roadmap_bg.wasm')).href;
  const r = await runChild('read-chunks-collected', `
import { readFileSync } from 'node:fs';
import v8 from 'node:v8';
import vm from 'node:vm';
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');
const body = JSON.stringify({ candidates: [{ content: { parts: [{ text: 'word '.repeat(4000) }], role: 'model' }, finishReason: 'STOP', index: 0 }],
  usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 4000, totalTokenCount: 4003 } });
const n = 200, size = Math.ceil(body.length / n), refs = [];
let pulled = 0, release, reached;
const gate = new Promise((ok) => { release = ok; });
const atGate = new Promise((ok) => { reached = ok; });
// Gemini's answer in 200 chunks; the last few wait until the chunks read so far have been counted.
globalThis.fetch = async () => new Response(new ReadableStream({
  async pull(c) {
    const i = pulled++;
    if (i === n - 5) { reached(); await gate; }
    if (i * size >= body.length) return c.close();
    const chunk = new TextEncoder().encode(body.slice(i * size, (i + 1) * size));
    refs.push(new WeakRef(chunk));
    c.enqueue(chunk);
  },
}, { highWaterMark: 0 }), { status: 200, headers: { 'content-type': 'application/json' } });
const { initSync, GeminiChat } = await import(${JSON.stringify(glue)});
initSync({ module: readFileSync(new URL(${JSON.stringify(wasm)})) });
const chat = new GeminiChat({ apiKey: 'test-key-node-read-chunks', baseUrl: 'http://127.0.0.1:9', log: false });
const reply = chat.send('hi', { signal: new AbortController().signal });
await atGate;
for (let i = 0; i < 5; i++) { await new Promise((ok) => setTimeout(ok, 20)); gc(); }
const read = refs.length;
const alive = refs.filter((w) => w.deref()).length;
release();
const { text } = await reply;
console.log('RESULT ' + JSON.stringify({ read, alive, chars: text.length }));
`, { timeoutMs: 60_000 });
  assert.equal(r.code, 0, r.stderr);
  const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  assert.ok(line, r.stdout + r.stderr);
  const out = JSON.parse(line.slice('RESULT '.length));
  assert.equal(out.chars, 20000, 'the whole answer arrived');
  assert.ok(out.read >= 190, `${out.read} chunks read before counting`);
  assert.ok(out.alive <= 3, `${out.alive} of the ${out.read} chunks read are still alive while the request goes on`);
});

test('setHistory takes exactly the thoughtSignatures the mock (Google\'s bytes parser) takes: 20,000 seeded strings', async () => {
  // A signature Gemini refuses, once in the history, makes every later request a 400 (found by a review: padding
  // alone, both alphabets, set bits past the last byte were taken). The mock's isBase64 is the reference.
  const { isBase64 } = await import('../../mock/validate.mjs');
  const { GeminiChat } = await loadWebPackage();
  const chat = new GeminiChat({ apiKey: 'test-key-node-signatures', baseUrl: mock.url, log: false });
  const alphabet = 'AQRBgwab09+/-_=!';
  let seed = 7;
  const next = (n) => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n; };
  const differ = [];
  for (let i = 0; i < 20000; i++) {
    let s = '';
    for (let j = next(10); j > 0; j--) s += alphabet[next(alphabet.length)];
    let taken = true;
    try { chat.setHistory([{ role: 'user', text: 'q' }, { role: 'model', text: 'a', thoughtSignature: s }]); } catch { taken = false; }
    // An empty signature is refused here although it decodes: it carries nothing to send back.
    if (taken !== (s !== '' && isBase64(s))) differ.push(s);
  }
  assert.deepEqual(differ.slice(0, 10), []);
});

test('a global Uint8Array from another realm (jsdom test environments replace it) reads fetch bodies all the same', async () => {
  const out = await childResult('other-realm-uint8array', `
import { runInNewContext } from 'node:vm';
// What jsdom does: the global is another realm's, while fetch still yields Node's own Uint8Array chunks.
globalThis.Uint8Array = runInNewContext('Uint8Array');
const settle = (p) => p.then((v) => ({ ok: v }), (e) => ({ error: e.code + ': ' + e.message }));
const base = { apiKey: KEY, baseUrl: MOCK_URL, role: 'Tester', weeks: 3, maxRetries: 0, log: false };
const streamed = await settle(M.generateRoadmap(base));
const whole = await settle(M.generateRoadmap({ ...base, stream: false }));
const said = await settle(new M.GeminiChat({ apiKey: KEY, baseUrl: MOCK_URL, maxRetries: 0 }).send('hi'));
console.log('RESULT ' + JSON.stringify({ streamed: streamed.error ?? streamed.ok.weeks.length, whole: whole.error ?? whole.ok.weeks.length, said: said.error ?? typeof said.ok.text }));
`, { key: 'test-key-other-realm-bytes' });
  assert.deepEqual(out, { streamed: 3, whole: 3, said: 'string' });
});

test('chat.usage counts every request of every call, failed ones included, as the mock billed them', async () => {
  const key = 'test-key-chat-usage';
  const pkg = await import(`${pathToFileURL(join(DIST, 'web', 'gemini_roadmap.js')).href}?chat-usage`);
  pkg.initSync({ module: readFileSync(join(DIST, 'web', 'gemini_roadmap_bg.wasm')) });
  const chat = new pkg.GeminiChat({ apiKey: key, baseUrl: mock.url, maxRetries: 1, log: false });
  assert.deepEqual(chat.usage, { promptTokens: 0, outputTokens: 0, thoughtsTokens: 0, cachedTokens: 0, totalTokens: 0, requests: 0 });
  // Billed and unusable: an empty answer asked again, then a SAFETY stop; then a 503 and an answer; a cut JSON answer.
  await script(mock.url, key, [{ fault: 'empty-stop' }, { fault: 'empty-stop' }, { fault: 'safety' }, { fault: 'status', status: 503 }, {},
    { fault: 'truncate', atFraction: 0.5 }]);
  await assert.rejects(chat.send('first'), { code: 'MALFORMED' });
  const afterEmpty = chat.usage;
  await assert.rejects(chat.send('second'), { code: 'BLOCKED' });
  const ok = await chat.send('third');
  await assert.rejects(chat.sendJson('fourth'), { code: 'TRUNCATED' });
  const log = (await requests(mock.url, { key })).filter((r) => r.kind === 'generate');
  assert.equal(log.length, 6);
  const sum = (f) => log.reduce((n, r) => n + (r[f] ?? 0), 0);
  const usage = chat.usage;
  assert.equal(usage.requests, 6);
  assert.equal(usage.promptTokens, sum('promptTokens'));
  assert.equal(usage.outputTokens, sum('candidatesTokenCount'));
  assert.equal(usage.thoughtsTokens, sum('thoughtsTokenCount'));
  assert.equal(usage.cachedTokens, sum('cachedTokens'));
  assert.ok(afterEmpty.requests === 2 && afterEmpty.promptTokens > 0, JSON.stringify(afterEmpty));
  assert.equal(ok.usage.requests, 2, 'send\'s own usage: the 503 and the answer');
  chat.clear();
  assert.deepEqual(chat.usage, usage, 'clear() does not reset what the chat cost');
  chat.free();
});

test('another realm\'s AbortController on the global object, which Node 24\'s Request refuses as a signal (jsdom under Vitest): calls work, an abort rejects', async () => {
  const out = await childResult('other-realm-abortcontroller', `
// What jsdom's environment gives: an AbortController of its own, whose signal is no AbortSignal of Node's; and
// undici 7's Request (Node 24), which checks the signal's brand.
const NodeAbortSignal = AbortSignal, NodeRequest = Request;
class OtherSignal {
  #listeners = new Set(); aborted = false; reason = undefined; onabort = null;
  addEventListener(type, f) { if (type === 'abort') this.#listeners.add(f); }
  removeEventListener(type, f) { this.#listeners.delete(f); }
  get [Symbol.toStringTag]() { return 'AbortSignal'; }
  _abort(reason) {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason ?? new DOMException('This operation was aborted', 'AbortError');
    for (const f of [...this.#listeners]) f({ type: 'abort' });
  }
}
globalThis.AbortController = class { signal = new OtherSignal(); abort(reason) { this.signal._abort(reason); } };
globalThis.Request = class extends NodeRequest {
  constructor(input, init) {
    if (init?.signal != null && !(init.signal instanceof NodeAbortSignal)) throw new TypeError('RequestInit: Expected signal to be an instance of AbortSignal.');
    super(input, init);
  }
};
const settle = (p) => p.then((v) => ({ ok: v }), (e) => ({ error: (e.code ?? e.name) + ': ' + e.message }));
const base = { apiKey: KEY, baseUrl: MOCK_URL, role: 'Tester', log: false };
const roadmap = await settle(M.generateRoadmap({ ...base, weeks: 3, maxRetries: 0 }));
const said = await settle(new M.GeminiChat({ apiKey: KEY, baseUrl: MOCK_URL, maxRetries: 0 }).send('hi'));
const ctrl = new AbortController();
const aborted = await M.generateRoadmap({ ...base, weeks: 6, signal: ctrl.signal, onProgress: (e) => e.type === 'outline' && ctrl.abort() }).catch((e) => e.name);
console.log('RESULT ' + JSON.stringify({ roadmap: roadmap.error ?? roadmap.ok.weeks.length, said: said.error ?? typeof said.ok.text, aborted }));
`, { key: 'test-key-other-realm-abort' });
  assert.deepEqual(out, { roadmap: 3, said: 'string', aborted: 'AbortError' });
});

test('a fetch wrapper that hands over a detached chunk (its buffer transferred): the chunk reads as empty, no TypeError escapes', async () => {
  const out = await childResult('detached-chunk', `
const realFetch = fetch;
globalThis.fetch = async (req) => {
  const res = await realFetch(req);
  const reader = res.body.getReader();
  let first = true;
  const body = new ReadableStream({ async pull(ctl) {
    if (first) {
      first = false;
      const gone = new Uint8Array(4);
      structuredClone(gone.buffer, { transfer: [gone.buffer] });
      return ctl.enqueue(gone);
    }
    const { done, value } = await reader.read();
    if (done) return ctl.close();
    ctl.enqueue(value);
  } });
  return new Response(body, { status: res.status, headers: res.headers });
};
const chat = new M.GeminiChat({ apiKey: KEY, baseUrl: MOCK_URL, maxRetries: 0 });
const said = await chat.send('hi').then((v) => typeof v.text, (e) => e.name + ': ' + e.message);
console.log('RESULT ' + JSON.stringify({ said, requests: chat.usage.requests }));
`, { key: 'test-key-detached-chunk' });
  assert.deepEqual(out, { said: 'string', requests: 1 });
});
