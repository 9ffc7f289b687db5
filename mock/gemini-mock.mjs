#!/usr/bin/env node
// Mock of the Google Gemini v1beta REST API (generativelanguage.googleapis.com)
// for offline tests. Zero dependencies: node:http + node:crypto only.
//
//   node mock/gemini-mock.mjs --port 0 [--latency-ms N] [--tokens-per-second N] [--time-scale F] [--follow-prompt]
//                             [--rpm N] [--tpm N] [--rpd N] [--route RETIRED=SUCCESSOR] [--bounded-object-arrays N] [--quiet]
//
// See mock/README.md for the prompt contract, the scripted faults and the
// /__mock/ control endpoints.

import http from 'node:http';
import crypto from 'node:crypto';
import { pathToFileURL } from 'node:url';

import { MODELS, getModel, inputTokenLimit, modelResource, normalizeModelId, plannedThinking } from './models.mjs';
import {
  googleError, invalidArgument, keyRefusal, keyRefusalFor, KEY_STATES, MODEL_NOT_FOUND, quotaError, statusFaultBody,
  htmlErrorPage, SAFETY_RATINGS_BLOCKED, INPUT_TOO_LONG,
} from './errors.mjs';
import { RateLimiter, QUOTA_WINDOW_MS, QUOTA_DAY_MS } from './limits.mjs';
import { ImplicitCache, CACHE_TTL_MS, implicitCacheMin } from './cache.mjs';
import { parseBody, validateGenerateRequest, validateCountTokensRequest, contentText, promptChars, schemaText, decodingError } from './validate.mjs';
import {
  parsePrompt, renderAnswer, thoughtSummary, countTokens, codePointLength, sliceCodePoints,
  splitCodePoints, rngFor, hash32, promptPlan, inventedWeeks,
} from './content.mjs';
import { answerSchema, enumChoice } from './structured.mjs';

export const KNOWN_FAULTS = [
  'status', 'key', 'quota-day', 'html502', 'hang', 'reset', 'blocked', 'safety', 'recitation', 'empty-candidates',
  'thoughts-only', 'fenced', 'commented', 'trailing-comma', 'truncate', 'wrong-week-numbers', 'missing-day',
  'duplicate-week', 'extra-week', 'prose', 'xss', 'sse-cut', 'sse-error', 'python-literals', 'single-quotes', 'stall',
  'empty-stop', 'fragmented', 'coalesced', 'other',
];

/**
 * The finish reasons (Candidate.FinishReason) that stop a candidate for its content: the `reason` a `safety` step
 * may give (SAFETY when it gives none). STOP and MAX_TOKENS are not among them (`truncate` gives MAX_TOKENS).
 */
export const CONTENT_STOP_REASONS = [
  'SAFETY', 'RECITATION', 'LANGUAGE', 'OTHER', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII', 'MALFORMED_FUNCTION_CALL',
  'IMAGE_SAFETY',
  // the rest of the v1beta enum (@google/genai 3.3's FinishReason): a client meets them as unknown reasons
  'IMAGE_PROHIBITED_CONTENT', 'IMAGE_RECITATION', 'IMAGE_OTHER', 'NO_IMAGE', 'UNEXPECTED_TOOL_CALL',
  'TOO_MANY_TOOL_CALLS', 'MISSING_THOUGHT_SIGNATURE', 'MALFORMED_RESPONSE', 'FINISH_REASON_UNSPECIFIED',
];

// Faults that change the answer's text (content.mjs renderAnswer); the others act on the response or the transport.
const CONTENT_FAULTS = new Set([
  'fenced', 'commented', 'trailing-comma', 'wrong-week-numbers', 'missing-day', 'duplicate-week', 'extra-week', 'prose',
  'xss', 'python-literals', 'single-quotes',
]);

const ALLOWED_CORS_HEADERS = new Set(['content-type', 'x-goog-api-key', 'x-goog-api-client', 'authorization']);
const KEY_SYMBOL = Symbol('apiKey');

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);


function nowMs() {
  return Date.now();
}

function responseId() {
  return crypto.randomBytes(17).toString('base64url');
}

// ---------------------------------------------------------------------------
// Per-request context helpers
// ---------------------------------------------------------------------------

function makeCtx(state, req, res) {
  const url = new URL(req.url, 'http://127.0.0.1');
  const ctx = {
    state, req, res, url,
    origin: req.headers.origin || null,
    aborted: false,
    selfDestroyed: false,
    abortListeners: new Set(),
    entry: null,
    // The latency model's times count from the request's arrival (as a client measures them), not from the end of
    // the mock's own work on it, and each event is due at its own time: relative sleeps would add up every timer's
    // overshoot, which at a small --time-scale is magnified into seconds.
    arrivedAt: performance.now(),
  };
  res.on('close', () => {
    if (!res.writableFinished && !ctx.selfDestroyed) {
      ctx.aborted = true;
      if (ctx.entry) ctx.entry.aborted = true;
    }
    if (ctx.entry && ctx.entry.endedAt == null) {
      ctx.entry.endedAt = nowMs();
      ctx.entry.durationMs = ctx.entry.endedAt - ctx.entry.startedAt;
    }
    for (const f of ctx.abortListeners) f();
    ctx.abortListeners.clear();
  });
  return ctx;
}

/** Sleep that resolves early when the client goes away. */
function sleep(ctx, ms) {
  if (ctx.aborted) return Promise.resolve();
  if (!(ms > 0)) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => { clearTimeout(t); ctx.abortListeners.delete(done); resolve(); };
    const t = setTimeout(done, ms);
    ctx.abortListeners.add(done);
  });
}

/**
 * Sleeps until `dueMs` after the request's arrival (or after its scripted delay). A timer may fire up to a
 * millisecond early (libuv counts whole milliseconds from the loop's cached clock): what is left is waited again,
 * so that nothing is answered before its time (a client saw 149.1 ms for a 150 ms latency in 1 request of 10).
 */
async function sleepUntil(ctx, dueMs) {
  for (let left; !ctx.aborted && (left = ctx.arrivedAt + dueMs - performance.now()) > 0;) await sleep(ctx, left);
}

function waitForAbort(ctx) {
  if (ctx.aborted) return Promise.resolve();
  return new Promise((resolve) => ctx.abortListeners.add(resolve));
}

function googleHeaders(ctx, extra = {}) {
  const h = {
    vary: ['Origin', 'X-Origin', 'Referer'],
    server: 'scaffolding on HTTPServer2',
    'x-xss-protection': '0',
    'x-frame-options': 'SAMEORIGIN',
    'x-content-type-options': 'nosniff',
    'server-timing': `gfet4t7; dur=${Math.max(1, nowMs() - (ctx.entry ? ctx.entry.startedAt : nowMs()))}`,
    ...extra,
  };
  if (ctx.origin) {
    h['access-control-allow-origin'] = ctx.origin;
    h['access-control-expose-headers'] = 'vary,vary,vary,content-encoding,date,server,content-length';
  }
  return h;
}

function markFirstByte(ctx) {
  if (ctx.entry && ctx.entry.firstByteAt == null) ctx.entry.firstByteAt = nowMs();
}

function finish(ctx, status) {
  if (ctx.entry) ctx.entry.status = status;
}

function sendRaw(ctx, status, body, contentType, extraHeaders = {}) {
  if (ctx.aborted || ctx.res.headersSent) return;
  finish(ctx, status);
  markFirstByte(ctx);
  const buf = Buffer.from(body, 'utf8');
  ctx.res.writeHead(status, googleHeaders(ctx, { 'content-type': contentType, 'content-length': buf.length, ...extraHeaders }));
  ctx.res.end(buf, () => {
    if (ctx.entry) { ctx.entry.endedAt = nowMs(); ctx.entry.durationMs = ctx.entry.endedAt - ctx.entry.startedAt; }
  });
}

/**
 * Google's JSON is HTML-safe: `<`, `>` and `&` in strings are written `\u003c`, `\u003e`, `\u0026` (a recorded
 * gemini-2.5-flash stream has `x \u003c 0 or x \u003e= BOARD_WIDTH`), so a client that matches model text in the
 * raw body, not in the decoded JSON, fails here as against Gemini. Those characters occur only inside strings.
 */
