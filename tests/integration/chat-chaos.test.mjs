// Seeded chaos for `GeminiChat` (the built web package in Node) against the mock Gemini: each case builds a chat
// with random options (maxRetries 0..3, a small timeoutMs when a hang or stall is scripted, model, system
// instruction, generationConfig; the chat has no stream option: it always uses generateContent), scripts a random
// sequence of faults for its own key, and drives a random interleaving of send / sendJson / generateJsonBatched
// calls (some awaited, some left pending), aborts at random points (before the call, while it is queued, on a
// timer, while its request is in flight, during a retry wait; with the default reason, an AbortError, an Error or
// a string; some controllers shared by two calls), clear() / setHistory() while calls are pending (at once, once
// the next request is in flight, on a timer, or from inside an onProgress callback), re-entrant calls from
// onProgress, an onProgress that throws, invalid calls, history reads and free() (with calls pending too).
// Then it checks what the README promises ("Lower-level API", "Errors", "What happens when things fail", "Security"):
//   - every call settles (a hang fails the case), with a value of the documented shape, a GeminiRoadmapError with
//     a documented code, or an AbortError: the signal's own reason when it is an AbortError, else a new one with
//     the reason as its cause; always for a signal aborted before the call; promptly; nothing sent after it;
//   - the history is exactly the exchanges that completed (resolved, not MAX_TOKENS), in order, since the last
//     clear()/setHistory(); an exchange asked against a history since replaced is not kept; failed and aborted
//     calls add nothing; a kept JSON answer is strict JSON of the value returned; `history` and setHistory() copy;
//     it alternates user/model from a user turn (unless setHistory was given turns that do not);
//   - every request carries as `contents` the history at the moment it was sent (the chat's own, read in that
//     instant, and the test's model) plus the new user turn; retries resend the same body; the chat's
//     generationConfig (+ application/json for JSON calls) and systemInstruction; calls are sent in call order, one
//     at a time; each answer belongs to its own question;
//   - retries follow the rules (only transient failures, at most maxRetries of them with the documented backoff,
//     a per-minute 429 waited out as asked outside that count, 10 in a row, a RetryInfo over 5 minutes not waited)
//     and the outcome, code, status, retryable and timeoutMs are the ones the last request's scripted fault implies;
//     retry events match the requests;
//   - usage of a resolved send is the mock's usageMetadata of its last request plus that of the empty answers (STOP
//     without text), odd endings (OTHER) and bodies without candidates it asked again, which Gemini bills too;
//     `requests` its request count;
//   - the key is only ever in the x-goog-api-key header (never in a URL, a body, an error, a retry event or the
//     history), also when Google's message quotes it; requests carry no other header than content-type;
//   - after free(): FREED thrown synchronously by every method, free() again is fine, calls already made settle.
// Retry waits are kept short: most transient faults are per-minute 429s whose RetryInfo is tens of milliseconds;
// the few 5xx/timeouts (our own backoff, 0.5 s and more) are capped at two per case, and cases run a few at a time.
//
// CHAT_CHAOS_CASES=N (default 60), CHAT_CHAOS_SEED=S (default 1), CHAT_CHAOS_ONLY=i[,j] (those cases, traces
// printed), CHAT_CHAOS_VERBOSE=1 (every trace, and how often each situation came up).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';

import { startMock } from '../../mock/gemini-mock.mjs';
import { requests, script } from '../../mock/control.mjs';
import { caseKey, cutByTimeout, hookFetch, rng, runCases, wireEnded } from './chaos.mjs';
import { loadWebPackage } from './helpers.mjs';

const CASES = Number(process.env.CHAT_CHAOS_CASES || 60);
const SEED = Number(process.env.CHAT_CHAOS_SEED || 1);
const ONLY = process.env.CHAT_CHAOS_ONLY;
const POOL = 6;
const CASE_DEADLINE_MS = 25_000;

const CODES = new Set(['INVALID_INPUT', 'AUTH', 'RATE_LIMITED', 'BAD_REQUEST', 'NOT_FOUND', 'SERVER', 'NETWORK',
  'TIMEOUT', 'BLOCKED', 'MALFORMED', 'TRUNCATED', 'NOT_INITIALIZED', 'FREED']);

let pkg;
let mock;
/** The fetch hook (see hookFetch). */
let hooked;
/** key -> the running case, for the fetch hook. */
const live = new Map();
/** How often each situation came up over the run: a check that never meets its situation tests nothing. */
const stats = {
  cases: 0, calls: 0, requests: 0, resolved: 0, rejected: 0, aborted: 0, preAborted: 0, abortedInFlight: 0, abortedInRetryWait: 0,
  reentrant: 0, historyChecks: 0, contentsChecked: 0, contentsWithHistory: 0, notKeptAfterClear: 0, retriedRequests: 0,
  retryDelaysChecked: 0, usageChecked: 0, exhaustedRetries: 0, freedWithCallsPending: 0, freedChecks: 0, keyQuotingErrors: 0,
  onProgressThrew: 0, sharedSignals: 0, freedOps: 0, truncatedByLimit: 0, refusalRunsExhausted: 0, slowTimeouts: 0,
};

const realConsoleError = console.error;
before(async () => {
  pkg = await loadWebPackage();
  // an onProgress that throws is reported on console.error, and the call goes on
  console.error = (...args) => {
    if (args[0] === 'gemini-roadmap: onProgress threw') { stats.onProgressThrew++; return; }
    realConsoleError(...args);
  };
  mock = await startMock({ port: 0, quiet: true });
  // Every request the package makes passes here (see hookFetch): what it sent (URL, headers, body) and, at that
  // very moment (the request is built and fetched in one synchronous step), the chat's history and the test's model
  // of it; the hook times its response (a request cut by the timeout is a TIMEOUT, see cutByTimeout).
  hooked = hookFetch(mock.url, live);
});

after(async () => {
  hooked?.restore();
  console.error = realConsoleError;
  await mock?.close();
});

// ---------------------------------------------------------------------------------------------------------------
// Faults and what they mean for one chat request (non-streamed generateContent: the chat never streams)

