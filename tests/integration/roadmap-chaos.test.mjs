// Seeded chaos for `generateRoadmap` and `regenerateWeek` (the built web package in Node: real fetch, SSE, timers and
// AbortSignal) against the mock Gemini's own wire format. tests/roadmap_chaos.rs covers the batch loop natively; this
// covers what it cannot: the wasm build, the fetch door, streamed bodies as the mock writes them, aborts and timers.
//
// Each case gets its own API key, random options (weeks 1..16, batchWeeks 1..4, sequential or parallel with
// concurrency 1..6, history windowed/full where allowed, stream, maxRetries 0..3, a small timeoutMs when a stall or
// hang is scripted, sometimes maxOutputTokens), a random fault script for its key, maybe an abort (before the call,
// while the outline is in flight, while a batch is in flight, during a retry wait); a rejected run with a `partial`
// is resumed (`resumeFrom: err.partial`) with fresh faults, up to 3 times, and a finished roadmap sometimes has a
// week written again with `regenerateWeek`. Checked against the README ("generateRoadmap", "Errors", progress
// events, "What happens when things fail", resume, regenerateWeek, "Security"):
//   - every promise settles (a hang fails the case); a resolved roadmap is complete and valid (weeks 1..N once, in
//     order, 7 days each, or a placeholder with a warning naming its week; outline 1..N, phases contiguous, in order,
//     covering 1..N; batches covering 1..N, each at most batchWeeks, statuses matching their weeks);
//   - a rejection is a GeminiRoadmapError with a documented code that the faults served explain (or an AbortError
//     after an abort: the signal's own reason when it is an AbortError and no outline was read, else a new one whose
//     cause is the reason), its `partial` holds only valid weeks and every week announced before the rejection,
//     unchanged; `partial` once the outline was announced;
//   - a TIMEOUT is explained only by a request of what it names cut on the wire after timeoutMs without a byte
//     (cutByTimeout; a scripted hang or stall elsewhere, or in another batch, does not count): with `batch` set, a
//     request for weeks, or days of a week, inside that batch's `batch-start` span; with none, the outline request or
//     the model lookup (GET); for regenerateWeek, whose model lookup runs inside its one batch, batch 1's week
//     request or that lookup. Each request's task is read from its body as the mock reads it (parsePrompt), since
//     the mock's log has none for a request cut before its answer;
//   - events: no event after the promise settled or after an abort; `done` only on success, last, matching the
//     roadmap; batch-start before batch-done, once each; weeks announced once, inside a running batch; one outline,
//     before any batch; retries with attempt >= 2;
//   - usage.requests is the resumed roadmap's plus the requests the mock logged for the run (the model lookup
//     included); tokens are the resumed roadmap's plus the last usageMetadata of each response (read off the wire);
//   - a resumed run never asks again for a week finished in the roadmap it resumes (the mock's log says which weeks
//     each request asked for), keeps them unchanged, and asks for the outline only when the partial has none;
//   - nothing is sent after an abort; the key only ever travels in the x-goog-api-key header, never in a URL, a body,
//     an error, an event or the roadmap;
//   - regenerateWeek: only that week asked for, the others unchanged, events batch-start .. week .. batch-done (no
//     done), usage added; a rejection carries the roadmap unchanged as `partial` with `batch: 1`.
// Retry waits are kept short: most transient faults are per-minute 429s whose RetryInfo is tens of milliseconds; the
// 5xx/timeouts our own backoff waits for (0.5 s and more) are capped at two per case.
//
// ROADMAP_CHAOS_CASES=N (default 40), ROADMAP_CHAOS_SEED=S (default 1), ROADMAP_CHAOS_ONLY=i[,j] (those cases, traces
// printed), ROADMAP_CHAOS_VERBOSE=1 (every trace, and how often each situation came up).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';

import { startMock } from '../../mock/gemini-mock.mjs';
import { requests, script } from '../../mock/control.mjs';
import { parsePrompt, weekTitle } from '../../mock/content.mjs';
import { contentText } from '../../mock/validate.mjs';
import { caseKey, cutByTimeout, hookFetch, rng, runCases, wireEnded } from './chaos.mjs';
import { loadWebPackage } from './helpers.mjs';

const CASES = Number(process.env.ROADMAP_CHAOS_CASES || 40);
const SEED = Number(process.env.ROADMAP_CHAOS_SEED || 1);
const ONLY = process.env.ROADMAP_CHAOS_ONLY;
const POOL = 6;
const RUN_DEADLINE_MS = 30_000;
const ROLE = 'DevOps Engineer';

const CODES = new Set(['INVALID_INPUT', 'AUTH', 'RATE_LIMITED', 'BAD_REQUEST', 'NOT_FOUND', 'SERVER', 'NETWORK',
  'TIMEOUT', 'BLOCKED', 'MALFORMED', 'TRUNCATED']);

let pkg;
let mock;
const realFetch = globalThis.fetch;
/** The fetch hook (see hookFetch). */
let hooked;
/** key -> the running case, for the fetch hook. */
const live = new Map();
const stats = {
  cases: 0, runs: 0, resolved: 0, rejected: 0, aborted: 0, resumed: 0, resumedOk: 0, regenerated: 0, regenerateRejected: 0,
  requests: 0, retries: 0, fallbackWeeks: 0, parallel: 0, streamed: 0, abortsPre: 0, abortsOutline: 0, abortsBatch: 0,
  abortsRetry: 0, partialWeeks: 0, tokensChecked: 0, codes: {},
};

before(async () => {
  pkg = await loadWebPackage();
  mock = await startMock({ port: 0, quiet: true });
  // Every request the package makes passes here (see hookFetch), which keeps what its response brought on the wire
  // (the last usageMetadata in it is what the package was told the request cost) and times it (a TIMEOUT is
  // explained by a request cut by the timeout, see cutByTimeout).
  hooked = hookFetch(mock.url, live);
});

after(async () => {
  hooked?.restore();
  await mock?.close();
});