const htmlSafe = (json) => json.replace(/[<>&]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`);

const pretty = (obj) => htmlSafe(JSON.stringify(obj, null, 2));

/**
 * JSON as Gemini writes an SSE event: `": "` after each key, no space after a comma
 * (`{"candidates": [{"content": {"parts": [{"text": "Hi"}],"role": "model"},"index": 0}],...}`), so a client that
 * matches `"finishReason":"STOP"` in the text fails here as against Gemini.
 */
export function sseJson(v) {
  if (Array.isArray(v)) return `[${v.map(sseJson).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.entries(v).filter(([, x]) => x !== undefined).map(([k, x]) => `${JSON.stringify(k)}: ${sseJson(x)}`).join(',')}}`;
  }
  return htmlSafe(JSON.stringify(v));
}

/** JSON response; on the non-SSE streaming endpoint Google wraps bodies in a JSON array. */
function sendJson(ctx, status, obj, { arrayWrap = false } = {}) {
  const body = arrayWrap ? `[${pretty(obj)}\n]` : pretty(obj) + '\n';
  sendRaw(ctx, status, body, 'application/json; charset=UTF-8');
}

function sendError(ctx, status, obj) {
  const arrayWrap = !!(ctx.entry && ctx.entry.stream && !ctx.entry.sse);
  sendJson(ctx, status, obj, { arrayWrap });
}

function sendHtml(ctx, status, html) {
  sendRaw(ctx, status, html, 'text/html; charset=UTF-8');
}

async function readBody(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  return Buffer.concat(chunks);
}

// ---------------------------------------------------------------------------
// Request log
// ---------------------------------------------------------------------------

function redactedHeaders(req) {
  const headers = {};
  const names = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i].toLowerCase();
    const value = req.rawHeaders[i + 1];
    names.push(name);
    // the key itself never enters the log: only its length (a number)
    headers[name] = name === 'x-goog-api-key' ? value.length : value;
  }
  return { headers, headerNames: names };
}

function newEntry(ctx, kind) {
  const { state, req, url } = ctx;
  const { headers, headerNames } = redactedHeaders(req);
  const query = {};
  for (const [k, v] of url.searchParams) query[k] = k === 'key' ? v.length : v;
  const entry = {
    seq: ++state.seq,
    kind,
    method: req.method,
    path: url.pathname,
    query,
    model: null,
    stream: false,
    sse: false,
    keyInUrl: url.searchParams.has('key'),
    keyLength: null,
    origin: ctx.origin,
    headers,
    headerNames,
    bodyBytes: 0,
    promptChars: null,
    promptTokens: null,
    rateLimited: null,
    cachedTokens: null,
    lastUserText: null,
    contentsTurns: null,
    signedTurns: null,
    generationConfig: null,
    systemInstruction: null,
    task: null,
    scripted: false,
    fault: null,
    faultApplied: null,
    step: null,
    status: null,
    finishReason: null,
    candidatesTokenCount: null,
    thoughtsTokenCount: null,
    usageForm: null,
    aborted: false,
    startedAt: nowMs(),
    firstByteAt: null,
    endedAt: null,
    durationMs: null,
  };
  state.log.push(entry);
  if (state.log.length > state.maxLog) state.log.splice(0, state.log.length - state.maxLog);
  ctx.entry = entry;
  return entry;
}

/** The request's `Referer` header (what a website-restricted key is checked against), or null. */
function refererOf(ctx) {
  const r = ctx.req.headers.referer;
  return typeof r === 'string' && r !== '' ? r : null;
}

function apiKeyOf(ctx) {
  const h = ctx.req.headers['x-goog-api-key'];
  if (typeof h === 'string' && h !== '') return h;
  const q = ctx.url.searchParams.get('key');
  return q != null && q !== '' ? q : null;
}

// ---------------------------------------------------------------------------
// Scripts
// ---------------------------------------------------------------------------

function consumeStep(state, key) {
  for (const k of [key, '*']) {
    const q = state.scripts.get(k);
    if (q && q.length) {
      const step = q[0];
      if (step.repeat > 1) {
        step.repeat -= 1;
        const copy = { ...step };
        delete copy.repeat;
        return copy;
      }
      q.shift();
      const copy = { ...step };
      delete copy.repeat;
      return copy;
    }
  }
  return null;
}

function normalizeStep(step) {
  if (step.fault == null && step.status != null) return { ...step, fault: 'status' };
  return step;
}

// ---------------------------------------------------------------------------
// Generation
// ---------------------------------------------------------------------------

/** Deterministic stream chunk sizes (code points): a first small chunk, then 150-400. */
export function chunkSizes(text) {
  const rng = rngFor('chunks|' + hash32(text));
  const total = codePointLength(text);
  const sizes = [8 + Math.floor(rng() * 32)];
  let sum = sizes[0];
  while (sum < total) {
    const s = 150 + Math.floor(rng() * 251);
    sizes.push(s);
    sum += s;
  }
  return sizes;
}

/** `usageMetadata` for an answer to `out` (its prompt tokens `P`, of which `cached` came from the cache). */
function usage(out, C, T) {
  const P = out.P;
  const cached = out.cached || 0;
  const u = { promptTokenCount: P };
  if (C > 0) u.candidatesTokenCount = C;
  u.totalTokenCount = P + C + T;
  if (cached > 0) u.cachedContentTokenCount = cached;
  u.promptTokensDetails = [{ modality: 'TEXT', tokenCount: P }];
  if (cached > 0) u.cacheTokensDetails = [{ modality: 'TEXT', tokenCount: cached }];
  if (T > 0) u.thoughtsTokenCount = T;
  // Gemini's usage names the tier that served the request since 2026.
  u.serviceTier = 'standard';
  return u;
}

/**
 * `usageMetadata` as the early events of a `prompt-first` stream carry it: the prompt only, `totalTokenCount` equal
 * to it, no output, thinking or cached tokens yet (google-gemini-php/client#72).
 */
function promptOnlyUsage(out) {
  return { promptTokenCount: out.P, totalTokenCount: out.P, promptTokensDetails: [{ modality: 'TEXT', tokenCount: out.P }] };
}

/**
 * The text of candidate `i` (1 and up) when `candidateCount` asks for more than one: the same answer as candidate 0
 * (which is exactly what a request for one candidate gets), formatted differently, so that a client which reads the
 * wrong candidate, or mixes their chunks, gets a text that differs from candidate 0's. JSON is indented by 2 + i
 * spaces (inside the fence when it is fenced), a chat reply says which candidate it is; a text that is neither
 * (e.g. broken JSON from a content fault) stays as it is.
 */
function candidateVariant(full, i) {
  const reindent = (body) => {
    try { return JSON.stringify(JSON.parse(body), null, 2 + i); } catch { return null; }
  };
  const whole = reindent(full);
  if (whole != null) return whole;
  const fenced = /^([\s\S]*?```json\n)([\s\S]*)(\n```\n)$/.exec(full);
  if (fenced) {
    const body = reindent(fenced[2]);
    if (body != null) return fenced[1] + body + fenced[3];
  }
  if (full.startsWith('Mock reply: ')) return `Mock reply (candidate ${i + 1}): ${full.slice('Mock reply: '.length)}`;
  return full;
}

/** The candidate's stop reason a content-stop fault sets (`safety` with its `reason`, `other`, `recitation`). */
function faultStopReason(step) {
  const fault = step && step.fault;
  if (fault === 'safety') return step.reason ?? 'SAFETY';
  if (fault === 'other') return 'OTHER';
  if (fault === 'recitation') return 'RECITATION';
  return null;
}

/**
 * Compute the full outcome of a validated request: text, thinking, finish reason,
 * and the special response shapes of some faults. `P` is its prompt tokens, which the caller counts once for
 * the quotas and this charge.
 * `out.candidates` holds one `{index, text, finishReason}` per candidate (`candidateCount`, default 1);
 * `out.text` and `out.finishReason` are candidate 0's.
 */
function generate(req, model, modelId, step, followPrompt, P) {
  const fault = step && step.fault;
  const gc = req.generationConfig || {};
  const json = gc.responseMimeType === 'application/json';
  const count = gc.candidateCount ?? 1;
  const contents = req.contents;
  const last = contents[contents.length - 1];
  const lastUserText = contentText(last);
  const sysText = req.systemInstruction ? contentText(req.systemInstruction) : '';
  const task = parsePrompt(lastUserText, sysText);
  // prompt-following mode: week titles and phases come from what the request shows (content.mjs promptPlan)
  const plan = followPrompt && (task.kind === 'weeks' || task.kind === 'days') ? promptPlan(req) : null;
  const maxOut = gc.maxOutputTokens ?? model.outputTokenLimit;

  let T = Math.min(plannedThinking(model, gc.thinkingConfig, P), maxOut);
  let thought = gc.thinkingConfig && gc.thinkingConfig.includeThoughts === true && T > 0 ? thoughtSummary(task) : null;

  const out = {
    task, P, T: 0, text: '', thought: null, finishReason: 'STOP', special: null, lastUserText, sysText, faultApplied: null, plan,
    candidates: [],
  };
  // every candidate without text, ending with `finishReason`
  const empty = (finishReason) => {
    out.finishReason = finishReason;
    out.candidates = Array.from({ length: count }, (_, index) => ({ index, text: '', finishReason }));
  };

  if (fault === 'blocked' || fault === 'empty-candidates') {
    out.special = fault;
    out.faultApplied = true;
    return out;
  }
  if (fault === 'empty-stop') {
    // Gemini sometimes ends its turn (STOP) without a word: a candidate whose content has a role and no parts.
    // Any thinking is still charged; the thought summary is not sent.
    out.T = T;
    out.faultApplied = true;
    empty('STOP');
    return out;
  }
  if (fault === 'thoughts-only') {
    out.T = maxOut;
    out.thought = thoughtSummary(task);
    out.faultApplied = true;
    empty('MAX_TOKENS');
    return out;
  }

  const schema = answerSchema(gc);
  const choice = enumChoice(gc, lastUserText);
  const full = choice ?? renderAnswer(task, { json, step, lastUserText, plan, schema });
  const remaining = maxOut - T;
  const stop = faultStopReason(step);
  const stopSequences = (gc.stopSequences || []).filter((x) => typeof x === 'string' && x !== '');
  // Each candidate is cut by its first stop sequence, the output limit and the scripted fault alike.
  const cut = (whole) => {
    const wholeLen = codePointLength(whole);
    const cuts = [];
    if (countTokens(whole) > remaining) cuts.push([remaining * 4, 'MAX_TOKENS']);
    if (fault === 'truncate') {
      const at = step.atFraction != null ? Math.floor(wholeLen * Number(step.atFraction)) : Number(step.atChars ?? Math.floor(wholeLen / 2));
      cuts.push([Math.max(0, at), 'MAX_TOKENS']);
    }
    if (stop) cuts.push([Math.floor(wholeLen * (fault === 'recitation' ? 0.6 : 0.4)), stop]);
    // The answer ends before the first stop sequence it writes, which is left out, with STOP (the GenerationConfig
    // reference: "the API will stop at the first appearance of a stop_sequence. The stop sequence will not be
    // included as part of the response"): when the whole sequence is written before any other cut.
    const first = stopSequences
      .map((x) => ({ i: whole.indexOf(x), x }))
      .filter(({ i }) => i >= 0)
      .map(({ i, x }) => ({ at: codePointLength(whole.slice(0, i)), end: codePointLength(whole.slice(0, i)) + codePointLength(x) }))
      .sort((a, b) => a.end - b.end)[0];
    if (first && cuts.every(([at]) => first.end <= at)) cuts.unshift([first.at, 'STOP']);
    if (cuts.length) {
      cuts.sort((a, b) => a[0] - b[0]);
      const [at, reason] = cuts[0];
      if (at < wholeLen || reason !== 'MAX_TOKENS') return { text: sliceCodePoints(whole, at), finishReason: reason };
    }
    return { text: whole, finishReason: 'STOP' };
  };
  out.candidates = Array.from({ length: count }, (_, index) => ({ index, ...cut(index === 0 ? full : candidateVariant(full, index)) }));
  const { text, finishReason } = out.candidates[0];
  out.finishReason = finishReason;
  // Did the scripted fault change the answer? A cut at or past the end of the answer does not; nor does a
  // content fault that leaves this answer as it was. The stream faults are marked when they happen.
  if (fault === 'truncate') out.faultApplied = out.finishReason === 'MAX_TOKENS' && text !== full;
  else if (stop) out.faultApplied = out.finishReason === stop;
  else if (CONTENT_FAULTS.has(fault)) out.faultApplied = !choice && full !== renderAnswer(task, { json, step: null, lastUserText, schema });
  out.T = T;
  out.text = text;
  out.thought = thought;
  return out;
}

/**
 * The JSON of candidate `c` (one of `out.candidates`) carrying `text` (all of it, or a streamed chunk). `final`: the
 * candidate's last appearance, which has its finishReason (and its thought signature, its safety ratings or its
 * citations). `thought`: the thought summary to put first, if any.
 */
function candidateFor(c, text, { final = true, thought = null } = {}) {
  const parts = [];
  if (thought) parts.push({ text: thought, thought: true });
  if (text) parts.push(c.signature && final === true ? { text, thoughtSignature: c.signature } : { text });
  const cand = { content: parts.length ? { parts, role: 'model' } : { role: 'model' } };
  if (final === true) {
    cand.finishReason = c.finishReason;
    // Gemini rates the candidate it stopped for SAFETY; the other content stops come without ratings.
    if (c.finishReason === 'SAFETY') cand.safetyRatings = SAFETY_RATINGS_BLOCKED();
    if (c.finishReason === 'RECITATION') {
      cand.citationMetadata = {
        citationSources: [{ startIndex: 0, endIndex: codePointLength(c.text), uri: 'https://github.com/example/awesome-learning-roadmaps', license: '' }],
      };
    }
  }
  cand.index = c.index;
  return cand;
}

/**
 * The last appearance of a candidate a content stop ended: no content ("Candidate.content is empty if content
 * filters block the output"), but for tool calls Gemini's own shapes: `UNEXPECTED_TOOL_CALL` carries the call it
 * made and says so in `finishMessage` (epam/ai-dial-adapter-vertexai#325), `MALFORMED_FUNCTION_CALL` quotes the
 * broken call there (vercel/ai#12986).
 */
function stoppedCandidate(c) {
  const cand = candidateFor(c, '');
  delete cand.content;
  if (c.finishReason === 'UNEXPECTED_TOOL_CALL') {
    cand.content = { parts: [{ functionCall: { name: 'save_roadmap', args: { weeks: 1 } } }], role: 'model' };
    cand.finishMessage = 'Unexpected tool call: Model tried to call an undeclared function: save_roadmap';
  }
  if (c.finishReason === 'MALFORMED_FUNCTION_CALL') {
    cand.finishMessage = "Malformed function call: print(default_api.save_roadmap(weeks=1, title='Week 1\\'))";
  }
  return cand;
}

/** Whole-response objects for special faults. */
function specialResponse(out, modelId, rid, step) {
  if (out.special === 'blocked') {
    const reason = step.reason || 'SAFETY';
    const pf = { blockReason: reason };
    if (reason === 'SAFETY') pf.safetyRatings = SAFETY_RATINGS_BLOCKED('HARM_CATEGORY_HARASSMENT');
    return { promptFeedback: pf, usageMetadata: usage(out, 0, 0), modelVersion: modelId, responseId: rid };
  }
  return { candidates: [], usageMetadata: usage(out, 0, 0), modelVersion: modelId, responseId: rid };
}

// ---------------------------------------------------------------------------
// Handlers
// ---------------------------------------------------------------------------

function effectiveTiming(state, step) {
  const c = state.config;
  return {
    latencyMs: step && step.latencyMs != null ? Number(step.latencyMs) : c.latencyMs,
    tps: step && step.tokensPerSecond != null ? Number(step.tokensPerSecond) : c.tokensPerSecond,
    scale: c.timeScale,
  };
}

/**
 * The 429 body when the request (of `tokens` input tokens) goes over `rpm`, `tpm` or `rpd` of its key and model,
 * else null (the request is counted). Like Gemini, the message names the exact wait and `RetryInfo` only its whole seconds, so a client that
 * waits just `retryDelay` can come back a little early and be refused again. Past the day's quota the wait runs to
 * the next midnight Pacific (`retryDelay: "65205s"` in a public capture): hours that only a client which knows a
 * per-day quotaId from a per-minute one will not wait.
 */
function quotaRefusal(ctx, key, modelId, tokens) {
  const { rpm, tpm, rpd, timeScale } = ctx.state.config;
  if (!(rpm > 0) && !(tpm > 0) && !(rpd > 0)) return null;
  const refused = ctx.state.limiter.admit({
    key, model: modelId, tokens, rpm, tpm, rpd, now: nowMs(), windowMs: QUOTA_WINDOW_MS * timeScale, dayMs: QUOTA_DAY_MS * timeScale,
  });
  if (!refused) return null;
  ctx.entry.rateLimited = refused.quota;
  // Both are wall-clock seconds, what the client waits. RetryInfo drops the fraction of a second of the
  // mock's clock (which runs 1/timeScale times as fast), so at any time scale it undershoots as Gemini's does.
  const clockSeconds = timeScale > 0 ? Math.floor(refused.waitMs / (1000 * timeScale) + 1e-9) : 0;
  return quotaError(modelId, {
    tokens: refused.quota === 'tokens',
    perDay: refused.quota === 'day',
    limit: refused.limit,
    retryIn: Number((refused.waitMs / 1000).toFixed(9)),
    retryDelay: `${Number((clockSeconds * timeScale).toFixed(6))}s`,
  });
}

/** The model that serves requests for `id`: its successor when `routes` sends the name on, else itself. */
function routedModel(state, id) {
  return Object.prototype.hasOwnProperty.call(state.config.routes, id) ? state.config.routes[id] : id;
}

/** `routes` from options or the control API, checked: `{retired: successor}`, both served models. */
function checkRoutes(routes) {
  if (routes == null) return {};
  if (typeof routes !== 'object' || Array.isArray(routes)) throw new Error('routes must be an object {"retired-model": "successor"}');
  for (const [from, to] of Object.entries(routes)) {
    if (!getModel(to)) throw new Error(`routes: ${from} is routed to ${to}, which the mock does not serve`);
  }
  return { ...routes };
}

/**
 * The shapes a streamed answer takes turns at (its end's, its usage's) turn per API key: what one test's requests
 * meet does not depend on how many requests other tests, sharing the mock, made before.
 */
const turns = new Map();
/** How many answers `ctx`'s key has had before of kind `what`. */
function nextTurn(what, ctx) {
  const k = `${what}\u0000${apiKeyOf(ctx) ?? ''}`;
  const n = turns.get(k) ?? 0;
  turns.set(k, n + 1);
  return n;
}
/**
 * The forms of a streamed answer's `usageMetadata`, all seen from Gemini: a running total in every event
 * (NousResearch/hermes-agent#17786), early events with the prompt only (`totalTokenCount` equal to it) and the
 * output counted later (google-gemini-php/client#72), or usage in the last event only (googleapis/go-genai#15,
 * NousResearch/hermes-agent#15493). The last event's usage is always the whole answer's.
 */
export const USAGE_FORMS = ['running', 'prompt-first', 'last-only'];
const tokensMs = (tokens, tps) => (tps > 0 ? (tokens / tps) * 1000 : 0);

async function handleGenerate(ctx, modelRaw, method) {
  const { state, req, url } = ctx;
  const stream = method === 'streamGenerateContent';
  const sse = stream && url.searchParams.get('alt') === 'sse';
  const entry = newEntry(ctx, stream ? 'stream' : 'generate');
  const requested = normalizeModelId(modelRaw);
  // A retired name routed to its successor is served by the successor, under its rules and in its name.
  const modelId = routedModel(state, requested);
  Object.assign(entry, { model: requested, stream, sse });
  if (modelId !== requested) entry.routedTo = modelId;

  const bodyBuf = await readBody(req);
  entry.bodyBytes = bodyBuf.length;
  const key = apiKeyOf(ctx);
  entry[KEY_SYMBOL] = key;
  entry.keyLength = key ? key.length : null;

  let step = key ? consumeStep(state, key) : null;
  if (step) {
    step = normalizeStep(step);
    entry.scripted = true;
    entry.fault = step.fault || null;
    // false until the fault has had its effect: a step used up by a request that failed validation, or a cut
    // past the end of the answer, stays false.
    entry.faultApplied = step.fault ? false : null;
    entry.step = step;
  }
  const timing = effectiveTiming(state, step);
  if (step && step.delayMs) {
    await sleep(ctx, Number(step.delayMs) * timing.scale);
    ctx.arrivedAt = performance.now();
  }
  if (ctx.aborted) return;

  // 1. auth
  const rpc = method === 'streamGenerateContent' ? 'StreamGenerateContent' : 'GenerateContent';
  const keyRefused = keyRefusal(key, rpc, refererOf(ctx));
  if (keyRefused) return sendError(ctx, keyRefused.status, keyRefused.body);

  // 2. transport-level faults
  const fault = step && step.fault;
  if (['status', 'quota-day', 'html502', 'hang', 'reset'].includes(fault)) entry.faultApplied = true;
  switch (fault) {
    case 'key': {
      // The answer a key in that state gets (a page test cannot choose the demo's key).
      // `as` is one of KEY_STATES, checked when the step was queued.
      const r = keyRefusalFor(step.as, rpc, { referer: refererOf(ctx), force: true });
      entry.faultApplied = true;
      return sendError(ctx, r.status, r.body);
    }
    case 'status': {
      const status = Number(step.status) || 500;
      return sendError(ctx, status, statusFaultBody(status, modelId, step));
    }
    case 'quota-day':
      return sendError(ctx, 429, quotaError(modelId, { perDay: true, retryDelay: step.retryDelay ?? null, limit: step.limit ?? null, message: step.message ?? null }));
    case 'html502':
      return sendHtml(ctx, 502, htmlErrorPage(502));
    case 'hang':
      await waitForAbort(ctx);
      return;
    case 'reset':
      ctx.selfDestroyed = true;
      entry.status = 0;
      entry.endedAt = nowMs();
      req.socket.destroy();
      return;
    default:
  }

  // 3. body
  const parsed = parseBody(bodyBuf.toString('utf8'));
  if (!parsed.ok) return sendError(ctx, parsed.status, parsed.body);

  // 4. model
  const model = getModel(modelId);
  if (!model) return sendError(ctx, ...notFoundUnlessUndecodable(parsed.json, modelId, method));

  // 5. validation
  const v = validateGenerateRequest(parsed.json, model, modelId, { boundedObjectArrays: state.config.boundedObjectArrays });
  recordRequestShape(entry, parsed.json, v.ok ? v.req : null);
  if (!v.ok) return sendError(ctx, v.status, v.body);

  // 6. quotas (off unless configured); the prompt text is read, and its tokens counted, once for the quotas, the
  // charge and the implicit cache
  const promptText = promptChars(v.req);
  const promptTokens = countTokens(promptText);
  const refusal = quotaRefusal(ctx, key, modelId, promptTokens);
  if (refusal) return sendError(ctx, 429, refusal);
  // A prompt over the model's input limit is refused after the quotas have counted it: Gemini bills the attempt.
  const inputLimit = inputTokenLimit(model);
  if (promptTokens > inputLimit) {
    entry.promptTokens = promptTokens;
    return sendError(ctx, 400, INPUT_TOO_LONG(inputLimit));
  }

  // 7. generation
  const out = generate(v.req, model, modelId, step, state.config.followPrompt, promptTokens);
  entry.promptTokens = out.P;
  const cacheMin = implicitCacheMin(modelId);
  if (state.config.implicitCache && cacheMin != null) {
    out.cached = state.cache.lookup({
      key, model: modelId, text: promptText, minTokens: cacheMin, now: nowMs(), ttlMs: CACHE_TTL_MS * state.config.timeScale,
    });
  }
  entry.cachedTokens = out.cached || 0;
  if (out.faultApplied != null) entry.faultApplied = out.faultApplied;
  entry.task = out.task.kind === 'chat' ? { kind: 'chat' }
    : { kind: out.task.kind, role: out.task.role, totalWeeks: out.task.total, from: out.task.from, to: out.task.to };
  if (out.task.kind === 'days') entry.task.days = [out.task.dayFrom, out.task.dayTo];
  if (out.plan) entry.task.invented = inventedWeeks(out.plan, out.task.from, out.task.to);
  const rid = responseId();
  // Gemini 3 models sign their reasoning even at the lowest level: the answer's last part carries an opaque
  // `thoughtSignature` (streamed, in a last event of its own whose part has empty text or none).
  // Several candidates are signed each (candidate 0 as a single one is).
  if (model.thinking && model.thinking.kind === 'level' && !out.special) {
    for (const c of out.candidates) {
      if (c.text) c.signature = crypto.createHash('sha256').update(c.index === 0 ? rid : `${rid}|${c.index}`).digest('base64');
      if (c.signature) issueSignature(c.signature);
    }
  }
  // candidatesTokenCount sums every candidate's tokens
  const C = out.candidates.reduce((sum, c) => sum + countTokens(c.text), 0);
  const T = out.T;
  if (!out.special) {
    entry.finishReason = out.finishReason;
    entry.candidatesTokenCount = C;
    entry.thoughtsTokenCount = T;
  }
  const httpStatus = step && step.fault !== 'status' && step.status != null ? Number(step.status) : 200;

  if (stream) return streamResponse(ctx, out, { modelId, rid, step, timing, sse, httpStatus, C, T });

  // non-streaming
  await sleepUntil(ctx, (timing.latencyMs + tokensMs(T + C, timing.tps)) * timing.scale);
  if (ctx.aborted) return;
  if (fault === 'sse-error' || fault === 'stall' || fault === 'sse-cut') entry.faultApplied = true;
  if (fault === 'sse-error') return sendError(ctx, 500, googleError(500));
  if (fault === 'stall') { await waitForAbort(ctx); return; }
  const body = out.special
    ? specialResponse(out, modelId, rid, step)
    : {
      // A candidate a filter stopped comes without content, what it had written withheld ("Candidate.content is
      // empty if content filters block the output": Vertex's FinishReason docs; google/generative-ai-docs#235).
      candidates: out.candidates.map((c) => {
        if (!CONTENT_STOP_REASONS.includes(c.finishReason)) return candidateFor(c, c.text, { thought: out.thought });
        return stoppedCandidate(c);
      }),
      usageMetadata: usage(out, C, T),
      modelVersion: modelId,
      responseId: rid,
    };
  if (fault === 'sse-cut') {
    // the body stops half-way and the connection is closed
    const text = pretty(body);
    finish(ctx, httpStatus);
    markFirstByte(ctx);
    ctx.res.writeHead(httpStatus, googleHeaders(ctx, { 'content-type': 'application/json; charset=UTF-8' }));
    ctx.res.write(text.slice(0, Math.floor(text.length / 2)));
    if (step.mode === 'destroy') { ctx.selfDestroyed = true; ctx.res.destroy(); } else ctx.res.end();
    return;
  }
  if (fault === 'fragmented') {
    entry.faultApplied = true;
    const text = pretty(body) + '\n';
    finish(ctx, httpStatus);
    markFirstByte(ctx);
    ctx.res.writeHead(httpStatus, googleHeaders(ctx, { 'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(text) }));
    if (await writeFragmented(ctx, text)) ctx.res.end();
    return;
  }
  sendJson(ctx, httpStatus, body);
}

/** A body with unknown fields or wrong types gets its 400 before the model's 404 (decoding comes first). */
function notFoundUnlessUndecodable(json, modelId, method) {
  const undecodable = decodingError(json, method === 'countTokens');
  return undecodable ? [400, undecodable] : [404, MODEL_NOT_FOUND(modelId, method)];
}

/** The value of the last of `names` present in `obj`, in the body's key order: as JSON decoding does, the field
 * given last under either spelling (`generationConfig`, `generation_config`) is the one read. */
function lastOf(obj, names) {
  let found;
  for (const k of Object.keys(obj)) if (names.includes(k)) found = obj[k];
  return found;
}

/**
 * Code points of the prompt text in a request body as received (systemInstruction, then every turn; text parts
 * only, thought parts excluded; then the response schema's JSON): what the token rule counts. Read from the raw
 * JSON, snake_case included, apart from the code that charges the tokens, so that a client can check the charge
 * against it (the charge reads a `responseSchema` with snake_case keys inside as camelCase: only there do the two
 * differ, by its underscores).
 */
function bodyPromptChars(raw) {
  const textOf = (c) => {
    const parts = c && Array.isArray(c.parts) ? c.parts : [];
    let n = 0;
    for (const p of parts) if (p && typeof p.text === 'string' && p.thought !== true) n += [...p.text].length;
    return n;
  };
  const si = lastOf(raw, ['systemInstruction', 'system_instruction']);
  let n = si ? textOf(si) : 0;
  for (const c of Array.isArray(raw.contents) ? raw.contents : []) n += textOf(c);
  const gc = lastOf(raw, ['generationConfig', 'generation_config']);
  const schema = gc && typeof gc === 'object'
    ? lastOf(gc, ['responseJsonSchema', 'response_json_schema']) ?? gc._responseJsonSchema ?? lastOf(gc, ['responseSchema', 'response_schema'])
    : undefined;
  return n + [...schemaText(schema)].length;
}

/** Signatures given in answers, for `signedTurns` (the newest 100,000: a long run's memory stays bounded). */
const issuedSignatures = new Set();
function issueSignature(s) {
  if (issuedSignatures.size >= 100000) issuedSignatures.delete(issuedSignatures.values().next().value);
  issuedSignatures.add(s);
}

function recordRequestShape(entry, raw, req) {
  const r = req || {};
  try {
    entry.promptChars = bodyPromptChars(raw);
  } catch { entry.promptChars = null; }
  const contents = Array.isArray(r.contents) ? r.contents : Array.isArray(raw.contents) ? raw.contents : [];
  entry.contentsTurns = contents.length;
  // Model turns sent back with a signature this server gave (a client that drops them, or makes one up, shows here).
  entry.signedTurns = contents.filter((c) => c && c.role === 'model' && Array.isArray(c.parts)
    && c.parts.some((p) => p && issuedSignatures.has(p.thoughtSignature))).length;
  const last = [...contents].reverse().find((c) => c && c.role !== 'model') || contents[contents.length - 1];
  try {
    entry.lastUserText = last ? contentText(last).slice(0, 500) : null;
  } catch { entry.lastUserText = null; }
  entry.generationConfig = r.generationConfig ?? lastOf(raw, ['generationConfig', 'generation_config']) ?? null;
  const si = r.systemInstruction ?? lastOf(raw, ['systemInstruction', 'system_instruction']);
  try {
    entry.systemInstruction = si ? contentText(si).slice(0, 300) : null;
  } catch { entry.systemInstruction = null; }
}

async function writeChunk(ctx, data) {
  if (ctx.aborted) return false;
  const ok = ctx.res.write(data);
  if (!ok && !ctx.aborted) {
    await new Promise((resolve) => {
      const done = () => { ctx.res.off('drain', done); ctx.abortListeners.delete(done); resolve(); };
      ctx.res.on('drain', done);
      ctx.abortListeners.add(done);
    });
  }
  return !ctx.aborted;
}

/**
 * `data`'s bytes as a network may deliver them: reads of 1 to 200 bytes, cut inside every multi-byte character
 * and between every `\r` and `\n`.
 */
export function fragments(data) {
  const buf = Buffer.from(data, 'utf8');
  const cuts = new Set();
  const sizes = [3, 50, 17, 200, 1, 90];
  for (let at = 0, k = 0; at < buf.length; at += sizes[k++ % sizes.length]) cuts.add(at);
  for (let i = 0; i < buf.length; i++) {
    if (buf[i] === 0x0d || buf[i] >= 0xc0) cuts.add(i + 1); // after \r, and after a lead byte
  }
  const points = [...cuts].filter((c) => c > 0 && c < buf.length).sort((a, b) => a - b);
  const out = [];
  let prev = 0;
  for (const p of points) {
    out.push(buf.subarray(prev, p));
    prev = p;
  }
  out.push(buf.subarray(prev));
  return out;
}

/** Writes `data` in fragments, 1 ms apart so that the client reads them one by one. */
async function writeFragmented(ctx, data) {
  for (const piece of fragments(data)) {
    if (!(await writeChunk(ctx, piece))) return false;
    await sleep(ctx, 1);
    if (ctx.aborted) return false;
  }
  return true;
}

async function streamResponse(ctx, out, { modelId, rid, step, timing, sse, httpStatus, C, T }) {
  const fault = step && step.fault;
  const scale = timing.scale;
  const events = [];
  // `sse-error` with `tail: n`: the error comes in place of the answer's last n code points (and what follows them).
  const tail = fault === 'sse-error' && step.tail != null ? Math.max(1, Math.floor(Number(step.tail))) : 0;
  let tailEvent = null;
  if (out.special) {
    events.push({ obj: specialResponse(out, modelId, rid, step), tokens: 0 });
  } else {
    if (out.thought) {
      // The thought summary streams as the answer does, in chunks (a first small one, then 150-400 code points), each
      // in an event of its own whose part is `{"text": <chunk>, "thought": true}`, before the answer's first chunk:
      // Gemini's summaries are "rolling, incremental" when streamed (the thinking guide, #summaries). They are sent
      // while the model thinks: event k of n is due after k/n of the thinking time, the last when thinking ends,
      // which keeps the answer's first chunk where it is without them. Every one carries the thinking charged in
      // full (`thoughtsTokenCount` T, `totalTokenCount` P + T) and no `candidatesTokenCount` yet.
      const pieces = splitCodePoints(out.thought, chunkSizes(out.thought));
      for (const piece of pieces) {
        events.push({
          obj: {
            candidates: out.candidates.map((c) => ({ content: { parts: [{ text: piece, thought: true }], role: 'model' }, index: c.index })),
            usageMetadata: usage(out, 0, T), modelVersion: modelId, responseId: rid,
          },
          tokens: 0,
          thinking: T / pieces.length,
          thoughtOnly: true,
        });
      }
    }
    // Each candidate's chunks. Event k carries chunk k of every candidate that has one, each with its index, so
    // several candidates stream side by side and each ends (finishReason) in the event of its own last chunk.
    const streams = out.candidates.map((c) => {
      const pieces = c.text ? splitCodePoints(c.text, chunkSizes(c.text)) : [];
      if (tail && c.index === 0 && pieces.length) {
        const last = Array.from(pieces.pop());
        const keep = Math.max(1, last.length - tail);
        pieces.push(...[last.slice(0, keep).join(''), last.slice(keep).join('')].filter(Boolean));
        tailEvent = events.length + pieces.length - 1;
      }
      // A stream that a filter stops ends with an event whose candidate has no content at all: only the reason
      // (Vertex's FinishReason docs: "When streaming, content is empty if content filters blocks the output").
      const stopped = pieces.length > 0 && CONTENT_STOP_REASONS.includes(c.finishReason);
      const signed = pieces.length > 0 && !stopped && c.signature;
      // Gemini 2.x ends a stream three ways, taken in turn: the reason on the last text chunk, or an event of its own
      // with `"content": {"role": "model"}` and no parts (pydantic/pydantic-ai#2631), or with no content at all
      // (agentjido/req_llm#638).
      const trailing = pieces.length > 0 && !stopped && !signed ? nextTurn('plain-ending', ctx) % 3 : 0;
      if (stopped || signed || trailing) pieces.push('');
      // nothing visible (thinking used the whole budget, or an empty cut): one event with the bare candidate
      if (!pieces.length) pieces.push('');
      return { c, pieces, stopped, signed, trailing, soFar: 0 };
    });
    const rounds = Math.max(...streams.map((st) => st.pieces.length));
    for (let k = 0; k < rounds; k++) {
      const candidates = [];
      let tokens = 0;
      for (const st of streams) {
        if (k >= st.pieces.length) continue;
        const piece = st.pieces[k];
        st.soFar += codePointLength(piece);
        const isLast = k === st.pieces.length - 1;
        const cand = st.stopped && isLast ? stoppedCandidate(st.c) : candidateFor(st.c, piece, { final: isLast });
        if (st.trailing === 2 && isLast) delete cand.content;
        if (st.signed && isLast) {
          // Both shapes are seen from Gemini 3: `{"text": "", "thoughtSignature": ...}` and a part with no `text`.
          // The mock takes turns, so a run of a few requests meets both.
          const part = nextTurn('signed-ending', ctx) % 2 === 0 ? { text: '', thoughtSignature: st.c.signature } : { thoughtSignature: st.c.signature };
          cand.content = { parts: [part], role: 'model' };
        }
        candidates.push(cand);
        tokens += Math.ceil(codePointLength(piece) / 4);
      }
      // candidatesTokenCount so far, over every candidate: in the last event, the whole answer's
      const running = k === rounds - 1
        ? C
        : streams.reduce((sum, st) => sum + (k >= st.pieces.length - 1 ? countTokens(st.c.text) : Math.ceil(st.soFar / 4)), 0);
      events.push({ obj: { candidates, usageMetadata: usage(out, running, T), modelVersion: modelId, responseId: rid }, tokens });
    }
    // Every event before the last carries the usage in the form of this stream's turn (the last has the whole answer's).
    const form = step && step.usageForm != null ? step.usageForm : USAGE_FORMS[nextTurn('usage-form', ctx) % USAGE_FORMS.length];
    if (ctx.entry) ctx.entry.usageForm = form;
    const early = Math.ceil((events.length - 1) / 2);
    events.slice(0, -1).forEach((ev, i) => {
      if (form === 'last-only') delete ev.obj.usageMetadata;
      else if (form === 'prompt-first' && i < early) ev.obj.usageMetadata = promptOnlyUsage(out);
    });
  }

  const frame = sse
    ? (obj) => `data: ${sseJson(obj)}\r\n\r\n`
    : (obj, i) => (i === 0 ? '[' : '\n,\r\n') + pretty(obj);

  // time to first token: latency + thinking time (spread over the thought summary's events when there are some)
  const thinkingSpread = events.some((ev) => ev.thinking != null);
  let due = (timing.latencyMs + tokensMs(thinkingSpread ? 0 : T, timing.tps)) * scale;
  await sleepUntil(ctx, due);
  if (ctx.aborted) return;

  finish(ctx, httpStatus);
  ctx.res.writeHead(httpStatus, googleHeaders(ctx, sse
    ? { 'content-type': 'text/event-stream', 'content-disposition': 'attachment', 'cache-control': 'no-cache' }
    : { 'content-type': 'application/json; charset=UTF-8' }));
  if (typeof ctx.res.flushHeaders === 'function') ctx.res.flushHeaders();

  let afterChunks = step && step.afterChunks != null ? Number(step.afterChunks) : Math.min(2, events.length - 1);
  // a cut or an in-stream error must come before the event that carries finishReason
  if (tailEvent != null) afterChunks = tailEvent;
  if (fault === 'sse-cut' || fault === 'sse-error') afterChunks = Math.max(0, Math.min(afterChunks, events.length - 1));
  let written = 0;
  let pending = '';
  let held = 0;
  for (let i = 0; i < events.length; i++) {
    const ev = events[i];
    if (fault === 'sse-error' && written >= afterChunks) {
      if (ctx.entry) ctx.entry.faultApplied = true;
      // `code`: what broke the stream off (500 by default; 503 and 429 are what Gemini sends under load, a 429 with
      // its quota details). `raw`: written into the body as Gemini sometimes does, pretty-printed with no `data:`.
      const code = step.code != null ? Number(step.code) : 500;
      const err = code === 500 ? googleError(500) : statusFaultBody(code, modelId, step);
      const framed = step.raw ? `${pretty(err)}\n` : `data: ${htmlSafe(JSON.stringify(err))}\r\n\r\n`;
      await writeChunk(ctx, sse ? framed : (written === 0 ? '[' : '\n,\r\n') + pretty(err));
      if (!sse) await writeChunk(ctx, '\n]');
      ctx.res.end();
      return;
    }
    if (fault === 'sse-cut' && written >= afterChunks) {
      if (ctx.entry) ctx.entry.faultApplied = true;
      const full = frame(ev.obj, i);
      await writeChunk(ctx, full.slice(0, Math.floor(full.length / 2)));
      if (step.mode === 'destroy') { ctx.selfDestroyed = true; ctx.res.destroy(); } else ctx.res.end();
      return;
    }
    if (fault === 'stall' && written >= afterChunks) {
      if (ctx.entry) ctx.entry.faultApplied = true;
      await waitForAbort(ctx);
      return;
    }
    due += tokensMs(ev.tokens + (ev.thinking ?? 0), timing.tps) * scale;
    await sleepUntil(ctx, due);
    if (ctx.aborted) return;
    markFirstByte(ctx);
    if (fault === 'fragmented') {
      if (ctx.entry) ctx.entry.faultApplied = true;
      if (!(await writeFragmented(ctx, frame(ev.obj, i)))) return;
    } else if (fault === 'coalesced') {
      // Events reach the client three to a read (the last read may hold fewer).
      pending += frame(ev.obj, i);
      if (++held === 3 || i === events.length - 1) {
        if (held > 1 && ctx.entry) ctx.entry.faultApplied = true;
        if (!(await writeChunk(ctx, pending))) return;
        pending = '';
        held = 0;
      }
    } else if (!(await writeChunk(ctx, frame(ev.obj, i)))) return;
    written++;
  }
  if (fault === 'stall') {
    // every event was sent (finishReason included) but the stream never ends
    if (ctx.entry) ctx.entry.faultApplied = true;
    await waitForAbort(ctx);
    return;
  }
  if (!sse) await writeChunk(ctx, '\n]');
  ctx.res.end(() => {
    if (ctx.entry) { ctx.entry.endedAt = nowMs(); ctx.entry.durationMs = ctx.entry.endedAt - ctx.entry.startedAt; }
  });
}

async function handleCountTokens(ctx, modelRaw) {
  const entry = newEntry(ctx, 'countTokens');
  entry.model = normalizeModelId(modelRaw);
  const modelId = routedModel(ctx.state, entry.model);
  const bodyBuf = await readBody(ctx.req);
  entry.bodyBytes = bodyBuf.length;
  const key = apiKeyOf(ctx);
  entry[KEY_SYMBOL] = key;
  entry.keyLength = key ? key.length : null;
  const refusal = keyRefusal(key, 'CountTokens', refererOf(ctx));
  if (refusal) return sendError(ctx, refusal.status, refusal.body);
  const parsed = parseBody(bodyBuf.toString('utf8'));
  if (!parsed.ok) return sendError(ctx, parsed.status, parsed.body);
  const model = getModel(modelId);
  if (!model) return sendError(ctx, ...notFoundUnlessUndecodable(parsed.json, modelId, 'countTokens'));
  const v = validateCountTokensRequest(parsed.json, model, modelId);
  if (v.ok) recordRequestShape(entry, v.req, v.req);
  if (!v.ok) return sendError(ctx, v.status, v.body);
  const P = countTokens(promptChars(v.req));
  entry.promptTokens = P;
  // A round trip like the model lookup: the time to first token, with no output tokens.
  const { latencyMs, scale } = effectiveTiming(ctx.state, null);
  await sleepUntil(ctx, latencyMs * scale);
  if (ctx.aborted) return;
  sendJson(ctx, 200, { totalTokens: P, promptTokensDetails: [{ modality: 'TEXT', tokenCount: P }] });
}

async function handleGetModel(ctx, modelRaw) {
  const { state } = ctx;
  const entry = newEntry(ctx, modelRaw == null ? 'listModels' : 'getModel');
  await readBody(ctx.req);
  const key = apiKeyOf(ctx);
  entry[KEY_SYMBOL] = key;
  entry.keyLength = key ? key.length : null;
  const refusal = keyRefusal(key, modelRaw == null ? 'ListModels' : 'GetModel', refererOf(ctx));
  if (refusal) return sendError(ctx, refusal.status, refusal.body);
  // The model's metadata costs a round trip like any answer: the time to first token, with no output tokens.
  const { latencyMs, scale } = effectiveTiming(state, null);
  await sleepUntil(ctx, latencyMs * scale);
  if (ctx.aborted) return;
  if (modelRaw == null) {
    const page = modelPage(ctx.url.searchParams);
    if (page.error) return sendError(ctx, 400, page.error);
    return sendJson(ctx, 200, page.body);
  }
  const id = normalizeModelId(modelRaw);
  entry.model = id;
  if (!getModel(id)) return sendError(ctx, 404, MODEL_NOT_FOUND(id, 'get'));
  sendJson(ctx, 200, modelResource(id));
}

/** ListModels' default and largest `pageSize` (the models.list reference: 50 by default, at most 1000). */
export const MODELS_PAGE_SIZE = 50;
export const MODELS_MAX_PAGE_SIZE = 1000;

/**
 * A page of `GET models`: `pageSize` models from the one `pageToken` names (the `nextPageToken` of the page before,
 * an opaque string here as at Google), with a `nextPageToken` while more remain. A `pageSize` of 0 or none is the
 * default, a larger one than the most is the most. A token the mock did not give, or a `pageSize` that is not a
 * non-negative whole number, is a 400.
 */
function modelPage(params) {
  const ids = Object.keys(MODELS);
  const sizeRaw = params.get('pageSize') ?? params.get('page_size');
  let size = MODELS_PAGE_SIZE;
  if (sizeRaw != null && sizeRaw !== '') {
    if (!/^\d+$/.test(sizeRaw)) {
      return { error: invalidArgument(`Invalid value at 'page_size' (TYPE_INT32), "${sizeRaw}"`) };
    }
    size = Math.min(Number(sizeRaw) || MODELS_PAGE_SIZE, MODELS_MAX_PAGE_SIZE);
  }
  const token = params.get('pageToken') ?? params.get('page_token') ?? '';
  let from = 0;
  if (token !== '') {
    const m = /^offset:(\d+)$/.exec(Buffer.from(token, 'base64url').toString('utf8'));
    from = m ? Number(m[1]) : -1;
    if (!(from > 0 && from < ids.length) || Buffer.from(`offset:${from}`).toString('base64url') !== token) {
      return { error: invalidArgument('Invalid page token.') };
    }
  }
  const body = { models: ids.slice(from, from + size).map(modelResource) };
  if (from + size < ids.length) body.nextPageToken = Buffer.from(`offset:${from + size}`).toString('base64url');
  return { body };
}

function handlePreflight(ctx) {
  const { req, res } = ctx;
  const entry = newEntry(ctx, 'preflight');
  const raw = req.headers['access-control-request-headers'] || '';
  const requested = raw.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
  entry.requestedHeaders = requested;
  entry.requestedMethod = req.headers['access-control-request-method'] || null;
  req.resume();
  const disallowed = requested.filter((h) => !ALLOWED_CORS_HEADERS.has(h));
  markFirstByte(ctx);
  if (disallowed.length) {
    entry.status = 403;
    entry.disallowedHeaders = disallowed;
    res.writeHead(403, { 'content-type': 'text/html; charset=UTF-8', 'content-length': 0 });
    res.end();
    return;
  }
  entry.status = 200;
  const h = {
    'access-control-allow-origin': ctx.origin || '*',
    'access-control-allow-methods': 'DELETE,GET,OPTIONS,PATCH,POST,PUT',
    'access-control-max-age': '3600',
    vary: 'origin',
    'content-type': 'text/html; charset=UTF-8',
    'content-length': 0,
    server: 'ESF',
  };
  if (raw) h['access-control-allow-headers'] = raw;
  res.writeHead(200, h);
  res.end();
}

// ---------------------------------------------------------------------------
// Control plane (/__mock/)
// ---------------------------------------------------------------------------

function controlHeaders(ctx) {
  return {
    'access-control-allow-origin': ctx.origin || '*',
    'access-control-allow-methods': 'GET,POST,OPTIONS',
    'access-control-allow-headers': ctx.req.headers['access-control-request-headers'] || '*',
    'access-control-max-age': '600',
    'cache-control': 'no-store',
  };
}

function controlJson(ctx, status, obj) {
  const body = JSON.stringify(obj);
  ctx.res.writeHead(status, { ...controlHeaders(ctx), 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  ctx.res.end(body);
}

function publicEntry(e) {
  return e; // symbols (the raw key) are not serialised by JSON.stringify
}

async function handleControl(ctx) {
  const { state, req, url } = ctx;
  const p = url.pathname.slice('/__mock/'.length).replace(/\/$/, '');
  if (req.method === 'OPTIONS') {
    req.resume();
    ctx.res.writeHead(204, controlHeaders(ctx));
    ctx.res.end();
    return;
  }
  const bodyBuf = await readBody(req);
  let body = {};
  if (req.method === 'POST' && bodyBuf.length) {
    try { body = JSON.parse(bodyBuf.toString('utf8')); } catch { return controlJson(ctx, 400, { error: 'body is not JSON' }); }
    if (body === null || typeof body !== 'object') return controlJson(ctx, 400, { error: 'body must be a JSON object' });
  }
  if (p === 'health' && req.method === 'GET') return controlJson(ctx, 200, { ok: true });

  if (p === 'script' && req.method === 'POST') {
    const key = body.key;
    if (typeof key !== 'string' || !key) return controlJson(ctx, 400, { error: '"key" (string) is required; use "*" for any key' });
    if (!Array.isArray(body.steps)) return controlJson(ctx, 400, { error: '"steps" must be an array' });
    for (const [i, s] of body.steps.entries()) {
      if (s === null || typeof s !== 'object' || Array.isArray(s)) return controlJson(ctx, 400, { error: `steps[${i}] must be an object` });
      if (s.fault != null && !KNOWN_FAULTS.includes(s.fault)) {
        return controlJson(ctx, 400, { error: `steps[${i}].fault "${s.fault}" is unknown`, knownFaults: KNOWN_FAULTS });
      }
      if (s.fault === 'status' && s.status == null) return controlJson(ctx, 400, { error: `steps[${i}]: fault "status" needs "status"` });
      if (s.fault === 'key' && !KEY_STATES.includes(s.as)) {
        return controlJson(ctx, 400, { error: `steps[${i}]: fault "key" needs "as", one of ${KEY_STATES.join(', ')}` });
      }
      if (s.fault === 'safety' && s.reason != null && !CONTENT_STOP_REASONS.includes(s.reason)) {
        return controlJson(ctx, 400, { error: `steps[${i}].reason "${s.reason}" is unknown for fault "safety"`, knownReasons: CONTENT_STOP_REASONS });
      }
      if (s.usageForm != null && !USAGE_FORMS.includes(s.usageForm)) {
        return controlJson(ctx, 400, { error: `steps[${i}].usageForm "${s.usageForm}" is unknown`, knownUsageForms: USAGE_FORMS });
      }
      if (s.atFraction != null) {
        if (typeof s.atFraction !== 'number' || !(s.atFraction >= 0 && s.atFraction < 1)) {
          return controlJson(ctx, 400, { error: `steps[${i}].atFraction must be a number from 0 up to (not including) 1` });
        }
        if (s.atChars != null) return controlJson(ctx, 400, { error: `steps[${i}]: give "atChars" or "atFraction", not both` });
      }
    }
    const q = body.replace ? [] : state.scripts.get(key) || [];
    q.push(...body.steps.map((s) => ({ ...s })));
    state.scripts.set(key, q);
    return controlJson(ctx, 200, { ok: true, key, queued: q.length });
  }
  if (p === 'script' && req.method === 'GET') {
    const key = url.searchParams.get('key');
    if (key) return controlJson(ctx, 200, { key, steps: state.scripts.get(key) || [] });
    return controlJson(ctx, 200, { scripts: Object.fromEntries(state.scripts) });
  }
  if (p === 'requests' && req.method === 'GET') {
    const key = url.searchParams.get('key');
    const since = Number(url.searchParams.get('since') || 0);
    let list = state.log.filter((e) => e.seq > since);
    if (key) list = list.filter((e) => e[KEY_SYMBOL] === key);
    return controlJson(ctx, 200, { requests: list.map(publicEntry) });
  }
  if (p === 'reset' && req.method === 'POST') {
    if (typeof body.key === 'string' && body.key) {
      state.scripts.delete(body.key);
      state.log = state.log.filter((e) => e[KEY_SYMBOL] !== body.key);
      state.limiter.forget(body.key);
      state.cache.forget(body.key);
    } else {
      state.scripts.clear();
      state.log = [];
      state.limiter = new RateLimiter();
      state.cache = new ImplicitCache();
    }
    return controlJson(ctx, 200, { ok: true });
  }
  if (p === 'config') {
    if (req.method === 'POST') {
      for (const k of ['latencyMs', 'tokensPerSecond', 'timeScale', 'rpm', 'tpm', 'rpd', 'boundedObjectArrays']) {
        if (body[k] != null) {
          const n = Number(body[k]);
          if (!Number.isFinite(n) || n < 0) return controlJson(ctx, 400, { error: `${k} must be a non-negative number` });
          state.config[k] = n;
        }
      }
      if (body.routes !== undefined) {
        try {
          state.config.routes = checkRoutes(body.routes);
        } catch (e) {
          return controlJson(ctx, 400, { error: e.message });
        }
      }
      for (const k of ['followPrompt', 'implicitCache']) {
        if (body[k] != null) {
          if (typeof body[k] !== 'boolean') return controlJson(ctx, 400, { error: `${k} must be a boolean` });
          state.config[k] = body[k];
        }
      }
    }
    const { latencyMs, tokensPerSecond, timeScale, followPrompt, implicitCache, rpm, tpm, rpd, routes, boundedObjectArrays } = state.config;
    return controlJson(ctx, 200, { latencyMs, tokensPerSecond, timeScale, followPrompt, implicitCache, rpm, tpm, rpd, routes, boundedObjectArrays });
  }
  return controlJson(ctx, 404, { error: `unknown control endpoint ${req.method} /__mock/${p}` });
}

// ---------------------------------------------------------------------------
// Router
// ---------------------------------------------------------------------------

async function route(state, req, res) {
  const ctx = makeCtx(state, req, res);
  const { url } = ctx;
  const path = url.pathname;

  if (path.startsWith('/__mock/') || path === '/__mock') return handleControl(ctx);
  // Google answers a path it does not serve (a doubled `/v1beta`, a made-up route) without CORS headers, its
  // preflight included: in a browser the request fails as a network error, never as a readable 404.
  if (!servedPath(path)) {
    if (!state.config.quiet) process.stderr.write(`[gemini-mock] ${req.method} ${path} (not served)\n`);
    newEntry(ctx, 'other');
    req.resume();
    ctx.origin = null;
    return sendHtml(ctx, 404, htmlErrorPage(404, { path }));
  }
  if (req.method === 'OPTIONS') return handlePreflight(ctx);

  if (!state.config.quiet) process.stderr.write(`[gemini-mock] ${req.method} ${path}\n`);

  if (path === '/v1beta/models' || path === '/v1beta/models/') {
    if (req.method === 'GET') return handleGetModel(ctx, null);
  }
  // /v1beta/models/{id}[:{method}]  (id may be percent-encoded, e.g. models%2Fgemini-2.5-flash)
  const m = path.match(/^\/v1beta\/models\/([^/:]+)(?::([A-Za-z]+))?$/) ||
    path.match(/^\/v1beta\/(models%2F[^/:]+)(?::([A-Za-z]+))?$/i);
  if (m) {
    const [, rawId, method] = m;
    if (!method && req.method === 'GET') return handleGetModel(ctx, rawId);
    if (method && req.method === 'POST') {
      if (method === 'generateContent' || method === 'streamGenerateContent') return handleGenerate(ctx, rawId, method);
      if (method === 'countTokens') return handleCountTokens(ctx, rawId);
    }
  }
  newEntry(ctx, 'other');
  req.resume();
  return sendHtml(ctx, 404, htmlErrorPage(404, { path }));
}

/** The API paths the mock serves, as Gemini does: the model list, and a model with or without its method. */
function servedPath(path) {
  return path === '/v1beta/models' || path === '/v1beta/models/' ||
    /^\/v1beta\/models\/[^/:]+(?::[A-Za-z]+)?$/.test(path) || /^\/v1beta\/models%2F[^/:]+(?::[A-Za-z]+)?$/i.test(path);
}

// ---------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------

/**
 * Start the mock.
 * @param {object} opts { port=0, host='127.0.0.1', latencyMs=0, tokensPerSecond=0, timeScale=1, followPrompt=false, rpm=0, tpm=0, rpd=0, routes={},
 *   boundedObjectArrays=0, quiet=true }
 * @returns {Promise<{url:string, port:number, close:() => Promise<void>, state:object}>}
 */
export async function startMock(opts = {}) {
  const host = opts.host || '127.0.0.1';
  if (!LOOPBACK.has(host)) throw new Error(`gemini-mock only binds to loopback (127.0.0.1), not ${host}`);
  const state = {
    config: {
      latencyMs: Number(opts.latencyMs ?? 0),
      tokensPerSecond: Number(opts.tokensPerSecond ?? 0),
      timeScale: Number(opts.timeScale ?? 1),
      followPrompt: opts.followPrompt === true,
      implicitCache: opts.implicitCache !== false,
      rpm: Number(opts.rpm ?? 0),
      rpd: Number(opts.rpd ?? 0),
      tpm: Number(opts.tpm ?? 0),
      routes: checkRoutes(opts.routes),
      boundedObjectArrays: Number(opts.boundedObjectArrays ?? 0),
      quiet: opts.quiet ?? true,
    },
    log: [],
    maxLog: opts.maxLog ?? 5000,
    scripts: new Map(),
    limiter: new RateLimiter(),
    cache: new ImplicitCache(),
    seq: 0,
  };
  const server = http.createServer((req, res) => {
    route(state, req, res).catch((err) => {
      process.stderr.write(`[gemini-mock] internal error: ${err && err.stack ? err.stack : err}\n`);
      try {
        if (!res.headersSent) {
          res.writeHead(500, { 'content-type': 'application/json; charset=UTF-8' });
          res.end(pretty(googleError(500, `mock internal error: ${err && err.message}`)));
        } else res.destroy();
      } catch { /* ignore */ }
    });
  });
  server.requestTimeout = 0;
  server.headersTimeout = 60000;
  const bindHost = host === 'localhost' ? '127.0.0.1' : host;
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(opts.port ?? 0), bindHost, () => { server.off('error', reject); resolve(); });
  });
  const port = server.address().port;
  const urlHost = bindHost === '::1' ? '[::1]' : bindHost;
  let closed = null;
  const close = () => {
    if (!closed) {
      closed = new Promise((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
    }
    return closed;
  };
  return { url: `http://${urlHost}:${port}`, port, close, state, server };
}