/** backoff: a transient failure retried with our own backoff (0.5-1 s, 1-2 s, ...): few per case. */
function faultTable(withTimeout, key) {
  // Some of Google's messages quote the key (`Consumer 'api_key:…' has been suspended`): the package must hide it.
  const quoting = `Permission denied: Consumer 'api_key:${key}' has been suspended.`;
  return [
    [1, (R) => ({ fault: 'status', status: R.pick([400, 403]), message: quoting })],
    [0.5, () => ({ fault: 'status', status: 503, message: quoting, backoff: true })],
    [10, () => ({})],
    [3, (R) => ({ delayMs: R.int(20, 90) })],
    [2, () => ({ fault: 'fenced' })],
    [1, () => ({ fault: 'commented' })],
    [1, () => ({ fault: 'trailing-comma' })],
    [1, () => ({ fault: 'single-quotes' })],
    [1, () => ({ fault: 'python-literals' })],
    [1, () => ({ fault: 'fragmented' })],
    [1, () => ({ fault: 'coalesced' })],
    [1, () => ({ fault: 'xss' })],
    [2, () => ({ fault: 'prose' })],
    [3, (R) => ({ fault: 'truncate', atFraction: R.pick([0.3, 0.5, 0.8]) })],
    [6, (R) => ({ fault: 'status', status: 429, retryDelay: R.pick(['0.02s', '0.05s', '0.1s']) })],
    // a run of per-minute refusals: 10 are waited out in a row, the 11th fails
    [0.4, (R) => ({ fault: 'status', status: 429, retryDelay: '0.01s', repeat: R.pick([4, 10, 11]) })],
    // a RetryInfo over 5 minutes is not waited: RATE_LIMITED at once (retryable: later it may pass)
    [0.3, () => ({ fault: 'status', status: 429, retryDelay: '400s' })],
    [1, (R) => ({ fault: 'status', status: R.pick([500, 502, 503, 504]), backoff: true })],
    [1, () => ({ fault: 'html502', backoff: true })],
    [1, () => ({ fault: 'reset', backoff: true })],
    [1, () => ({ fault: 'empty-stop', backoff: true })],
    [0.5, () => ({ fault: 'status', status: 429, bare: true, backoff: true })],
    [1, (R) => ({ fault: 'status', status: R.pick([400, 401, 403, 404, 501]) })],
    [1, () => ({ fault: 'quota-day' })],
    [0.5, () => ({ fault: 'status', status: 429, limit: 0, retryDelay: '0.05s' })],
    [1, () => ({ fault: 'blocked', reason: 'SAFETY' })],
    [1, (R) => ({ fault: R.pick(['safety', 'recitation']) })],
    // asked again with our backoff, as an empty answer is
    [0.5, () => ({ fault: 'other', backoff: true })],
    [0.5, () => ({ fault: 'empty-candidates', backoff: true })],
    [0.5, () => ({ fault: 'thoughts-only' })],
    // a body cut inside its JSON (the chat never streams): a cut transfer, asked again like a reset
    [0.5, () => ({ fault: 'sse-cut', backoff: true })],
    [0.5, () => ({ fault: 'sse-error', backoff: true })],
    ...(withTimeout ? [[2, (R) => ({ fault: R.pick(['hang', 'stall']), backoff: true })]] : []),
  ];
}

/**
 * What one request meeting `step` ends as, for a send (json false) or a JSON call:
 * { ok } (STOP with text), { ok, truncated } (MAX_TOKENS with text), { code, transient, refusal }.
 */
function expectedOf(step, json) {
  const f = step?.fault;
  const fail = (code, transient = false, refusal = false) => ({ code, transient, refusal });
  switch (f) {
    case undefined: case null: case 'fenced': case 'commented': case 'trailing-comma': case 'single-quotes':
    case 'python-literals': case 'fragmented': case 'coalesced': case 'xss':
      return { ok: true };
    case 'prose': return json ? fail('MALFORMED') : { ok: true };
    case 'truncate': return json ? fail('TRUNCATED') : { ok: true, truncated: true };
    case 'status': {
      const s = step.status;
      if (s === 429) {
        if (step.limit === 0) return fail('RATE_LIMITED');
        if (step.bare) return fail('RATE_LIMITED', true);
        if (parseFloat(step.retryDelay) > 300) return { ...fail('RATE_LIMITED'), retryable: true };
        return fail('RATE_LIMITED', true, true);
      }
      if ([500, 502, 503, 504].includes(s)) return fail('SERVER', true);
      if (s === 400) return fail('BAD_REQUEST');
      if (s === 401 || s === 403) return fail('AUTH');
      if (s === 404) return fail('NOT_FOUND');
      return fail('SERVER');
    }
    case 'html502': case 'sse-error': return fail('SERVER', true);
    case 'reset': case 'sse-cut': return fail('NETWORK', true);
    case 'hang': case 'stall': return fail('TIMEOUT', true);
    case 'empty-stop': return fail('MALFORMED', true);
    case 'quota-day': return fail('RATE_LIMITED');
    case 'blocked': case 'safety': case 'recitation': return fail('BLOCKED');
    // An answer that ended oddly (OTHER) or a body with no candidates is asked again, as the roadmap does.
    case 'other': case 'empty-candidates': return fail('MALFORMED', true);
    case 'thoughts-only': return fail('MALFORMED');
    default: throw new Error(`no expectation for fault ${f}`);
  }
}

/** expectedOf for a logged request: an answer the output limit cut (no fault) is a truncated one, or an empty one. */
function outcomeOf(entry, json) {
  if (entry.cutByTimeout) return { code: 'TIMEOUT', transient: true, refusal: false };
  const o = expectedOf(entry.step, json);
  // whatever the fault did to the text (prose, a scripted cut; a safety stop after the output limit's cut does not
  // happen), an answer that ends MAX_TOKENS is read as cut
  if (entry.finishReason === 'MAX_TOKENS' && (o.ok || ['prose', 'truncate', 'thoughts-only', 'safety', 'recitation', 'other'].includes(entry.step?.fault))) {
    if (entry.step?.fault !== 'truncate') stats.truncatedByLimit++;
    if (!entry.candidatesTokenCount) return { code: 'MALFORMED', transient: false, refusal: false };
    return json ? { code: 'TRUNCATED', transient: false, refusal: false } : { ok: true, truncated: true };
  }
  return o;
}

// ---------------------------------------------------------------------------------------------------------------
// A case: its plan, generated from the seed alone