/** The last usageMetadata in a response body: SSE events (complete ones only), a JSON array or a JSON object. */
function lastUsage(text = '') {
  let usage = null;
  if (text.startsWith('data:') || text.includes('\ndata:')) {
    for (const ev of text.split(/\r?\n\r?\n/).slice(0, text.match(/\r?\n\r?\n$/) ? undefined : -1)) {
      const data = ev.split(/\r?\n/).filter((l) => l.startsWith('data:')).map((l) => l.slice(5)).join('\n');
      try { const o = JSON.parse(data); if (o.usageMetadata) usage = o.usageMetadata; } catch { /* not an event */ }
    }
  } else {
    try {
      const o = JSON.parse(text);
      for (const x of Array.isArray(o) ? o : [o]) if (x?.usageMetadata) usage = x.usageMetadata;
    } catch { /* cut */ }
  }
  return usage;
}

// ---------------------------------------------------------------------------------------------------------------
// Faults

/** backoff: a transient failure retried with our own backoff (0.5-1 s, 1-2 s, ...): at most two per case. */
function faultTable(withTimeout, key) {
  const quoting = `Permission denied: Consumer 'api_key:${key}' has been suspended.`;
  return [
    [14, () => ({})],
    [3, (R) => ({ delayMs: R.int(5, 40) })],
    [1, () => ({ fault: 'fenced' })],
    [1, () => ({ fault: 'commented' })],
    [1, () => ({ fault: 'trailing-comma' })],
    [0.5, () => ({ fault: 'single-quotes' })],
    [0.5, () => ({ fault: 'python-literals' })],
    [1, () => ({ fault: 'fragmented' })],
    [1, () => ({ fault: 'coalesced' })],
    [2, () => ({ fault: 'prose' })],
    [3, (R) => ({ fault: 'truncate', atFraction: R.pick([0.2, 0.5, 0.8]) })],
    [1, () => ({ fault: 'wrong-week-numbers' })],
    [1, () => ({ fault: 'missing-day' })],
    [1, () => ({ fault: 'duplicate-week' })],
    [1, () => ({ fault: 'extra-week' })],
    [6, (R) => ({ fault: 'status', status: 429, retryDelay: R.pick(['0.02s', '0.05s', '0.1s']) })],
    [0.4, () => ({ fault: 'status', status: 429, retryDelay: '0.01s', repeat: 4 })],
    [0.3, () => ({ fault: 'status', status: 429, retryDelay: '400s' })],
    [1, (R) => ({ fault: 'status', status: R.pick([500, 502, 503, 504]), backoff: true })],
    [0.5, () => ({ fault: 'html502', backoff: true })],
    [0.5, () => ({ fault: 'reset', backoff: true })],
    [0.3, () => ({ fault: 'status', status: 429, bare: true, backoff: true })],
    [0.6, (R) => ({ fault: 'status', status: R.pick([400, 401, 403, 404, 501]) })],
    [0.3, () => ({ fault: 'status', status: 403, message: quoting })],
    [0.5, () => ({ fault: 'quota-day' })],
    [0.3, () => ({ fault: 'status', status: 429, limit: 0, retryDelay: '0.05s' })],
    [0.4, () => ({ fault: 'blocked', reason: 'SAFETY' })],
    [1, (R) => ({ fault: R.pick(['safety', 'recitation', 'other']) })],
    [0.7, () => ({ fault: 'empty-candidates' })],
    [0.5, () => ({ fault: 'empty-stop' })],
    [0.4, () => ({ fault: 'thoughts-only' })],
    [1.5, (R) => ({ fault: 'sse-cut', afterChunks: R.int(1, 6) })],
    [0.7, (R) => ({ fault: 'sse-error', afterChunks: R.int(1, 5), backoff: true })],
    [0.7, (R) => ({ fault: 'sse-error', afterChunks: R.int(1, 5), code: 429, retryDelay: '0.03s' })],
    ...(withTimeout ? [[2, (R) => ({ fault: R.pick(['hang', 'stall']), afterChunks: R.int(1, 4), backoff: true })]] : []),
  ];
}

/** The codes a run's served steps can explain (TIMEOUT: see failedHere). */
function explains(step, code) {
  const f = step?.fault;
  switch (code) {
    case 'SERVER': return (f === 'status' && step.status >= 500) || f === 'html502' || f === 'sse-error';
    case 'NETWORK': return f === 'reset' || f === 'sse-cut';
    case 'RATE_LIMITED': return (f === 'status' && step.status === 429) || f === 'quota-day' || (f === 'sse-error' && step.code === 429);
    case 'BAD_REQUEST': return f === 'status' && step.status === 400;
    case 'AUTH': return f === 'status' && (step.status === 401 || step.status === 403);
    case 'NOT_FOUND': return f === 'status' && step.status === 404;
    case 'BLOCKED': return ['blocked', 'safety', 'recitation'].includes(f);
    case 'MALFORMED': return f != null && !['status', 'html502', 'reset', 'hang', 'stall', 'quota-day'].includes(f);
    default: return false;
  }
}

/**
 * What request `w` asked for: `{ kind: 'model' }` (the lookup), or as the mock reads its body (its log's `task`,
 * which a request cut before its answer lacks): `{ kind: 'outline' }`, `{ kind: 'weeks' | 'days', from, to }`.
 */
function taskOf(w) {
  if (w.method === 'GET') return { kind: 'model' };
  let body = null;
  try { body = JSON.parse(w.raw); } catch { return { kind: 'unread' }; }
  const { kind, from, to } = parsePrompt(contentText(body.contents?.at(-1)), contentText(body.systemInstruction));
  return { kind, from, to };
}

/**
 * Whether request `w` belongs to what a rejection names: batch `batch` (a request for weeks, or days of a week,
 * inside the weeks its `batch-start` event spans), or, when it names none, the outline or the model lookup.
 * regenerateWeek looks the model up inside its one batch (batch 1).
 */
function failedHere(w, batch, events, regenerating) {
  const task = taskOf(w);
  if (task.kind === 'model') return regenerating ? batch === 1 : batch === undefined;
  if (batch === undefined) return task.kind === 'outline';
  const b = events.find((e) => e.type === 'batch-start' && e.batch === batch);
  return (task.kind === 'weeks' || task.kind === 'days') && b !== undefined && b.startWeek <= task.from && task.to <= b.endWeek;
}

function planSteps(R, withTimeout, key, budget) {
  const table = faultTable(withTimeout, key);
  const steps = [];
  const n = R.weighted([[2, 0], [3, R.int(1, 4)], [3, R.int(3, 10)]]);
  for (let i = 0; i < n; i++) {
    let s = R.weighted(table)(R);
    if (s.backoff && budget.backoffs-- <= 0) s = {};
    delete s.backoff;
    if (R.chance(0.15) && !s.delayMs) s.delayMs = R.int(5, 30);
    if (R.chance(0.3)) s.usageForm = R.pick(['running', 'prompt-first', 'last-only']);
    steps.push(s);
  }
  return steps;
}