function parseArgs(argv) {
  const opts = {
    port: 0, host: '127.0.0.1', latencyMs: 0, tokensPerSecond: 0, timeScale: 1, followPrompt: false, implicitCache: true, rpm: 0, tpm: 0, rpd: 0,
    routes: {}, boundedObjectArrays: 0, quiet: false,
  };
  const num = (name, v) => {
    const n = Number(v);
    if (v == null || !Number.isFinite(n) || n < 0) throw new Error(`${name} needs a non-negative number`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i];
    let val;
    if (a.includes('=')) [a, val] = [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)];
    const next = () => (val !== undefined ? val : argv[++i]);
    switch (a) {
      case '--port': opts.port = num('--port', next()); break;
      case '--host': opts.host = next(); break;
      case '--latency-ms': opts.latencyMs = num('--latency-ms', next()); break;
      case '--tokens-per-second': opts.tokensPerSecond = num('--tokens-per-second', next()); break;
      case '--time-scale': opts.timeScale = num('--time-scale', next()); break;
      case '--follow-prompt': opts.followPrompt = true; break;
      case '--no-implicit-cache': opts.implicitCache = false; break;
      case '--rpm': opts.rpm = num('--rpm', next()); break;
      case '--rpd': opts.rpd = num('--rpd', next()); break;
      case '--route': {
        const v = String(next() ?? '');
        const at = v.indexOf('=');
        if (at <= 0 || at === v.length - 1) throw new Error('--route needs retired=successor, e.g. gemini-2.5-flash=gemini-3.5-flash-lite');
        opts.routes[v.slice(0, at)] = v.slice(at + 1);
        break;
      }
      case '--tpm': opts.tpm = num('--tpm', next()); break;
      case '--bounded-object-arrays': opts.boundedObjectArrays = num('--bounded-object-arrays', next()); break;
      case '--quiet': opts.quiet = true; break;
      case '-h': case '--help': opts.help = true; break;
      default: throw new Error(`unknown argument ${a}`);
    }
  }
  return opts;
}

async function main() {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`gemini-mock: ${e.message}\n`);
    process.exit(2);
  }
  if (opts.help) {
    process.stdout.write('usage: node mock/gemini-mock.mjs --port <p> [--host 127.0.0.1] [--latency-ms N] [--tokens-per-second N] [--time-scale F] [--follow-prompt] [--no-implicit-cache] [--rpm N] [--tpm N] [--rpd N] [--route RETIRED=SUCCESSOR] [--bounded-object-arrays N] [--quiet]\n');
    return;
  }
  let mock;
  try {
    mock = await startMock(opts);
  } catch (e) {
    process.stderr.write(`gemini-mock: ${e.message}\n`);
    process.exit(1);
  }
  process.stdout.write(`MOCK_GEMINI_LISTENING ${mock.url}\n`);
  const stop = () => {
    mock.close().then(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