function planCase(idx) {
  const R = rng(SEED, idx);
  const key = caseKey(R, 'chat-chaos-key', SEED, idx);
  const withTimeout = R.chance(0.3);
  const opts = {
    maxRetries: R.int(0, 3),
    timeoutMs: withTimeout ? R.int(300, 450) : R.pick([undefined, 30_000]),
    model: R.pick([undefined, 'gemini-3.1-flash-lite', 'gemini-2.5-flash', 'gemini-3.8-flash']),
    systemInstruction: R.chance(0.3) ? 'You answer briefly.' : undefined,
    // a low maxOutputTokens cuts answers (MAX_TOKENS) without any fault, or leaves nothing after thinking
    generationConfig: R.weighted([[6, undefined], [1, { temperature: 0.4 }], [1, { maxOutputTokens: R.pick([12, 20, 4096]) }]]),
  };
  const table = faultTable(withTimeout, key);
  const steps = [];
  let backoffs = 0;
  for (let n = R.int(0, 8), i = 0; i < n; i++) {
    let s = R.weighted(table)(R);
    // Our own backoff costs 0.5 s or more a retry: at most two per case.
    if (s.backoff && ++backoffs > 2) s = {};
    delete s.backoff;
    if (R.chance(0.2) && !s.delayMs) s.delayMs = R.int(10, 60);
    steps.push(s);
  }
  const ops = [];
  const nOps = R.int(2, 8);
  let words = 0;
  const text = (what) => `chaos ${idx} ${what} ${++words} ${R.pick(['apples', 'rivers', 'clocks', 'lamps', 'kites'])}`;
  for (let j = 0; j < nOps; j++) {
    const kind = R.weighted([
      [5, 'send'], [4, 'sendJson'], [2, 'batched'], [2, 'clear'], [2, 'setHistory'], [2, 'read'], [2, 'settle'],
      [0.6, 'invalid'], [0.3, 'free'],
    ]);
    if (kind === 'send' || kind === 'sendJson' || kind === 'batched') {
      const prompts = kind === 'batched' ? Array.from({ length: R.int(1, 3) }, () => text('json item')) : [text(kind === 'send' ? 'say' : 'json')];
      const abort = R.weighted([[10, 'none'], [1, 'pre'], [1, 'sync'], [2, 'timer'], [2, 'request'], [1.5, 'retry']]);
      const reason = R.weighted([[4, 'none'], [1, 'dom-abort'], [1, 'error'], [1, 'string']]);
      // something done from inside onProgress (a retry event or a batch-done): the chat must take re-entrant calls
      const reenter = R.weighted([[8, 'none'], [1, 'clear'], [1, 'setHistory'], [1, 'read'], [1, 'send'], [1, 'throw']]);
      // the controller of an earlier call, shared (its abort cancels both)
      const shared = abort !== 'none' && R.chance(0.2);
      ops.push({ kind, prompts, abort, reason, shared, abortMs: R.int(0, 60), awaitIt: R.chance(0.4), progress: R.chance(0.7) || reenter !== 'none', reenter, reenterText: text('again') });
    } else if (kind === 'clear' || kind === 'setHistory') {
      // when: now (calls pending in the queue), or once the next call's first request is in flight, or on a timer
      const when = R.weighted([[3, 'now'], [3, 'request'], [1, 'timer']]);
      const turns = [];
      if (kind === 'setHistory') {
        const pairs = R.int(0, 2);
        for (let p = 0; p < pairs; p++) turns.push({ role: 'user', text: `seeded question ${p} ${R.int(0, 999)}` }, { role: 'model', text: R.pick(['seeded answer', '{"a": 1}', ' \n']) });
      }
      const bad = kind === 'setHistory' && R.chance(0.15) ? R.pick(['role', 'text']) : null;
      if (bad) turns.push(bad === 'role' ? { role: 'system', text: 'x' } : { role: 'user', text: '' });
      ops.push({ kind, when, timerMs: R.int(0, 60), turns, bad, roundTrip: kind === 'setHistory' && R.chance(0.25) });
    } else if (kind === 'invalid') {
      ops.push({ kind, variant: R.pick(['empty', 'blank', 'option', 'prompts', 'not-text', 'options-type', 'setHistory-type']) });
    } else {
      ops.push({ kind });
    }
  }
  const free = R.weighted([[6, 'none'], [2, 'end'], [1, 'pending']]);
  return { idx, key, opts, steps, ops, free };
}

// ---------------------------------------------------------------------------------------------------------------
// Running a case

const lastUserText = (body) => body?.contents?.at(-1)?.parts?.map((p) => p.text ?? '').join('') ?? null;