// ---------------------------------------------------------------------------------------------------------------
// A case: its plan, from the seed alone

function planCase(idx) {
  const R = rng(SEED, idx);
  const key = caseKey(R, 'roadmap-chaos-key', SEED, idx);
  const withTimeout = R.chance(0.25);
  const parallel = R.chance(0.5);
  const opts = {
    weeks: R.weighted([[3, R.int(1, 4)], [4, R.int(5, 10)], [2, R.int(11, 16)]]),
    batchWeeks: R.int(1, 4),
    strategy: parallel ? 'parallel' : R.pick(['sequential', undefined]),
    concurrency: parallel ? R.int(1, 6) : undefined,
    history: parallel ? R.pick(['windowed', undefined]) : R.pick(['windowed', 'full', undefined]),
    stream: R.pick([true, false, undefined]),
    maxRetries: R.int(0, 3),
    timeoutMs: withTimeout ? R.int(300, 450) : R.pick([undefined, 30_000]),
    maxOutputTokens: R.weighted([[5, undefined], [1, 4096], [1, 8192]]),
    model: R.pick([undefined, undefined, 'gemini-2.5-flash', 'gemini-3.8-flash']),
    level: R.pick([undefined, 'beginner']),
    hoursPerDay: R.pick([undefined, 1.5]),
    contextDays: R.pick([undefined, 0, 3]),
  };
  const budget = { backoffs: 2 };
  const runs = [];
  for (let i = 0; i < 4; i++) {
    const abort = i === 3 ? 'none' : R.weighted([[10, 'none'], [1, 'pre'], [2, 'outline'], [3, 'batch'], [2, 'retry'], [1, 'week']]);
    const reason = R.weighted([[3, 'none'], [1, 'dom-abort'], [1, 'error'], [1, 'string']]);
    // the last resume runs without faults, so that most cases end with a finished roadmap
    runs.push({ steps: i === 3 ? [] : planSteps(R, withTimeout, key, budget), abort, reason, abortAfter: R.int(0, 2) });
  }
  const regenerate = R.chance(0.4) ? {
    week: R.int(1, opts.weeks), steps: R.chance(0.5) ? [] : planSteps(R, withTimeout, key, budget).slice(0, 2),
    abort: R.weighted([[6, 'none'], [1, 'pre'], [1, 'batch']]),
  } : null;
  return { idx, key, opts, runs, regenerate, withTimeout };
}

// ---------------------------------------------------------------------------------------------------------------
// Checks on roadmaps

function weekProblems(w, rm, where) {
  const out = [];
  const n = w?.week;
  if (!Number.isInteger(n) || n < 1 || n > rm.totalWeeks) return [`${where}: week number ${n}`];
  if (!Array.isArray(w.days) || w.days.map((d) => d.day).join() !== '1,2,3,4,5,6,7') out.push(`${where}: week ${n} days ${JSON.stringify(w.days?.map((d) => d.day))}`);
  for (const d of w.days ?? []) {
    if (typeof d.title !== 'string' || !d.title.trim()) out.push(`${where}: week ${n} day ${d.day} without a title`);
    if (!Array.isArray(d.tasks) || !d.tasks.some((t) => typeof t === 'string' && t.trim())) out.push(`${where}: week ${n} day ${d.day} without a task`);
    if (!Array.isArray(d.resources)) out.push(`${where}: week ${n} day ${d.day} resources ${JSON.stringify(d.resources)}`);
    if (typeof d.hours !== 'number' || !(d.hours >= 0)) out.push(`${where}: week ${n} day ${d.day} hours ${d.hours}`);
  }
  if (typeof w.title !== 'string' || !w.title.trim()) out.push(`${where}: week ${n} without a title`);
  if (typeof w.fallback !== 'boolean') out.push(`${where}: week ${n} fallback ${w.fallback}`);
  if (w.fallback && !rm.warnings.some((m) => m.startsWith(`Week ${n}: placeholder`))) out.push(`${where}: placeholder week ${n} without a warning naming it`);
  return out;
}

/** A roadmap, complete or partial: weeks in order, valid; outline and phases coherent; batch reports. */
function roadmapProblems(rm, o, complete, where) {
  const out = [];
  if (!rm || typeof rm !== 'object') return [`${where}: not a roadmap: ${rm}`];
  if (rm.role !== ROLE || rm.totalWeeks !== o.weeks) out.push(`${where}: role ${rm.role}, totalWeeks ${rm.totalWeeks}`);
  if (o.level !== undefined && rm.level !== o.level) out.push(`${where}: level ${rm.level}`);
  if (o.hoursPerDay !== undefined && rm.hoursPerDay !== o.hoursPerDay) out.push(`${where}: hoursPerDay ${rm.hoursPerDay}`);
  const nums = rm.weeks.map((w) => w.week);
  if (complete && nums.join() !== Array.from({ length: o.weeks }, (_, i) => i + 1).join()) out.push(`${where}: weeks ${nums}`);
  if (!nums.every((n, i) => i === 0 || n > nums[i - 1])) out.push(`${where}: weeks out of order or twice: ${nums}`);
  for (const w of rm.weeks) out.push(...weekProblems(w, rm, where));
  const placeholders = rm.warnings.map((m) => m.match(/^Week (\d+): placeholder/)?.[1]).filter(Boolean).map(Number).sort((a, b) => a - b);
  const fallbacks = rm.weeks.filter((w) => w.fallback).map((w) => w.week);
  if (placeholders.join() !== fallbacks.join()) out.push(`${where}: placeholder warnings for weeks ${placeholders}, placeholder weeks ${fallbacks}`);
  if (complete || rm.outline.length) {
    if (rm.outline.map((x) => x.week).join() !== Array.from({ length: o.weeks }, (_, i) => i + 1).join()) out.push(`${where}: outline weeks ${rm.outline.map((x) => x.week)}`);
    let next = 1;
    for (const p of rm.phases) {
      if (p.startWeek !== next || p.endWeek < p.startWeek) out.push(`${where}: phases ${JSON.stringify(rm.phases.map((q) => [q.startWeek, q.endWeek]))}`);
      next = p.endWeek + 1;
    }
    if (next !== o.weeks + 1) out.push(`${where}: phases end at week ${next - 1} of ${o.weeks}`);
    const names = new Set(rm.phases.map((p) => p.name));
    for (const x of rm.outline) if (!names.has(x.phase) || !x.title?.trim()) out.push(`${where}: outline week ${x.week} phase ${x.phase} title ${x.title}`);
    // weeks keep their planned phase
    for (const p of rm.phases) for (const x of rm.outline) if (x.week >= p.startWeek && x.week <= p.endWeek && x.phase !== p.name) out.push(`${where}: outline week ${x.week} in phase ${x.phase}, the plan says ${p.name}`);
  }
  const bw = o.batchWeeks ?? 3;
  let next = 1;
  for (const b of rm.batches) {
    const span = `${b.startWeek}-${b.endWeek}`;
    if (!(b.startWeek <= b.endWeek && b.endWeek <= o.weeks)) out.push(`${where}: batch ${span} out of range`);
    if (b.endWeek - b.startWeek >= bw) out.push(`${where}: batch ${span} longer than batchWeeks ${bw}`);
    if (complete ? b.startWeek !== next : b.startWeek < next) out.push(`${where}: batches with a gap or overlap: ${rm.batches.map((x) => `${x.startWeek}-${x.endWeek}`)}`);
    next = b.endWeek + 1;
    const ws = rm.weeks.filter((w) => w.week >= b.startWeek && w.week <= b.endWeek);
    const anyFallback = ws.some((w) => w.fallback);
    const all = ws.length === b.endWeek - b.startWeek + 1;
    if (b.status === 'fallback' && !anyFallback) out.push(`${where}: batch ${span} fallback without a placeholder`);
    if (b.status === 'failed' && complete) out.push(`${where}: a failed batch ${span} in a finished roadmap`);
    if (['ok', 'recovered', 'resumed'].includes(b.status) && (anyFallback || !all)) out.push(`${where}: batch ${span} ${b.status} with weeks ${ws.map((w) => `${w.week}${w.fallback ? 'F' : ''}`)}`);
    if (!['ok', 'recovered', 'fallback', 'failed', 'resumed'].includes(b.status)) out.push(`${where}: batch status ${b.status}`);
  }
  if (complete && next !== o.weeks + 1) out.push(`${where}: batches end at week ${next - 1}`);
  return out;
}

/** Events of one run, whatever its outcome. */
function eventProblems(events, ok, o, where) {
  const out = [];
  const started = new Map();
  const done = new Set();
  const weeks = new Set();
  const totals = new Set();
  let outlines = 0;
  events.forEach((e, i) => {
    switch (e.type) {
      case 'outline':
        outlines++;
        if (started.size) out.push(`${where}: the outline announced after a batch started`);
        if (e.weeks?.length !== o.weeks) out.push(`${where}: an outline event of ${e.weeks?.length} weeks`);
        break;
      case 'batch-start':
        if (started.has(e.batch)) out.push(`${where}: batch ${e.batch} started twice`);
        started.set(e.batch, e);
        totals.add(e.totalBatches);
        if (!(e.batch >= 1 && e.batch <= e.totalBatches && e.startWeek <= e.endWeek && e.endWeek <= o.weeks)) out.push(`${where}: batch-start ${JSON.stringify(e)}`);
        break;
      case 'week': {
        const n = e.week?.week;
        if (weeks.has(n)) out.push(`${where}: week ${n} announced twice`);
        weeks.add(n);
        const open = [...started.values()].some((s) => s.startWeek <= n && n <= s.endWeek && !done.has(s.batch));
        if (!open) out.push(`${where}: week ${n} announced outside a running batch`);
        break;
      }
      case 'batch-done':
        if (!started.has(e.batch)) out.push(`${where}: batch ${e.batch} done before it started`);
        if (done.has(e.batch)) out.push(`${where}: batch ${e.batch} done twice`);
        done.add(e.batch);
        totals.add(e.totalBatches);
        break;
      case 'retry':
        if (!(e.attempt >= 2) || typeof e.delayMs !== 'number' || !(e.delayMs >= 0) || typeof e.reason !== 'string') out.push(`${where}: retry ${JSON.stringify(e)}`);
        if (e.batch !== 0 && !started.has(e.batch)) out.push(`${where}: retry of batch ${e.batch} before it started`);
        if (e.batch !== 0 && done.has(e.batch)) out.push(`${where}: retry of batch ${e.batch} after it was done`);
        break;
      case 'warning':
        if (typeof e.message !== 'string' || !e.message) out.push(`${where}: empty warning`);
        break;
      case 'done':
        if (!ok) out.push(`${where}: done on a run that did not resolve`);
        if (i !== events.length - 1) out.push(`${where}: an event after done`);
        break;
      default:
        out.push(`${where}: unknown event ${e.type}`);
    }
  });
  if (outlines > 1) out.push(`${where}: ${outlines} outline events`);
  if (totals.size > 1) out.push(`${where}: totalBatches changed: ${[...totals]}`);
  if (ok) {
    if (events.at(-1)?.type !== 'done') out.push(`${where}: resolved without done last`);
    const all = Array.from({ length: [...totals][0] ?? 0 }, (_, i) => i + 1).join();
    if ([...started.keys()].sort((a, b) => a - b).join() !== all || [...done].sort((a, b) => a - b).join() !== all) out.push(`${where}: batches started ${[...started.keys()]}, done ${[...done]}, of ${[...totals][0]}`);
  }
  return out;
}

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
const isAbort = (e) => e?.name === 'AbortError';

// ---------------------------------------------------------------------------------------------------------------
// Running a case