async function runCase(plan) {
  const { key, opts } = plan;
  const problems = [];
  const trace = [];
  const bad = (msg) => problems.push(msg);
  const t0 = Date.now();
  const note = (m) => trace.push(`${String(Date.now() - t0).padStart(5)} ms  ${m}`);

  await script(mock.url, key, plan.steps.map((s) => ({ ...s })), { replace: true });

  const chatOpts = { apiKey: key, baseUrl: mock.url };
  for (const [k, v] of Object.entries(opts)) if (v !== undefined) chatOpts[k] = v;
  const chat = new pkg.GeminiChat(chatOpts);
  let freed = false;

  // The model of the history: era counts clear()/setHistory(), as the chat's own does.
  let era = 0;
  let model = [];
  const wire = []; // every request: { at, url, headerNames, apiKey, era, model, chatHistory, bodyP, body }
  const exchanges = new Map(); // user text -> { call, index, requests: [wire], era, historySent, done }
  const requestWatchers = []; // (text) => void, fired once a request's body is read
  const calls = [];
  const pendingTurns = [];
  const controllers = []; // model turns of batched prompts whose value comes when their call settles

  const ctx = {
    onRequest(req, tag) {
      let chatHistory = null;
      try { chatHistory = freed ? null : chat.history; } catch (e) { chatHistory = { threw: e.code }; }
      const w = {
        tag, at: Date.now() - t0, url: req.url, apiKey: req.headers.get('x-goog-api-key'),
        headerNames: [...req.headers.keys()], era, model: model.slice(), chatHistory,
      };
      w.bodyP = req.clone().text().then((t) => {
        w.raw = t;
        try { w.body = JSON.parse(t); } catch { w.body = null; }
        w.text = lastUserText(w.body);
        const x = exchanges.get(w.text);
        if (!x) { bad(`a request for an unknown user turn ${JSON.stringify(w.text)}`); return; }
        if (x.requests.length === 0) { x.era = w.era; x.historySent = w.model; x.chatHistorySent = w.chatHistory; x.firstAt = wire.indexOf(w); }
        x.requests.push(w);
        note(`request ${x.label} #${x.requests.length} (era ${w.era})`);
        for (const fn of requestWatchers.splice(0)) fn(w.text);
      });
      wire.push(w);
      return w;
    },
  };
  live.set(key, ctx);

  const isAbort = (e) => e?.name === 'AbortError';
  const checkError = (e, where) => {
    if (isAbort(e)) return;
    if (!(e instanceof Error)) return bad(`${where}: rejected with a non-Error ${String(e)}`);
    if (e.name !== 'GeminiRoadmapError') return bad(`${where}: error name ${e.name}: ${e.message}`);
    if (!CODES.has(e.code)) bad(`${where}: undocumented code ${e.code}`);
    if (typeof e.retryable !== 'boolean') bad(`${where}: retryable is ${e.retryable}`);
    const all = JSON.stringify({ ...e, message: e.message, stack: e.stack });
    if (all.includes(key)) bad(`${where}: the key appears in the error`);
  };

  /** After an exchange completed with `value` (what goes into the history as the model turn: text or a JSON value). */
  const completed = (x, json, value) => {
    x.done = true;
    x.eraAtDone = era;
    if (x.era === undefined) { bad(`${x.label}: completed, but no request of it was seen`); return; }
    if (x.era !== era) return;
    const turn = json ? { role: 'model', json: value } : { role: 'model', text: value };
    if (value?.pending) pendingTurns.push(turn);
    model.push({ role: 'user', text: x.text }, turn);
  };

  const issue = (op, opIndex) => {
    const call = { op, opIndex, label: `${op.kind}#${opIndex}`, settled: false, ctrl: null, abortedAt: null, preAborted: false, retries: [], batchDone: 0 };
    const ctrl = op.abort === 'none' ? null : op.shared && controllers.length ? controllers.at(-1) : new AbortController();
    call.ctrl = ctrl;
    if (ctrl) {
      if (!controllers.includes(ctrl)) { controllers.push(ctrl); ctrl.calls = []; }
      ctrl.calls.push(call);
      if (ctrl.signal.aborted) { call.abortedAt = Date.now() - t0; call.reason = ctrl.signal.reason; call.preAborted = true; stats.sharedSignals++; }
    }
    const doAbort = (why) => {
      if (ctrl.signal.aborted || call.settled) return;
      note(`abort ${ctrl.calls.map((c) => c.label).join('+')} (${why}, reason ${op.reason})`);
      if (op.reason === 'none') ctrl.abort();
      else ctrl.abort(op.reason === 'dom-abort' ? new DOMException('stopped by the chaos test', 'AbortError') : op.reason === 'error' ? new Error('stopped by the chaos test') : 'stopped by the chaos test');
      for (const c of ctrl.calls) if (!c.settled) { c.abortedAt = Date.now() - t0; c.reason = ctrl.signal.reason; }
      if (ctrl.calls.length > 1) stats.sharedSignals++;
    };
    const json = op.kind !== 'send';
    op.prompts.forEach((text, i) => exchanges.set(text, { call, index: i, text, label: `${call.label}[${i}]`, requests: [], json }));
    if (op.abort === 'pre') { doAbort('before the call'); call.preAborted = true; stats.preAborted++; }
    const options = {};
    if (ctrl) options.signal = ctrl.signal;
    if (op.progress || op.abort === 'retry' || op.kind === 'batched') {
      options.onProgress = (ev) => {
        if (ev.type === 'retry') {
          call.retries.push(ev);
          if (op.abort === 'retry') doAbort('retry wait');
        }
        if (ev.type === 'batch-done') {
          call.batchDone++;
          const x = exchanges.get(op.prompts[ev.batch - 1]);
          // The prompt's exchange was kept (or not) just before this event: record it with its value, known later.
          completed(x, true, { pending: true, call, index: ev.batch - 1 });
        }
        if ((ev.type === 'retry' || ev.type === 'batch-done') && op.reenter !== 'none' && !call.reentered && !freed) {
          call.reentered = true;
          note(`re-entrant ${op.reenter} from ${call.label}'s ${ev.type}`);
          stats.reentrant++;
          if (op.reenter === 'clear') doClear('re-entrant');
          else if (op.reenter === 'setHistory') replace([{ role: 'user', text: 'from a callback' }, { role: 'model', text: 'noted' }], 're-entrant');
          else if (op.reenter === 'read') checkHistoryShape(chat.history, `${call.label} re-entrant read`);
          else if (op.reenter === 'send') issue({ kind: 'send', prompts: [op.reenterText], abort: 'none', reason: 'none', progress: false, reenter: 'none' }, `${opIndex}r`);
          else if (op.reenter === 'throw') throw new Error('an onProgress that throws');
        }
      };
    }
    let p;
    if (freed) {
      // after free(): FREED, thrown at once
      try { (op.kind === 'send' ? chat.send(op.prompts[0], options) : op.kind === 'sendJson' ? chat.sendJson(op.prompts[0], options) : chat.generateJsonBatched(op.prompts, options))?.catch?.(() => {}); bad(`${call.label} after free() did not throw`); }
      catch (e) { if (e?.name !== 'GeminiRoadmapError' || e?.code !== 'FREED') bad(`${call.label} after free() threw ${e?.name} ${e?.code}`); }
      for (const t of op.prompts) exchanges.delete(t);
      return call;
    }
    try {
      if (op.kind === 'send') p = chat.send(op.prompts[0], options);
      else if (op.kind === 'sendJson') p = chat.sendJson(op.prompts[0], options);
      else p = chat.generateJsonBatched(op.prompts, options);
    } catch (e) {
      bad(`${call.label}: threw synchronously: ${e?.code ?? e?.message}`);
      return call;
    }
    if (!(p instanceof Promise)) bad(`${call.label}: did not return a Promise`);
    note(`issued ${call.label}${ctrl ? ` abort:${op.abort}` : ''}`);
    if (op.abort === 'sync') doAbort('queued');
    if (op.abort === 'timer') setTimeout(() => doAbort(`timer ${op.abortMs} ms`), op.abortMs);
    if (op.abort === 'request') {
      requestWatchers.push(function watch(text) {
        if (op.prompts.includes(text)) doAbort('request in flight');
        else if (!call.settled) requestWatchers.push(watch);
      });
    }
    call.promise = p.then(
      (v) => {
        call.settled = true; call.value = v; call.ok = true;
        note(`${call.label} resolved`);
        if (op.kind === 'send') {
          const x = exchanges.get(op.prompts[0]);
          if (v?.finishReason === 'MAX_TOKENS') { x.done = true; x.truncated = true; } else completed(x, false, v?.text);
        } else if (op.kind === 'sendJson') {
          completed(exchanges.get(op.prompts[0]), true, v);
        }
        settleBatchValues(call, v);
      },
      (e) => {
        call.settled = true; call.error = e; call.ok = false; call.settledAt = Date.now() - t0;
        note(`${call.label} rejected ${e?.name} ${e?.code ?? ''} ${e?.message?.slice(0, 80) ?? ''}`);
        if (op.kind === 'batched' && Array.isArray(e?.results)) settleBatchValues(call, e.results);
      },
    );
    calls.push(call);
    return call;
  };

  // A batched prompt's value is known when its call settles: fill in the kept turns.
  const settleBatchValues = (call, values) => {
    if (call.op.kind !== 'batched' || !Array.isArray(values)) return;
    for (const turn of pendingTurns) if (turn.json?.pending && turn.json.call === call) turn.json = values[turn.json.index] ?? { missing: true };
  };

  const checkHistoryShape = (h, where) => {
    if (!Array.isArray(h)) return bad(`${where}: history is not an array`);
    for (const t of h) {
      // A model turn carries the signature Gemini 3 gave its answer, to send it back.
      const keys = Object.keys(t).sort().join();
      if (keys !== 'role,text' && !(keys === 'role,text,thoughtSignature' && t.role === 'model' && typeof t.thoughtSignature === 'string')) bad(`${where}: a turn has keys ${Object.keys(t)}`);
      if (typeof t.text !== 'string' || t.text.includes(key)) bad(`${where}: a turn's text is not a string or holds the key`);
    }
  };
  /** The chat's history against the model (only where no call is between its request and its settling). */
  const sameAsModel = (h, m) => h.length === m.length && h.every((t, i) => {
    const e = m[i];
    if (t.role !== e.role) return false;
    if (e.json !== undefined) {
      if (e.json?.pending) return true; // a batched call still running: checked when it settles
      try { return JSON.stringify(JSON.parse(t.text)) === JSON.stringify(e.json); } catch { return false; }
    }
    return t.text === e.text;
  });
  const alternates = (h) => h.every((t, i) => t.role === (i % 2 === 0 ? 'user' : 'model'));
  let alternationExpected = true; // false once setHistory was given turns that do not alternate

  const readHistory = (where) => {
    if (freed) return;
    const h = chat.history;
    checkHistoryShape(h, where);
    if (alternationExpected && !alternates(h)) bad(`${where}: history does not alternate user/model from a user turn: ${JSON.stringify(h.map((t) => t.role))}`);
    if (!sameAsModel(h, model)) bad(`${where}: history ${JSON.stringify(h).slice(0, 400)} is not the model ${JSON.stringify(model).slice(0, 400)}`);
    // a copy: changing what `history` returned changes nothing
    if (h.length) { h[0].text = 'changed by the caller'; h.pop(); } else h.push({ role: 'user', text: 'pushed by the caller' });
    if (!sameAsModel(chat.history, model)) bad(`${where}: changing the array \`history\` returned changed the chat's history`);
    stats.historyChecks++;
  };

  const replace = (turns, why) => {
    const bad_ = turns.some((t) => (t.role !== 'user' && t.role !== 'model') || t.text === '');
    let threw = null;
    const given = turns.map((t) => ({ ...t }));
    try { chat.setHistory(given); } catch (e) { threw = e; }
    // the chat keeps its own copy: what the caller does to its array afterwards changes nothing
    if (given.length) { given[0].text += ' (changed by the caller)'; given.push({ role: 'user', text: 'pushed by the caller' }); }
    if (bad_) {
      if (!threw || threw.name !== 'GeminiRoadmapError' || threw.code !== 'INVALID_INPUT' || !/^history\[\d+\]\.(role|text)$/.test(threw.field ?? '')) {
        bad(`setHistory with a bad turn (${why}): expected INVALID_INPUT with field history[i].role|text, got ${threw ? `${threw.code} ${threw.field}` : 'no error'}`);
      }
      note(`setHistory refused (${why})`);
      return;
    }
    if (threw) { bad(`setHistory (${why}) threw ${threw.code} ${threw.message}`); return; }
    era += 1;
    model = turns.map((t) => ({ ...t }));
    alternationExpected = alternates(turns);
    note(`setHistory ${turns.length} turns (${why}) -> era ${era}`);
  };
  const doClear = (why) => {
    if (freed) return;
    chat.clear();
    era += 1;
    model = [];
    alternationExpected = true;
    note(`clear (${why}) -> era ${era}`);
  };

  const pending = () => calls.filter((c) => !c.settled).map((c) => c.promise);
  const deadline = Date.now() + CASE_DEADLINE_MS;
  const settleAll = async () => {
    // until nothing is pending: a call made from an onProgress callback joins while we wait
    for (let left = pending(); left.length; left = pending()) {
      let timer;
      const timedOut = await Promise.race([
        Promise.all(left).then(() => false),
        new Promise((ok) => { timer = setTimeout(() => ok(true), Math.max(0, deadline - Date.now())); }),
      ]);
      clearTimeout(timer);
      if (timedOut) {
        bad(`hang: ${calls.filter((c) => !c.settled).map((c) => c.label).join(', ')} never settled`);
        return false;
      }
    }
    return true;
  };

  // ---- the operations
  let hung = false;
  for (let j = 0; j < plan.ops.length && !hung; j++) {
    const op = plan.ops[j];
    if (op.kind === 'send' || op.kind === 'sendJson' || op.kind === 'batched') {
      const call = issue(op, j);
      if (op.awaitIt && call.promise) hung = !(await settleAll());
    } else if (freed && op.kind !== 'settle') {
      const fn = { clear: () => chat.clear(), setHistory: () => chat.setHistory(op.turns ?? []), read: () => chat.history, invalid: () => chat.send(''), free: () => chat.free() }[op.kind];
      try { fn(); if (op.kind !== 'free') bad(`${op.kind} #${j} after free() did not throw`); }
      catch (e) { if (op.kind === 'free' || e?.code !== 'FREED') bad(`${op.kind} #${j} after free() threw ${e?.name} ${e?.code}`); }
    } else if (op.kind === 'free') {
      chat.free();
      freed = true;
      stats.freedOps++;
      note(`free() (op ${j}) with ${pending().length} calls pending`);
    } else if (op.kind === 'clear' || op.kind === 'setHistory') {
      const act = op.kind === 'clear' ? () => doClear(op.when) : () => replace(op.roundTrip && !freed ? chat.history : op.turns, op.when);
      if (op.when === 'now') act();
      else if (op.when === 'timer') setTimeout(() => !freed && act(), op.timerMs);
      else {
        // once the next request is in flight (or at once when nothing is pending)
        if (pending().length === 0) act();
        else requestWatchers.push(() => !freed && act());
      }
    } else if (op.kind === 'read') {
      if (pending().length === 0) readHistory(`read #${j}`);
      else if (!freed) { const h = chat.history; checkHistoryShape(h, `read #${j}`); if (alternationExpected && !alternates(h)) bad(`read #${j}: history does not alternate: ${JSON.stringify(h.map((t) => t.role))}`); }
    } else if (op.kind === 'settle') {
      hung = !(await settleAll());
      if (!hung) readHistory(`settled #${j}`);
    } else if (op.kind === 'invalid') {
      const label = `invalid:${op.variant}#${j}`;
      if (op.variant === 'setHistory-type') {
        // setHistory throws (not rejects) INVALID_INPUT and leaves the history as it was
        try { chat.setHistory({ role: 'user', text: 'not an array' }); bad(`${label}: setHistory took an object`); }
        catch (e) { if (e?.name !== 'GeminiRoadmapError' || e?.code !== 'INVALID_INPUT') bad(`${label}: threw ${e?.name} ${e?.code}`); }
        note(`${label} refused`);
        continue;
      }
      const p = op.variant === 'empty' ? chat.send('') : op.variant === 'blank' ? chat.sendJson('  \n ')
        : op.variant === 'option' ? chat.send('chaos fine text', { signal: undefined, timeout: 5 })
        : op.variant === 'not-text' ? chat.sendJson(42)
        : op.variant === 'options-type' ? chat.send('chaos fine text', 'fast') : chat.generateJsonBatched([]);
      const call = { op, opIndex: j, label, settled: false, retries: [], invalid: true };
      call.promise = p.then((v) => { call.settled = true; call.ok = true; call.value = v; }, (e) => { call.settled = true; call.ok = false; call.error = e; });
      calls.push(call);
      note(`issued ${label}`);
    }
  }
  if (!hung && plan.free === 'pending' && pending().length) {
    chat.free();
    freed = true;
    stats.freedWithCallsPending++;
    note('free() with calls pending');
  }
  if (!hung) hung = !(await settleAll());
  // a clear/setHistory still waiting for a request that never came: drop it (nothing is pending any more)
  requestWatchers.length = 0;
  await Promise.all(wire.map((w) => w.bodyP));
  if (!hung && !freed) readHistory('end');

  // ---- after free()
  if (!hung && plan.free !== 'none') {
    if (!freed) { chat.free(); freed = true; }
    try { chat.free(); } catch (e) { bad(`free() twice threw ${e?.message}`); }
    const isFreed = (fn, what) => {
      try { const r = fn(); bad(`${what} after free() did not throw (returned ${r instanceof Promise ? 'a Promise' : typeof r})`); r?.catch?.(() => {}); }
      catch (e) { if (e?.name !== 'GeminiRoadmapError' || e?.code !== 'FREED') bad(`${what} after free() threw ${e?.name} ${e?.code}`); }
    };
    isFreed(() => chat.send('after free'), 'send');
    isFreed(() => chat.sendJson('after free'), 'sendJson');
    isFreed(() => chat.generateJsonBatched(['after free']), 'generateJsonBatched');
    isFreed(() => chat.history, 'history');
    isFreed(() => chat.setHistory([]), 'setHistory');
    isFreed(() => chat.clear(), 'clear');
    stats.freedChecks++;
  } else if (!hung) {
    chat.free();
    freed = true;
  }
  live.delete(key);

  // ---- checks on what settled
  // every request ended on the wire (cut or complete), unless one hangs still
  await wireEnded(wire, 3000);
  const log = (await requests(mock.url, { key })).filter((r) => r.kind === 'generate' || r.kind === 'stream');
  // The mock's entry of each request, matched in order by body size (a transport fault leaves lastUserText null;
  // a request aborted before it reached the mock has none).
  const byTag = new Map(wire.map((w) => [w.tag, w]));
  for (const e of log) {
    const w = byTag.get(e.headers?.['x-chaos-seq']);
    if (!w) bad(`mock log #${e.seq}: a request the package did not make`);
    else if (w.entry) bad(`mock log #${e.seq}: a request logged twice`);
    else {
      w.entry = e;
      // cut on the wire after timeoutMs without a byte: a TIMEOUT, whatever its step
      e.cutByTimeout = cutByTimeout(w, opts.timeoutMs);
      if (e.cutByTimeout && !['hang', 'stall'].includes(e.step?.fault)) stats.slowTimeouts++;
    }
  }
  const entriesOf = (text) => exchanges.get(text).requests.map((w) => w.entry).filter(Boolean);
  for (const c of calls) {
    if (!c.settled) continue;
    if (c.invalid) {
      const e = c.error;
      if (c.ok || e?.name !== 'GeminiRoadmapError' || e.code !== 'INVALID_INPUT') bad(`${c.label}: expected INVALID_INPUT, got ${c.ok ? 'a value' : `${e?.name} ${e?.code}`}`);
      continue;
    }
    const { op } = c;
    if (c.ok) {
      const v = c.value;
      if (op.kind === 'send') {
        if (!v || typeof v.text !== 'string' || v.text === '' || typeof v.finishReason !== 'string' || typeof v.usage !== 'object') bad(`${c.label}: resolved to ${JSON.stringify(v)}`);
        else if (Object.keys(v).sort().join() !== 'finishReason,text,usage') bad(`${c.label}: result keys ${Object.keys(v)}`);
        if (v?.text?.includes(key)) bad(`${c.label}: the key in the answer`);
      } else if (op.kind === 'batched') {
        if (!Array.isArray(v) || v.length !== op.prompts.length) bad(`${c.label}: resolved to ${JSON.stringify(v)?.slice(0, 200)} for ${op.prompts.length} prompts`);
      }
      if (c.preAborted) bad(`${c.label}: its signal was aborted before the call, yet it resolved`);
    } else {
      checkError(c.error, c.label);
      if (c.preAborted && !isAbort(c.error)) bad(`${c.label}: its signal was aborted before the call: expected AbortError, got ${c.error?.code}`);
      if (isAbort(c.error) && c.abortedAt == null) bad(`${c.label}: AbortError without an abort`);
      // A bound for a call that waited out its request or a retry wait after the abort, not a timing measurement:
      // generous, for a loaded machine.
      if (isAbort(c.error) && c.abortedAt != null && c.settledAt - c.abortedAt > 3000) bad(`${c.label}: rejected ${c.settledAt - c.abortedAt} ms after its abort (not promptly)`);
      if (isAbort(c.error) && c.abortedAt != null) {
        // the signal's own reason when it is an AbortError, else a new AbortError with the reason as its cause
        // (one carrying this call's batch and results is always a new one, its cause the reason)
        const r = c.reason;
        const reasonIsAbortError = r instanceof DOMException && r.name === 'AbortError';
        const fresh = c.error !== r && c.error?.cause === r;
        if (reasonIsAbortError && !(c.error === r || (op.kind === 'batched' && fresh))) bad(`${c.label}: aborted with an AbortError reason, rejected with another error`);
        if (!reasonIsAbortError && !fresh) bad(`${c.label}: aborted with reason ${String(r)}: expected a new AbortError whose cause is that reason, got ${c.error?.name} cause ${String(c.error?.cause)}`);
      }
      if (op.kind === 'batched' && !isAbort(c.error) && c.error?.code !== 'FREED') {
        const e = c.error;
        if (!Array.isArray(e.results) || typeof e.batch !== 'number') bad(`${c.label}: a failed generateJsonBatched without results/batch`);
        else if (e.results.length !== e.batch - 1) bad(`${c.label}: batch ${e.batch} failed with ${e.results.length} results`);
      }
    }
  }

  // The answer belongs to its own question (unless a fault changed it)
  for (const x of exchanges.values()) {
    const c = x.call;
    const step = entriesOf(x.text).at(-1)?.step;
    if (step?.fault === 'prose' || step?.fault === 'truncate' || (c.ok && c.value?.finishReason === 'MAX_TOKENS')) continue;
    const asked = `Mock reply: you asked "${x.text}"`;
    let got;
    if (c.ok && c.op.kind === 'send') got = c.value.text;
    else if (c.ok && c.op.kind === 'sendJson') got = c.value?.reply;
    else if (c.op.kind === 'batched') got = (c.ok ? c.value : c.error?.results)?.[x.index]?.reply;
    if (got !== undefined && !String(got).startsWith(asked)) bad(`${x.label}: the answer ${JSON.stringify(got).slice(0, 120)} is not the answer to ${JSON.stringify(x.text)}`);
  }
  for (const c of calls) {
    if (c.invalid || !c.settled || c.op.kind !== 'batched') continue;
    const values = c.ok ? c.value : c.error?.results;
    if (Array.isArray(values) && c.batchDone !== values.length) bad(`${c.label}: ${c.batchDone} batch-done events for ${values.length} values`);
  }

  // Exchanges: requests, contents, retries, outcome, usage
  const keyOnly = (w, where) => {
    if (w.url.includes(key) || decodeURIComponent(w.url).includes(key)) bad(`${where}: the key in the URL`);
    if (w.apiKey !== key) bad(`${where}: x-goog-api-key is not the key`);
    const extra = w.headerNames.filter((h) => h !== 'content-type' && h !== 'x-goog-api-key');
    if (extra.length) bad(`${where}: headers beyond content-type and x-goog-api-key: ${extra}`);
    if (w.raw?.includes(key)) bad(`${where}: the key in the body`);
  };
  const contentsOf = (turns, text) => [...turns, { role: 'user', text }]
    .map((t) => ({ role: t.role, parts: [{ text: t.text, ...(t.thoughtSignature ? { thoughtSignature: t.thoughtSignature } : {}) }] }));
  const matches = (sent, expectedTurns) => {
    if (!Array.isArray(sent) || sent.length !== expectedTurns.length) return false;
    return sent.every((c, i) => {
      const e = expectedTurns[i];
      if (c.role !== e.role || c.parts?.length !== 1 || typeof c.parts[0].text !== 'string') return false;
      if (e.json !== undefined) {
        if (e.json?.pending) return false;
        try { return JSON.stringify(JSON.parse(c.parts[0].text)) === JSON.stringify(e.json); } catch { return false; }
      }
      return c.parts[0].text === e.text;
    });
  };
  for (const w of wire) keyOnly(w, `request at ${w.at} ms`);
  for (const e of log) {
    if (e.keyInUrl) bad(`mock log #${e.seq}: key in the URL`);
    if (e.keyLength !== key.length) bad(`mock log #${e.seq}: key length ${e.keyLength}`);
  }

  // FIFO: exchanges first sent in the order they were asked
  const order = [...exchanges.values()].filter((x) => x.requests.length).sort((a, b) => a.firstAt - b.firstAt);
  const asked = [...exchanges.values()].filter((x) => x.requests.length);
  if (order.map((x) => x.label).join() !== asked.map((x) => x.label).join()) bad(`exchanges sent out of call order: ${order.map((x) => x.label)} vs ${asked.map((x) => x.label)}`);
  // one at a time: an exchange's first request comes after every request of the exchanges before it
  for (let i = 1; i < order.length; i++) {
    const prevLast = wire.indexOf(order[i - 1].requests.at(-1));
    if (order[i].firstAt < prevLast) bad(`${order[i].label} was sent while ${order[i - 1].label} was still retrying`);
  }

  for (const x of exchanges.values()) {
    const c = x.call;
    if (!c.settled) continue;
    const reqs = x.requests;
    const entries = entriesOf(x.text);
    if (reqs.length === 0) {
      if (c.ok) bad(`${x.label}: resolved without a request`);
      continue;
    }
    // every request of the exchange: the history when it was first sent plus the new turn, byte for byte the same body
    const expectedTurns = [...x.historySent, { role: 'user', text: x.text }];
    stats.contentsChecked++;
    if (x.historySent.length) stats.contentsWithHistory++;
    if (!matches(reqs[0].body?.contents, expectedTurns)) bad(`${x.label}: contents ${JSON.stringify(reqs[0].body?.contents)?.slice(0, 500)} are not the history when sent + the turn: ${JSON.stringify(expectedTurns).slice(0, 500)}`);
    if (x.chatHistorySent && !x.chatHistorySent.threw && JSON.stringify(reqs[0].body?.contents) !== JSON.stringify(contentsOf(x.chatHistorySent, x.text))) {
      bad(`${x.label}: contents are not chat.history at the moment of the request + the turn`);
    }
    for (const r of reqs.slice(1)) if (r.raw !== reqs[0].raw) bad(`${x.label}: a retry sent another body`);
    if (c.abortedAt != null) for (const r of reqs) if (r.at > c.abortedAt + 1) bad(`${x.label}: a request sent ${r.at - c.abortedAt} ms after its abort`);
    // json mode
    const mime = reqs[0].body?.generationConfig?.responseMimeType;
    const gc = { ...(opts.generationConfig ?? {}), ...(x.json ? { responseMimeType: 'application/json' } : {}) };
    const sorted = (o) => JSON.stringify(Object.keys(o).sort().map((k) => [k, o[k]]));
    if (sorted(reqs[0].body?.generationConfig ?? {}) !== sorted(gc)) bad(`${x.label}: sent generationConfig ${JSON.stringify(reqs[0].body?.generationConfig)}, the chat's is ${JSON.stringify(opts.generationConfig)}`);
    if ((reqs[0].body?.systemInstruction?.parts?.[0]?.text ?? undefined) !== opts.systemInstruction) bad(`${x.label}: systemInstruction ${JSON.stringify(reqs[0].body?.systemInstruction)}`);
    if (x.json && mime !== 'application/json') bad(`${x.label}: a JSON call sent responseMimeType ${mime}`);
    if (!x.json && mime) bad(`${x.label}: send asked for ${mime}`);

    if (entries.length > reqs.length) bad(`${x.label}: the mock logged ${entries.length} requests, the package made ${reqs.length}`);
    // The oracle: each request's scripted step decides how it ends.
    const outcomes = entries.map((e) => ({ e, x: outcomeOf(e, x.json) }));
    let failures = 0;
    let refusals = 0;
    const aborted = c.ok === false && isAbort(c.error);
    const freedFail = c.ok === false && c.error?.code === 'FREED';
    for (let i = 0; i < outcomes.length; i++) {
      const { e, x: o } = outcomes[i];
      const last = i === outcomes.length - 1;
      if (o.refusal) refusals++; else if (o.code) failures++;
      if (!last) {
        if (!o.code || !o.transient) bad(`${x.label}: request ${i + 1} met ${JSON.stringify(e.step ?? {})} and was followed by another`);
        else if (!o.refusal && failures > (opts.maxRetries ?? 2)) bad(`${x.label}: ${failures} failures retried with maxRetries ${opts.maxRetries ?? 2}`);
        else if (o.refusal && refusals > 10) bad(`${x.label}: more than 10 quota refusals waited out`);
      }
    }
    const lastOutcome = outcomes.at(-1)?.x;
    const exchangeOk = c.ok || (c.op.kind === 'batched' && x.index < (c.error?.batch ?? 0) - 1);
    const exchangeFailedHere = !c.ok && c.op.kind === 'batched' ? x.index === (c.error?.batch ?? 0) - 1 : !c.ok;
    if (entries.length === reqs.length && lastOutcome && !aborted && !freedFail) {
      if (exchangeOk) {
        if (!lastOutcome.ok) bad(`${x.label}: resolved, but its last request met ${JSON.stringify(entries.at(-1).step)}`);
      } else if (exchangeFailedHere) {
        const e = c.error;
        if (lastOutcome.ok) bad(`${x.label}: rejected ${e?.code} (${e?.message?.slice(0, 120)}), but its last request met ${JSON.stringify(entries.at(-1).step ?? {})}`);
        else {
          if (e?.code !== lastOutcome.code) bad(`${x.label}: rejected ${e?.code}, expected ${lastOutcome.code} for ${JSON.stringify(entries.at(-1).step)}`);
          if (lastOutcome.transient && !lastOutcome.refusal) stats.exhaustedRetries++;
          if (lastOutcome.refusal) {
            stats.refusalRunsExhausted++;
            if (refusals !== 11) bad(`${x.label}: gave up on a per-minute 429 after ${refusals} refusals (10 are waited out in a row)`);
          }
          if (e?.code === 'TIMEOUT' && e.timeoutMs !== opts.timeoutMs) bad(`${x.label}: TIMEOUT with timeoutMs ${e.timeoutMs}, the chat's is ${opts.timeoutMs}`);
          const st = entries.at(-1).step ?? {};
          const status = st.fault === 'status' ? st.status : st.fault === 'html502' ? 502 : st.fault === 'sse-error' ? 500 : st.fault === 'quota-day' ? 429 : undefined;
          if (status !== undefined && e?.status !== status) bad(`${x.label}: ${e?.code} with status ${e?.status}, the answer's was ${status}`);
          if (st.message?.includes(key)) stats.keyQuotingErrors++;
          if (lastOutcome.transient && !lastOutcome.refusal && failures !== (opts.maxRetries ?? 2) + 1) bad(`${x.label}: gave up on a transient ${e?.code} after ${failures} failures, maxRetries ${opts.maxRetries ?? 2}`);
          if (typeof e?.retryable === 'boolean' && e.retryable !== (lastOutcome.retryable ?? lastOutcome.transient)) bad(`${x.label}: retryable ${e.retryable} for ${e.code} (${JSON.stringify(entries.at(-1).step)})`);
        }
      }
    }
    // usage of a resolved send
    if (c.ok && c.op.kind === 'send') {
      const u = c.value.usage;
      // Gemini bills an empty answer (STOP without text), one that ended oddly (OTHER) or held no candidates, which
      // the call asked again, as it bills the last one.
      const billed = entries.filter((w, i) => i === entries.length - 1 || ['empty-stop', 'other', 'empty-candidates'].includes(w.step?.fault));
      if (billed.length) {
        const sum = (f) => billed.reduce((n, w) => n + (f(w) ?? 0), 0);
        const want = {
          promptTokens: sum((w) => w.promptTokens), outputTokens: sum((w) => w.candidatesTokenCount), thoughtsTokens: sum((w) => w.thoughtsTokenCount),
          cachedTokens: sum((w) => w.cachedTokens),
          totalTokens: sum((w) => (w.promptTokens ?? 0) + (w.candidatesTokenCount ?? 0) + (w.thoughtsTokenCount ?? 0)),
          requests: reqs.length,
        };
        stats.usageChecked++;
        if (JSON.stringify(u) !== JSON.stringify(want)) bad(`${x.label}: usage ${JSON.stringify(u)}, the mock's ${JSON.stringify(want)}`);
      }
    }
  }
  // retry events: as many as retried requests, attempt numbers counting up
  for (const c of calls) {
    if (c.invalid || !c.settled || !(c.op.progress || c.op.abort === 'retry' || c.op.kind === 'batched')) continue;
    const sent = c.op.prompts.map((t) => exchanges.get(t).requests.length);
    const retried = sent.reduce((s, n) => s + Math.max(0, n - 1), 0);
    // an abort during the wait that followed the last retry event sends nothing more
    const extra = c.retries.length - retried;
    if (!(extra === 0 || (extra === 1 && c.ok === false && (isAbort(c.error) || c.error?.code === 'FREED')))) bad(`${c.label}: ${c.retries.length} retry events for ${retried} retried requests`);
    for (const ev of c.retries) if (!(ev.attempt >= 2 && typeof ev.delayMs === 'number' && typeof ev.reason === 'string') || ev.reason.includes(key)) bad(`${c.label}: retry event ${JSON.stringify(ev)}`);
    // each retry event against the request it follows: its attempt number, the wait the fault asks for, the wait kept
    let k = 0;
    for (const t of c.op.prompts) {
      const entries = entriesOf(t);
      let failures = 0;
      for (let i = 0; i < entries.length - 1 && k < c.retries.length; i++, k++) {
        const ev = c.retries[k];
        const o = outcomeOf(entries[i], c.op.kind !== 'send');
        stats.retryDelaysChecked++;
        if (ev.attempt !== i + 2) bad(`${c.label}: retry event attempt ${ev.attempt} before request ${i + 2} of ${JSON.stringify(t)}`);
        let lo;
        let hi;
        if (o.refusal) {
          lo = parseFloat(entries[i].step.retryDelay) * 1000; hi = lo + 250;
        } else {
          failures++;
          const exp = Math.min(1000 * 2 ** (failures - 1), 30_000); lo = exp / 2; hi = exp;
        }
        if (!(ev.delayMs >= lo && ev.delayMs <= hi)) bad(`${c.label}: waited ${ev.delayMs} ms after ${JSON.stringify(entries[i].step)}, expected ${lo}..${hi}`);
        const gap = entries[i + 1].startedAt - entries[i].endedAt;
        if (gap < ev.delayMs - 20) bad(`${c.label}: request ${i + 2} came ${gap} ms after request ${i + 1} ended, the wait announced was ${ev.delayMs} ms`);
      }
    }
  }

  for (const ctrl of controllers) {
    const r = ctrl.signal.reason;
    if (r && typeof r === 'object' && ('batch' in r || 'results' in r)) bad(`the signal's reason was given a call's batch/results`);
  }
  stats.cases++;
  stats.calls += calls.length;
  stats.requests += wire.length;
  for (const c of calls) {
    if (!c.settled) continue;
    if (c.ok) stats.resolved++; else if (isAbort(c.error)) stats.aborted++; else stats.rejected++;
    if (!c.invalid && c.ok === false && isAbort(c.error)) {
      const xs = c.op.prompts.map((t) => exchanges.get(t));
      if (c.retries.length && c.op.abort === 'retry') stats.abortedInRetryWait++;
      else if (xs.some((x) => x.requests.length)) stats.abortedInFlight++;
    }
  }
  for (const x of exchanges.values()) {
    stats.retriedRequests += Math.max(0, x.requests.length - 1);
    if (x.done && !x.truncated && x.era !== undefined && x.era !== x.eraAtDone) stats.notKeptAfterClear++;
  }
  return { problems, trace, ms: Date.now() - t0, plan, calls: calls.length, requests: wire.length };
}

function describe(plan) {
  return JSON.stringify({ opts: plan.opts, steps: plan.steps, ops: plan.ops.map((o) => ({ ...o, prompts: o.prompts?.length })), free: plan.free });
}

test(`GeminiChat chaos: ${ONLY ?? CASES} seeded cases (seed ${SEED}) keep the history, requests, errors and key as documented`, async () => {
  await runCases({
    env: 'CHAT_CHAOS', seed: SEED, cases: CASES, only: ONLY, pool: POOL, planCase, runCase, describe, stats, stray: hooked.stray,
    summary: (results, ms) => `${results.length} cases, ${results.reduce((s, r) => s + r.calls, 0)} calls, ${results.reduce((s, r) => s + r.requests, 0)} requests in ${ms} ms`,
  });
});