async function runCase(plan) {
  const { key, opts: o } = plan;
  const problems = [];
  const trace = [];
  const bad = (m) => problems.push(m);
  const t0 = Date.now();
  const note = (m) => trace.push(`${String(Date.now() - t0).padStart(5)} ms  ${m}`);
  let current = null; // the run in progress: its wire requests, its abort hooks
  const ctx = {
    onRequest(req, tag) {
      const w = { tag, url: req.url, method: req.method, apiKey: req.headers.get('x-goog-api-key'), headerNames: [...req.headers.keys()] };
      w.bodyP = req.method === 'GET' ? Promise.resolve() : req.clone().text().then((t) => { w.raw = t; });
      if (!current) bad(`a request ${req.url} outside any run`);
      else {
        current.wire.push(w);
        if (current.aborted) bad(`${current.label}: a request ${req.method} ${req.url.replace(mock.url, '')} sent ${Date.now() - current.abortedAt} ms after the abort`);
        current.onWire?.(w);
      }
      return w;
    },
  };
  live.set(key, ctx);
  const baseOpts = { apiKey: key, baseUrl: mock.url, role: ROLE, log: false };
  for (const [k, v] of Object.entries(o)) if (v !== undefined) baseOpts[k] = v;

  /** One call (generateRoadmap or regenerateWeek) under chaos; returns its record once it settled and was checked. */
  const callOnce = async (label, steps, abortPlan, invoke, rewritten = null) => {
    await script(mock.url, key, steps.map((s) => ({ ...s })), { replace: true });
    const run = { label, wire: [], events: [], aborted: false, abortedAt: null, reason: undefined, settled: false };
    current = run;
    const ctrl = abortPlan.abort === 'none' ? null : new AbortController();
    const doAbort = (why) => {
      if (!ctrl || ctrl.signal.aborted || run.settled) return;
      run.aborted = true;
      run.abortedAt = Date.now();
      run.outlineSeen = run.events.some((e) => e.type === 'outline');
      note(`${label}: abort (${why}, reason ${abortPlan.reason})`);
      const r = abortPlan.reason;
      if (r === 'none' || r === undefined) ctrl.abort();
      else ctrl.abort(r === 'dom-abort' ? new DOMException('stopped by the chaos test', 'AbortError') : r === 'error' ? new Error('stopped by the chaos test') : 'stopped by the chaos test');
      run.reason = ctrl.signal.reason;
    };
    if (abortPlan.abort === 'pre') doAbort('before the call');
    let seenWeekReq = 0;
    run.onWire = (w) => {
      w.bodyP.then(() => {
        const isOutline = w.raw?.includes('TASK: OUTLINE');
        const isWeeks = w.raw && /TASK: WEEK/.test(w.raw);
        if (abortPlan.abort === 'outline' && isOutline) doAbort('outline in flight');
        if (abortPlan.abort === 'batch' && isWeeks && seenWeekReq++ >= (abortPlan.abortAfter ?? 0)) doAbort('batch in flight');
      });
    };
    const onProgress = (e) => {
      if (run.settled) bad(`${label}: a ${e.type} event after the promise settled`);
      if (run.aborted) bad(`${label}: a ${e.type} event ${Date.now() - run.abortedAt} ms after the abort`);
      run.events.push(e);
      if (JSON.stringify(e).includes(key)) bad(`${label}: the key in a ${e.type} event`);
      if (e.type === 'retry' && abortPlan.abort === 'retry') doAbort('retry wait');
      // from inside the callback, as a user's Cancel handler would (it met the two bugs of the focused tests below)
      if (e.type === 'week' && abortPlan.abort === 'week' && run.events.filter((x) => x.type === 'week').length > (abortPlan.abortAfter ?? 0)) doAbort('after a week event');
    };
    const call = { onProgress, ...(ctrl ? { signal: ctrl.signal } : {}) };
    let p;
    try { p = invoke(call); } catch (e) { bad(`${label}: threw synchronously ${e?.code ?? e}`); current = null; return run; }
    if (!(p instanceof Promise)) bad(`${label}: did not return a Promise`);
    let timer;
    const outcome = await Promise.race([
      p.then((v) => ({ ok: true, v }), (e) => ({ ok: false, e })),
      new Promise((ok) => { timer = setTimeout(() => ok(null), RUN_DEADLINE_MS); }),
    ]);
    clearTimeout(timer);
    run.settled = true;
    run.settledAt = Date.now();
    if (!outcome) { bad(`${label}: hang: never settled in ${RUN_DEADLINE_MS} ms`); run.hung = true; current = null; return run; }
    Object.assign(run, outcome);
    note(`${label}: ${run.ok ? 'resolved' : `rejected ${run.e?.name} ${run.e?.code ?? ''} ${String(run.e?.message).slice(0, 100)}`} after ${run.wire.length} requests`);
    // let requests in flight at the rejection finish on the wire (their usage is read on a branch of its own)
    await Promise.all(run.wire.map((w) => w.bodyP));
    await wireEnded(run.wire, 5000);
    current = null;
    // the mock's log of this run
    const tags = new Map(run.wire.map((w) => [w.tag, w]));
    const log = (await requests(mock.url, { key })).filter((e) => tags.has(e.headers?.['x-chaos-seq']));
    for (const e of log) tags.get(e.headers['x-chaos-seq']).entry = e;
    run.log = log;
    // key only in the header
    for (const w of run.wire) {
      if (w.url.includes(key) || decodeURIComponent(w.url).includes(key)) bad(`${label}: the key in the URL ${w.url}`);
      if (w.apiKey !== key) bad(`${label}: x-goog-api-key is not the key`);
      const extra = w.headerNames.filter((h) => h !== 'content-type' && h !== 'x-goog-api-key');
      if (extra.length) bad(`${label}: headers beyond content-type and x-goog-api-key: ${extra}`);
      if (w.raw?.includes(key)) bad(`${label}: the key in a request body`);
    }
    for (const e of log) if (e.keyInUrl || e.keyLength !== key.length) bad(`${label}: mock log #${e.seq}: keyInUrl ${e.keyInUrl}, key length ${e.keyLength}`);
    const shown = run.ok ? JSON.stringify(run.v) : JSON.stringify({ ...run.e, message: run.e?.message, stack: run.e?.stack, partial: run.e?.partial });
    if (shown?.includes(key)) bad(`${label}: the key in the ${run.ok ? 'result' : 'error'}`);
    // errors
    if (!run.ok) {
      const e = run.e;
      if (isAbort(e)) {
        if (!run.aborted) bad(`${label}: AbortError without an abort`);
        else {
          if (run.settledAt - run.abortedAt > 3000) bad(`${label}: rejected ${run.settledAt - run.abortedAt} ms after the abort (not promptly)`);
          const r = run.reason;
          const rIsAbort = r instanceof DOMException && r.name === 'AbortError';
          if (e.partial) {
            if (!(e !== r && e.cause === r)) bad(`${label}: aborted with a partial, but not a new AbortError whose cause is the reason`);
          } else if (rIsAbort ? e !== r : !(e !== r && e.cause === r)) bad(`${label}: aborted before the outline with reason ${String(r)}: got ${e?.name} cause ${String(e?.cause)}`);
        }
      } else if (!(e instanceof Error) || e.name !== 'GeminiRoadmapError') bad(`${label}: rejected with ${e?.name}: ${e?.message ?? e}`);
      else {
        if (!CODES.has(e.code)) bad(`${label}: undocumented code ${e.code}`);
        stats.codes[e.code] = (stats.codes[e.code] ?? 0) + 1;
        const steps = log.filter((x) => x.kind === 'generate' || x.kind === 'stream').map((x) => x.step);
        const byFinish = e.code === 'MALFORMED' || e.code === 'TRUNCATED' || e.code === 'BLOCKED';
        if (e.code === 'TIMEOUT') {
          // a request of the batch it names cut by the timeout, whatever held it up (a scripted hang or stall, or on
          // a loaded machine an unfaulted request outlasting a small timeoutMs); in a parallel run, not another's
          const regenerating = label.startsWith('regenerate');
          if (!run.wire.some((w) => cutByTimeout(w, o.timeoutMs) && failedHere(w, e.batch, run.events, regenerating))) {
            const cut = run.wire.filter((w) => cutByTimeout(w, o.timeoutMs)).map((w) => JSON.stringify(taskOf(w)));
            const b = run.events.find((x) => x.type === 'batch-start' && x.batch === e.batch);
            const named = e.batch === undefined ? 'no batch' : `batch ${e.batch} (${b ? `weeks ${b.startWeek}-${b.endWeek}` : 'never started'})`;
            bad(`${label}: TIMEOUT naming ${named} (${e.message.slice(0, 160)}), but no request of it was cut by the timeout; cut: ${cut.join(', ') || 'none'}`);
          }
        } else if (!steps.some((s) => explains(s, e.code)) && !(byFinish && log.some((x) => x.finishReason && x.finishReason !== 'STOP')) &&
          !repeatsByTheMock(e, rewritten)) {
          bad(`${label}: ${e.code} (${e.message.slice(0, 160)}) not explained by the steps served ${JSON.stringify(steps)}`);
        }
        if (e.code === 'TIMEOUT' && e.timeoutMs !== (o.timeoutMs ?? 120000)) bad(`${label}: TIMEOUT with timeoutMs ${e.timeoutMs}`);
        if (typeof e.retryable !== 'boolean') bad(`${label}: retryable ${e.retryable}`);
      }
      if (run.aborted && !isAbort(e) && run.abortedAt < run.settledAt) {
        // an abort that came before the run settled rejects with AbortError
        bad(`${label}: aborted at +${run.abortedAt - t0} ms, rejected ${e?.code} at +${run.settledAt - t0} ms`);
      }
    } else if (abortPlan.abort === 'pre') bad(`${label}: resolved with a signal aborted before the call`);
    if (abortPlan.abort === 'pre' && run.wire.length) bad(`${label}: ${run.wire.length} requests sent with a signal aborted before the call`);
    if (run.aborted) stats[{ pre: 'abortsPre', outline: 'abortsOutline', batch: 'abortsBatch', week: 'abortsBatch', retry: 'abortsRetry' }[abortPlan.abort]]++;
    return run;
  };

  /** Usage against the mock: requests it logged, tokens of the last usageMetadata of each response. */
  const usageProblems = (u, base, run, where) => {
    const out = [];
    const b = base ?? { promptTokens: 0, outputTokens: 0, thoughtsTokens: 0, totalTokens: 0, requests: 0 };
    const logged = run.log.length;
    const wired = run.wire.length;
    const extra = u.requests - b.requests;
    // requests aborted by the user may never reach the mock
    if (run.aborted ? !(extra >= logged && extra <= wired) : extra !== logged) out.push(`${where}: usage.requests ${u.requests}: ${b.requests} before + ${extra}, the mock logged ${logged} (${wired} sent)`);
    let exact = true;
    const sum = { promptTokens: b.promptTokens, outputTokens: b.outputTokens, thoughtsTokens: b.thoughtsTokens };
    for (const w of run.wire) {
      if (w.endedAt === undefined) { exact = false; continue; }
      if (w.cut && (run.aborted || w.entry?.step?.fault === 'stall' || w.entry?.step?.fault === 'hang' || cutByTimeout(w, o.timeoutMs))) exact = false;
      const usage = lastUsage(w.received);
      if (!usage) continue;
      sum.promptTokens += usage.promptTokenCount ?? 0;
      sum.outputTokens += usage.candidatesTokenCount ?? 0;
      sum.thoughtsTokens += usage.thoughtsTokenCount ?? 0;
    }
    if (exact) {
      stats.tokensChecked++;
      const got = { promptTokens: u.promptTokens, outputTokens: u.outputTokens, thoughtsTokens: u.thoughtsTokens };
      if (!same(got, sum)) out.push(`${where}: usage tokens ${JSON.stringify(got)}, the mock's usageMetadata add up to ${JSON.stringify(sum)}`);
    }
    if (u.totalTokens !== u.promptTokens + u.outputTokens + u.thoughtsTokens) out.push(`${where}: totalTokens ${u.totalTokens} is not the sum`);
    return out;
  };

  /** Weeks that the week requests of a run asked for (the mock's task of each). */
  const weeksAsked = (run) => {
    const asked = new Set();
    for (const e of run.log) {
      if (e.task?.kind === 'weeks' || e.task?.kind === 'days') for (let n = e.task.from; n <= e.task.to; n++) asked.add(n);
    }
    return asked;
  };

  // ---- the runs: the first, then resumed from each partial
  let base = null;
  let finished = null;
  for (let i = 0; i < plan.runs.length; i++) {
    const rp = plan.runs[i];
    if (i > 0 && !base) break;
    const label = i === 0 ? 'run 0' : `resume ${i}`;
    const opts = { ...baseOpts, ...(base ? { resumeFrom: base } : {}) };
    const baseCopy = base && structuredClone(base);
    const run = await callOnce(label, rp.steps, rp, (call) => pkg.generateRoadmap({ ...opts, ...call }));
    stats.runs++;
    stats.requests += run.wire.length;
    stats.retries += run.events.filter((e) => e.type === 'retry').length;
    if (run.hung) break;
    problems.push(...eventProblems(run.events, run.ok, o, label));
    if (base && !same(base, baseCopy)) bad(`${label}: the resumeFrom object was changed`);
    const announced = run.events.filter((e) => e.type === 'week').map((e) => e.week);
    const rm = run.ok ? run.v : run.e?.partial;
    if (base) {
      stats.resumed++;
      // never asks again for a finished week, never for the outline when the partial has one
      const kept = base.weeks.filter((w) => !w.fallback).map((w) => w.week);
      const again = [...weeksAsked(run)].filter((n) => kept.includes(n));
      if (again.length) bad(`${label}: asked again for weeks ${again}, finished in the roadmap it resumes`);
      if (base.outline.length === o.weeks && run.log.some((e) => e.task?.kind === 'outline')) bad(`${label}: asked for the outline again (the partial has it)`);
    }
    if (run.ok) {
      stats.resolved++;
      if (base) stats.resumedOk++;
      problems.push(...roadmapProblems(rm, o, true, label));
      problems.push(...usageProblems(rm.usage, base?.usage, run, label));
      const d = run.events.at(-1);
      if (d?.type === 'done') {
        if (d.totalWeeks !== o.weeks || d.fallbackWeeks !== rm.weeks.filter((w) => w.fallback).length || !same(d.usage, rm.usage)) bad(`${label}: done ${JSON.stringify(d)} does not match the roadmap`);
      }
      stats.fallbackWeeks += rm.weeks.filter((w) => w.fallback).length;
      // a finished roadmap's generated batches are its batch-start events
      const started = run.events.filter((e) => e.type === 'batch-start').map((e) => `${e.startWeek}-${e.endWeek}`).sort();
      const generated = rm.batches.filter((b) => b.status !== 'resumed').map((b) => `${b.startWeek}-${b.endWeek}`).sort();
      if (started.join() !== generated.join()) bad(`${label}: batch-start ranges ${started}, generated batches ${generated}`);
    } else if (isAbort(run.e)) stats.aborted++;
    else stats.rejected++;
    if (rm && !run.ok) {
      problems.push(...roadmapProblems(rm, o, false, `${label} partial`));
      problems.push(...usageProblems(rm.usage, base?.usage, run, `${label} partial`));
      stats.partialWeeks += rm.weeks.length;
      if (run.e?.batch !== undefined && !isAbort(run.e) && !run.events.some((e) => e.type === 'batch-start' && e.batch === run.e.batch)) bad(`${label}: failed in batch ${run.e.batch}, which never started`);
      const outlineEv = run.events.find((e) => e.type === 'outline');
      if (outlineEv && rm.outline.length && !same(rm.outline, outlineEv.weeks)) bad(`${label}: partial's outline is not the one announced`);
    } else if (!run.ok && run.events.some((e) => e.type === 'outline' || e.type === 'week')) {
      bad(`${label}: rejected ${run.e?.name} ${run.e?.code} without a partial after the outline or weeks were announced`);
    }
    if (rm) {
      for (const w of announced) {
        const k = rm.weeks.find((x) => x.week === w.week);
        if (!k) bad(`${label}: week ${w.week} announced but not in the ${run.ok ? 'roadmap' : 'partial'}`);
        else if (!same(k, w)) bad(`${label}: week ${w.week} announced, then changed`);
      }
      for (const w of rm.weeks) {
        const fromBase = base?.weeks.some((x) => same(x, w));
        // after an abort the caller hears nothing more, yet the weeks finished meanwhile are kept in `partial`
        if (!fromBase && !announced.some((x) => x.week === w.week) && !(run.aborted && !run.ok)) bad(`${label}: week ${w.week} neither announced nor resumed`);
      }
      if (base) for (const w of base.weeks.filter((x) => !x.fallback)) if (!rm.weeks.some((x) => same(x, w))) bad(`${label}: resumed week ${w.week} lost or changed`);
    }
    if (run.ok) { finished = rm; break; }
    if (!rm) break;
    base = rm;
  }

  // ---- regenerateWeek on a finished roadmap
  if (finished && plan.regenerate && !problems.length) {
    const rg = plan.regenerate;
    const n = rg.week;
    const before = structuredClone(finished);
    const opts = { ...baseOpts };
    const run = await callOnce(`regenerate week ${n}`, rg.steps, rg, (call) => pkg.regenerateWeek(finished, n, { ...opts, ...call }),
      { roadmap: finished, week: n });
    stats.regenerated++;
    const label = `regenerate week ${n}`;
    if (!run.hung) {
      if (!same(finished, before)) bad(`${label}: the roadmap passed in was changed`);
      const types = run.events.map((e) => e.type).filter((t) => t !== 'retry' && t !== 'warning');
      const wantTypes = run.ok ? ['batch-start', 'week', 'batch-done'] : null;
      if (run.events.some((e) => e.type === 'done')) bad(`${label}: a done event`);
      if (wantTypes && types.join() !== wantTypes.join()) bad(`${label}: events ${types}`);
      if (run.events[0] && !run.aborted && run.events[0].type !== 'batch-start') bad(`${label}: first event ${run.events[0].type}`);
      for (const e of run.log) {
        if (e.task?.kind === 'outline' || ((e.task?.kind === 'weeks' || e.task?.kind === 'days') && (e.task.from !== n || e.task.to !== n))) bad(`${label}: asked ${JSON.stringify(e.task)}`);
      }
      const lookups = run.log.filter((e) => e.kind === 'getModel').length;
      if (lookups !== (o.maxOutputTokens !== undefined && !(rg.abort === 'pre') ? 1 : 0) && !(run.aborted && lookups === 0)) bad(`${label}: ${lookups} model lookups with maxOutputTokens ${o.maxOutputTokens}`);
      if (run.ok) {
        const r = run.v;
        problems.push(...roadmapProblems(r, o, true, label));
        problems.push(...usageProblems(r.usage, before.usage, run, label));
        for (const w of before.weeks) if (w.week !== n && !same(w, r.weeks.find((x) => x.week === w.week))) bad(`${label}: week ${w.week} changed`);
        const ev = run.events.find((e) => e.type === 'week');
        if (ev && !same(ev.week, r.weeks[n - 1])) bad(`${label}: the week announced is not the week returned`);
        if (r.weeks[n - 1].fallback) bad(`${label}: resolved with week ${n} a placeholder`);
        if (!same(r.outline, before.outline) || !same(r.phases, before.phases)) bad(`${label}: outline or phases changed`);
      } else if (!isAbort(run.e)) {
        stats.regenerateRejected++;
        const e = run.e;
        if (e?.batch !== 1) bad(`${label}: rejected ${e?.code} with batch ${e?.batch}`);
        const p = e?.partial;
        if (!p) bad(`${label}: rejected ${e?.code} without a partial`);
        else {
          if (!same(p.weeks, before.weeks) || !same(p.outline, before.outline)) bad(`${label}: the partial is not the roadmap unchanged`);
          problems.push(...usageProblems(p.usage, before.usage, run, `${label} partial`));
        }
      }
    }
  }
  live.delete(key);
  stats.cases++;
  if (o.strategy === 'parallel') stats.parallel++;
  if (o.stream !== false) stats.streamed++;
  return { problems, trace, ms: Date.now() - t0, plan };
}

function describe(plan) {
  return JSON.stringify({ opts: plan.opts, runs: plan.runs, regenerate: plan.regenerate });
}

/**
 * The mock writes its own week titles (this test does not turn on its prompt-following mode). When a fault of an
 * earlier run (`wrong-week-numbers` on the outline) left the plan's titles offset from them, the week written again
 * carries another week's planned title, which `regenerateWeek` refuses as a repeat, asks again with a correction and
 * then rejects `MALFORMED` ("the model wrote week 2 again twice"): explained, though no fault was served to that call
 * (found with seeds 62 and 65).
 */
function repeatsByTheMock(e, rewritten) {
  const m = /the model wrote week (\d+) again/.exec(e?.message ?? '');
  if (e?.code !== 'MALFORMED' || !m || !rewritten) return false;
  const { roadmap, week } = rewritten;
  const other = roadmap.outline[Number(m[1]) - 1]?.title ?? '';
  return weekTitle(roadmap.role, week, roadmap.totalWeeks).trim().toLowerCase() === other.trim().toLowerCase();
}

test(`generateRoadmap / regenerateWeek chaos: ${ONLY ?? CASES} seeded cases (seed ${SEED}) against the mock`, async () => {
  await runCases({
    env: 'ROADMAP_CHAOS', seed: SEED, cases: CASES, only: ONLY, pool: POOL, planCase, runCase, describe, stats, stray: hooked.stray,
    summary: (results, ms) => `${results.length} cases, ${stats.runs} runs, ${stats.requests} requests in ${ms} ms`,
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Bugs the chaos cases found, each on its own (each failed before its fix)

/** One generateRoadmap call with the real fetch (or one that keeps every Request alive): { outcome, events, log, ms }. */
async function focused(key, steps, opts, { keepRequests = false, onEvent, gcEveryMs } = {}) {
  await script(mock.url, key, steps, { replace: true });
  const kept = [];
  const saved = globalThis.fetch;
  globalThis.fetch = keepRequests ? (input, init) => { kept.push(input); return realFetch(input, init); } : realFetch;
  let gc = null;
  if (gcEveryMs) {
    const v8 = await import('node:v8');
    const vm = await import('node:vm');
    v8.setFlagsFromString('--expose-gc');
    const collect = vm.runInNewContext('gc');
    gc = setInterval(() => collect(), gcEveryMs);
  }
  const events = [];
  const t0 = Date.now();
  let timer;
  try {
    const p = pkg.generateRoadmap({ apiKey: key, baseUrl: mock.url, role: ROLE, log: false, ...opts, onProgress: (e) => { events.push(e); onEvent?.(e, events); } });
    const outcome = await Promise.race([
      p.then((v) => ({ ok: true, v }), (e) => ({ ok: false, e })),
      new Promise((ok) => { timer = setTimeout(() => ok(null), 5000); }),
    ]);
    return { outcome, events, ms: Date.now() - t0, log: await requests(mock.url, { key }) };
  } finally {
    clearTimeout(timer);
    if (gc) clearInterval(gc);
    globalThis.fetch = saved;
  }
}

test('a stalled request times out, also once the Request object the package built has been garbage-collected', async () => {
  const r = await focused('roadmap-chaos-gc-timeout', [{}, { fault: 'stall', afterChunks: 1 }], { weeks: 1, timeoutMs: 300, maxRetries: 0 }, { gcEveryMs: 20 });
  assert.ok(r.outcome, `never settled in 5 s (timeoutMs 300); requests: ${r.log.map((e) => `${e.kind}:${e.step?.fault ?? '-'}`)}`);
  assert.equal(r.outcome.e?.code, 'TIMEOUT');
});

test('a user abort during a stall rejects promptly, also once the Request object has been garbage-collected', async () => {
  const r = await focused('roadmap-chaos-gc-abort', [{}, { fault: 'stall', afterChunks: 1 }], { weeks: 1, timeoutMs: 60_000, maxRetries: 0, signal: AbortSignal.timeout(300) }, { gcEveryMs: 20 });
  assert.ok(r.outcome, 'never settled in 5 s after an abort at 300 ms');
  assert.equal(r.outcome.e?.name, 'AbortError');
});

test('an abort from onProgress on the week event of the last week of a streamed batch rejects with AbortError', async () => {
  const ctrl = new AbortController();
  const r = await focused('roadmap-chaos-week-abort-stream', [], { weeks: 2, batchWeeks: 2, stream: true, timeoutMs: 1500, signal: ctrl.signal }, {
    keepRequests: true, // not the GC bug above
    onEvent: (e, events) => { if (e.type === 'week' && events.filter((x) => x.type === 'week').length === 2) ctrl.abort(); },
  });
  assert.ok(r.outcome, `never settled in 5 s (not even after timeoutMs 1500); events ${r.events.map((e) => e.type)}`);
  assert.equal(r.outcome.e?.name, 'AbortError');
});

test('an abort from onProgress while a whole (non-streamed) answer is read rejects with AbortError, or the run says done', async () => {
  const ctrl = new AbortController();
  const r = await focused('roadmap-chaos-week-abort-whole', [], { weeks: 4, batchWeeks: 4, stream: false, signal: ctrl.signal }, {
    keepRequests: true,
    onEvent: (e, events) => { if (e.type === 'week' && events.filter((x) => x.type === 'week').length === 2) ctrl.abort(); },
  });
  assert.ok(r.outcome, 'never settled');
  if (r.outcome.ok) assert.equal(r.events.at(-1)?.type, 'done', `resolved after the abort, its events: ${r.events.map((e) => e.type)}`);
  else assert.equal(r.outcome.e?.name, 'AbortError');
});
