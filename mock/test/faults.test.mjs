// Scripted faults (/__mock/script) and their Google-realistic shapes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { fragments, startMock } from '../gemini-mock.mjs';
import { generate, parseSSE, requests, responseText, roadmapPrompt, script, userRequest } from '../control.mjs';

const JSON_MODE = { responseMimeType: 'application/json' };
let mock;
let base;
let n = 0;
const freshKey = () => `fault-key-${process.pid}-${++n}`;

before(async () => {
  mock = await startMock({ port: 0, quiet: true });
  base = mock.url;
});
after(() => mock.close());

const weeksBody = (task = 'WEEKS 4-6', gc = JSON_MODE) => userRequest(roadmapPrompt({ task }), gc);

/** Run one request with a single scripted step on a fresh key. */
async function withFault(step, opts = {}) {
  const key = freshKey();
  await script(base, key, [step]);
  const r = await generate(base, { key, body: opts.body ?? weeksBody(), ...opts });
  return { ...r, key };
}

const normalWeeks = async (task = 'WEEKS 4-6') => JSON.parse(responseText((await generate(base, { key: freshKey(), body: weeksBody(task) })).json));

async function waitFor(fn, what) {
  for (let i = 0; i < 100; i++) {
    const v = await fn();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

test('steps are consumed in order per key, then requests are normal again; {} is a normal step', async () => {
  const key = freshKey();
  await script(base, key, [{ fault: 'status', status: 500 }, {}, { status: 503 }]);
  const statuses = [];
  for (let i = 0; i < 4; i++) statuses.push((await generate(base, { key, body: userRequest('hi') })).status);
  assert.deepEqual(statuses, [500, 200, 503, 200]);
  const log = await requests(base, { key });
  assert.deepEqual(log.map((e) => e.fault), ['status', null, 'status', null]);
  assert.deepEqual(log.map((e) => e.scripted), [true, true, true, false]);
});

test('scripts are isolated per key; GET models does not consume steps; repeat and "*" work', async () => {
  const a = freshKey();
  const b = freshKey();
  await script(base, a, [{ fault: 'status', status: 500, repeat: 2 }]);
  assert.equal((await generate(base, { key: b, body: userRequest('hi') })).status, 200);
  const get = await fetch(`${base}/v1beta/models/gemini-3.1-flash-lite`, { headers: { 'x-goog-api-key': a } });
  assert.equal(get.status, 200);
  assert.equal((await generate(base, { key: a, body: userRequest('hi') })).status, 500);
  assert.equal((await generate(base, { key: a, body: userRequest('hi') })).status, 500);
  assert.equal((await generate(base, { key: a, body: userRequest('hi') })).status, 200);
  await script(base, '*', [{ fault: 'status', status: 504 }]);
  await script(base, a, [{ fault: 'status', status: 429 }]);
  assert.equal((await generate(base, { key: a, body: userRequest('hi') })).status, 429, 'own queue first');
  assert.equal((await generate(base, { key: b, body: userRequest('hi') })).status, 504, 'then the wildcard queue');
  assert.equal((await generate(base, { key: b, body: userRequest('hi') })).status, 200);
});

test('429 RESOURCE_EXHAUSTED carries QuotaFailure, Help and RetryInfo(retryDelay)', async () => {
  const r = await withFault({ fault: 'status', status: 429, retryDelay: '1.5s' }, { model: 'gemini-2.5-flash' });
  assert.equal(r.status, 429);
  const e = r.json.error;
  assert.equal(e.code, 429);
  assert.equal(e.status, 'RESOURCE_EXHAUSTED');
  assert.match(e.message, /You exceeded your current quota/);
  const byType = Object.fromEntries(e.details.map((d) => [d['@type'].split('.').pop(), d]));
  const v = byType.QuotaFailure.violations[0];
  assert.equal(v.quotaId, 'GenerateRequestsPerMinutePerProjectPerModel-FreeTier');
  assert.equal(v.quotaMetric, 'generativelanguage.googleapis.com/generate_content_free_tier_requests');
  assert.deepEqual(v.quotaDimensions, { location: 'global', model: 'gemini-2.5-flash' });
  assert.equal(typeof v.quotaValue, 'string');
  assert.ok(byType.Help.links[0].url.startsWith('https://'));
  assert.equal(byType.RetryInfo.retryDelay, '1.5s');
  const noDelay = await withFault({ fault: 'status', status: 429 });
  assert.ok(!noDelay.json.error.details.some((d) => d['@type'].endsWith('RetryInfo')));
});

test('quota-day is a 429 with the per-day quotaId and no RetryInfo', async () => {
  const r = await withFault({ fault: 'quota-day' });
  assert.equal(r.status, 429);
  const qf = r.json.error.details.find((d) => d['@type'] === 'type.googleapis.com/google.rpc.QuotaFailure');
  assert.equal(qf.violations[0].quotaId, 'GenerateRequestsPerDayPerProjectPerModel-FreeTier');
  assert.ok(!r.json.error.details.some((d) => d['@type'].endsWith('RetryInfo')));
});

test('500 INTERNAL, 503 UNAVAILABLE (high demand), 504 DEADLINE_EXCEEDED, 400 bodies', async () => {
  const expect = { 500: 'INTERNAL', 503: 'UNAVAILABLE', 504: 'DEADLINE_EXCEEDED', 400: 'INVALID_ARGUMENT' };
  for (const [code, status] of Object.entries(expect)) {
    const r = await withFault({ fault: 'status', status: Number(code) });
    assert.equal(r.status, Number(code));
    assert.equal(r.json.error.code, Number(code));
    assert.equal(r.json.error.status, status);
  }
  const r503 = await withFault({ fault: 'status', status: 503 });
  assert.equal(r503.json.error.message, 'This model is currently experiencing high demand. Spikes in demand are usually temporary. Please try again later.');
  const sse = await withFault({ fault: 'status', status: 503 }, { stream: true });
  assert.equal(sse.json.error.code, 503, 'alt=sse errors are plain JSON');
  const arr = await withFault({ fault: 'status', status: 503 }, { stream: true, sse: false });
  assert.equal(arr.json[0].error.code, 503, 'JSON-array stream errors are wrapped in an array');
});

test('html502 returns a Google-style HTML page', async () => {
  const r = await withFault({ fault: 'html502' });
  assert.equal(r.status, 502);
  assert.match(r.headers.get('content-type'), /^text\/html/);
  assert.match(r.text, /<title>Error 502 \(Server Error\)!!1<\/title>/);
  assert.equal(r.json, undefined);
});

test('hang never answers; the client abort is recorded as aborted:true', async () => {
  const key = freshKey();
  await script(base, key, [{ fault: 'hang' }]);
  const ac = new AbortController();
  const p = generate(base, { key, body: userRequest('hi'), signal: ac.signal });
  await waitFor(async () => (await requests(base, { key })).length === 1, 'the request to arrive');
  ac.abort();
  await assert.rejects(p, { name: 'AbortError' });
  const e = await waitFor(async () => (await requests(base, { key })).find((x) => x.aborted), 'aborted flag');
  assert.equal(e.fault, 'hang');
  assert.equal(e.status, null);
  assert.ok(e.endedAt >= e.startedAt);
});

test('reset destroys the socket', async () => {
  const key = freshKey();
  await script(base, key, [{ fault: 'reset' }]);
  await assert.rejects(generate(base, { key, body: userRequest('hi') }), TypeError);
  const [e] = await requests(base, { key });
  assert.equal(e.fault, 'reset');
  assert.equal(e.aborted, false);
});

test('blocked: 200 with promptFeedback.blockReason and no candidates', async () => {
  for (const reason of ['SAFETY', 'OTHER', 'PROHIBITED_CONTENT']) {
    const r = await withFault({ fault: 'blocked', reason });
    assert.equal(r.status, 200);
    assert.equal(r.json.candidates, undefined);
    assert.equal(r.json.promptFeedback.blockReason, reason);
    assert.ok(r.json.usageMetadata.promptTokenCount > 0);
    if (reason === 'SAFETY') assert.ok(r.json.promptFeedback.safetyRatings.some((x) => x.blocked));
  }
  const s = await withFault({ fault: 'blocked' }, { stream: true });
  const events = parseSSE(s.text);
  assert.equal(events.length, 1);
  assert.equal(events[0].promptFeedback.blockReason, 'SAFETY');
});

test('safety and recitation cut the answer part-way with their finishReason', async () => {
  const full = responseText((await generate(base, { key: freshKey(), body: weeksBody() })).json);
  const s = await withFault({ fault: 'safety' });
  const c = s.json.candidates[0];
  assert.equal(c.finishReason, 'SAFETY');
  assert.ok(c.safetyRatings.some((x) => x.blocked === true && x.probability === 'HIGH'));
  // Not streamed, what it wrote is withheld: the candidate has no content at all.
  assert.equal(c.content, undefined);
  const rc = await withFault({ fault: 'recitation' });
  assert.equal(rc.json.candidates[0].finishReason, 'RECITATION');
  assert.ok(rc.json.candidates[0].citationMetadata.citationSources.length > 0);
  assert.equal(rc.json.candidates[0].content, undefined);
  const ss = parseSSE((await withFault({ fault: 'safety' }, { stream: true })).text);
  assert.equal(ss.at(-1).candidates[0].finishReason, 'SAFETY');
  // Streamed, the text before the stop has arrived: part of the answer.
  const st = ss.map(responseText).join('');
  assert.ok(st.length > 0 && st.length < full.length && full.startsWith(st));
  // Streamed, the stop comes in an event of its own whose candidate has no content at all, as at Gemini.
  assert.equal(ss.at(-1).candidates[0].content, undefined);
  assert.ok(ss.at(-1).candidates[0].safetyRatings.length > 0);
  assert.ok(ss.slice(0, -1).every((e) => e.candidates[0].finishReason === undefined && e.candidates[0].content.parts[0].text));
});

test('empty-candidates and thoughts-only', async () => {
  const e = await withFault({ fault: 'empty-candidates' });
  assert.equal(e.status, 200);
  assert.deepEqual(e.json.candidates, []);
  assert.ok(e.json.usageMetadata.promptTokenCount > 0);
  const t = await withFault({ fault: 'thoughts-only' }, { model: 'gemini-2.5-flash', body: weeksBody('WEEKS 1-1', { ...JSON_MODE, maxOutputTokens: 4000 }) });
  const c = t.json.candidates[0];
  assert.equal(c.finishReason, 'MAX_TOKENS');
  assert.ok(c.content.parts.length >= 1 && c.content.parts.every((p) => p.thought === true));
  assert.equal(responseText(t.json), '');
  assert.equal(t.json.usageMetadata.thoughtsTokenCount, 4000);
});

test('empty-stop ends the turn with STOP and a candidate without parts, streamed or not', async () => {
  const candidate = { content: { role: 'model' }, finishReason: 'STOP', index: 0 };
  const r = await withFault({ fault: 'empty-stop' });
  assert.equal(r.status, 200);
  assert.deepEqual(Object.keys(r.json), ['candidates', 'usageMetadata', 'modelVersion', 'responseId']);
  assert.deepEqual(r.json.candidates, [candidate]);
  assert.ok(r.json.usageMetadata.promptTokenCount > 0);
  assert.equal(r.json.usageMetadata.candidatesTokenCount, undefined, 'zero output tokens are omitted, as in proto3');
  const s = await withFault({ fault: 'empty-stop' }, { stream: true });
  assert.equal(s.status, 200);
  const events = parseSSE(s.text);
  assert.equal(events.length, 1);
  assert.deepEqual(events[0].candidates, [candidate]);
  assert.deepEqual(events[0].usageMetadata, r.json.usageMetadata);
  const [entry] = await requests(base, { key: s.key });
  assert.equal(entry.fault, 'empty-stop');
  assert.equal(entry.finishReason, 'STOP');
  assert.equal(entry.candidatesTokenCount, 0);
  // Sending that empty turn back is what Gemini refuses.
  const key = freshKey();
  const history = { contents: [{ role: 'user', parts: [{ text: 'hi' }] }, { role: 'model', parts: [{ text: '' }] }, { role: 'user', parts: [{ text: 'again' }] }] };
  const again = await generate(base, { key, body: history });
  assert.equal(again.status, 400);
  assert.match(again.json.error.message, /empty text parameter/);
});

test('fenced wraps JSON-mode output in ```json fences', async () => {
  const r = await withFault({ fault: 'fenced' });
  const text = responseText(r.json);
  assert.ok(text.includes('```json\n'));
  assert.throws(() => JSON.parse(text));
  const inner = text.slice(text.indexOf('```json\n') + 8, text.lastIndexOf('\n```'));
  assert.deepEqual(JSON.parse(inner), await normalWeeks());
});

test('commented adds // and /* */ comments; stripping them gives the normal JSON', async () => {
  const text = responseText((await withFault({ fault: 'commented' })).json);
  assert.ok(text.includes('//') && text.includes('/*'));
  assert.throws(() => JSON.parse(text));
  const stripped = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|\s)\/\/[^\n]*/g, '$1');
  assert.deepEqual(JSON.parse(stripped), await normalWeeks());
});

test('trailing-comma adds commas before closing brackets', async () => {
  const text = responseText((await withFault({ fault: 'trailing-comma' })).json);
  assert.match(text, /,\s*\]/);
  assert.match(text, /,\s*\}/);
  // before every closing bracket, also one that closes a list right after its last object's `}`
  assert.doesNotMatch(text, /[^,\s[{]\s*\n\s*[\]}]/);
  assert.match(text, /\},\s*\],/);
  assert.throws(() => JSON.parse(text));
  assert.deepEqual(JSON.parse(text.replace(/,(\s*[\]}])/g, '$1')), await normalWeeks());
});

test('truncate cuts at atChars with MAX_TOKENS', async () => {
  const r = await withFault({ fault: 'truncate', atChars: 1000 });
  const text = responseText(r.json);
  assert.equal(text.length, 1000);
  assert.equal(r.json.candidates[0].finishReason, 'MAX_TOKENS');
  assert.equal(r.json.usageMetadata.candidatesTokenCount, 250);
  assert.throws(() => JSON.parse(text));
});

test('truncate with atFraction cuts that share of the answer, short answers included; past the end is no cut', async () => {
  const full = responseText((await generate(base, { key: freshKey(), body: weeksBody('WEEK 1 DAYS 1-3') })).json);
  const short = await withFault({ fault: 'truncate', atFraction: 0.5 }, { body: weeksBody('WEEK 1 DAYS 1-3') });
  const text = responseText(short.json);
  assert.ok(full.length < 8000, `a days answer is shorter than 8000 chars (${full.length})`);
  assert.equal(text, full.slice(0, Math.floor(full.length * 0.5)));
  assert.equal(short.json.candidates[0].finishReason, 'MAX_TOKENS');
  const [entry] = await requests(base, { key: short.key });
  assert.equal(entry.finishReason, 'MAX_TOKENS');
  assert.equal(entry.faultApplied, true);
  // atChars past the end of the answer: the answer is whole, the fault had no effect and the log says so
  const past = await withFault({ fault: 'truncate', atChars: 8000 }, { body: weeksBody('WEEK 1 DAYS 1-3') });
  assert.equal(responseText(past.json), full);
  assert.equal(past.json.candidates[0].finishReason, 'STOP');
  assert.equal((await requests(base, { key: past.key }))[0].faultApplied, false);
  for (const bad of [{ atFraction: 1 }, { atFraction: -0.1 }, { atFraction: '0.5' }, { atFraction: 0.5, atChars: 10 }]) {
    await assert.rejects(script(base, freshKey(), [{ fault: 'truncate', ...bad }]), /400/);
  }
});

test('faultApplied: null without a fault, true once the fault acted, false when it could not', async () => {
  const applied = async (step, opts) => (await requests(base, { key: (await withFault(step, opts)).key }))[0].faultApplied;
  assert.equal(await applied({}), null);
  assert.equal(await applied({ fault: 'status', status: 503 }), true);
  assert.equal(await applied({ fault: 'trailing-comma' }), true);
  assert.equal(await applied({ fault: 'fenced' }), true);
  assert.equal(await applied({ fault: 'sse-cut' }, { stream: true }), true);
  assert.equal(await applied({ fault: 'sse-cut' }), true);
  // fenced only changes JSON-mode answers: a text answer is already fenced
  assert.equal(await applied({ fault: 'fenced' }, { body: weeksBody('WEEKS 4-6', {}) }), false);
  // a request that fails validation uses the step up without its effect
  assert.equal(await applied({ fault: 'trailing-comma' }, { body: { contents: [] } }), false);
});

test('wrong-week-numbers, missing-day, duplicate-week and extra-week', async () => {
  const weeksOf = async (step, task = 'WEEKS 4-6') => JSON.parse(responseText((await withFault(step, { body: weeksBody(task) })).json)).weeks;
  assert.deepEqual((await weeksOf({ fault: 'wrong-week-numbers' })).map((w) => w.week), [1, 2, 3]);
  assert.deepEqual((await weeksOf({ fault: 'wrong-week-numbers' }, 'WEEKS 1-3')).map((w) => w.week), [2, 3, 4]);
  const missing = await weeksOf({ fault: 'missing-day' });
  assert.deepEqual(missing.map((w) => w.days.length), [6, 7, 7]);
  const dup = await weeksOf({ fault: 'duplicate-week' });
  assert.deepEqual(dup.map((w) => w.week), [4, 4, 5, 6]);
  const extra = await weeksOf({ fault: 'extra-week' });
  assert.deepEqual(extra.map((w) => w.week), [4, 5, 6, 7]);
  assert.equal(extra[3].days.length, 7);
  const outlineExtra = JSON.parse(responseText((await withFault({ fault: 'extra-week' }, { body: weeksBody('OUTLINE') })).json));
  assert.equal(outlineExtra.weeks.length, 13);
});

test('prose has no JSON at all', async () => {
  for (const stream of [false, true]) {
    const r = await withFault({ fault: 'prose' }, { stream });
    const text = stream ? parseSSE(r.text).map(responseText).join('') : responseText(r.json);
    assert.ok(text.length > 100);
    assert.ok(!/[{}[\]]/.test(text), text.slice(0, 200));
  }
});

test('xss puts script/img/javascript: payloads into titles, tasks and resources (JSON stays valid)', async () => {
  const data = JSON.parse(responseText((await withFault({ fault: 'xss' })).json));
  const w = data.weeks[0];
  assert.ok(w.title.includes('<img src=x onerror="window.__xss=1">'));
  assert.ok(w.days[0].tasks.some((t) => t.includes('<script>window.__xss=2</script>')));
  assert.ok(w.days.some((d) => d.resources.some((r) => r.includes('javascript:alert(1)'))));
  const outline = JSON.parse(responseText((await withFault({ fault: 'xss' }, { body: weeksBody('OUTLINE') })).json));
  assert.ok(outline.weeks[0].title.includes('onerror='));
  assert.ok(outline.phases[0].goal.includes('<script>'));
});

test('bodies are HTML-safe JSON as Google writes them: < > & escaped as \\u003c \\u003e \\u0026, whole and streamed', async () => {
  for (const stream of [false, true]) {
    const r = await withFault({ fault: 'xss' }, { stream });
    assert.ok(!/[<>&]/.test(r.text), r.text.slice(0, 300));
    assert.match(r.text, /\\u003cimg src=x onerror=/);
    const text = stream ? parseSSE(r.text).map(responseText).join('') : responseText(r.json);
    assert.ok(text.includes('<img src=x onerror='), 'decoded, the text is the same');
  }
});

test('python-literals and single-quotes produce almost-JSON', async () => {
  const py = responseText((await withFault({ fault: 'python-literals' })).json);
  assert.match(py, /: False\b/);
  assert.match(py, /: None\b/);
  assert.throws(() => JSON.parse(py));
  const fixed = JSON.parse(py.replace(/: False\b/g, ': false').replace(/: True\b/g, ': true').replace(/: None\b/g, ': null'));
  assert.equal(fixed.weeks[0].days[0].completed, false);
  const sq = responseText((await withFault({ fault: 'single-quotes' })).json);
  assert.ok(sq.startsWith("{\n  'weeks': ["));
  assert.ok(!sq.includes('"weeks"'));
  assert.throws(() => JSON.parse(sq));
  // eslint-disable-next-line no-new-func
  assert.deepEqual(new Function(`return ${sq};`)(), await normalWeeks());
});

test('sse-cut ends the stream mid-event without finishReason', async () => {
  const r = await withFault({ fault: 'sse-cut' }, { stream: true });
  assert.equal(r.status, 200);
  assert.ok(!r.text.endsWith('\r\n\r\n'));
  const complete = r.text.slice(0, r.text.lastIndexOf('\r\n\r\n') + 4);
  const events = parseSSE(complete);
  assert.equal(events.length, 2);
  assert.ok(events.every((e) => !e.candidates[0].finishReason));
  const tail = r.text.slice(complete.length);
  assert.ok(tail.startsWith('data: {'));
  assert.throws(() => JSON.parse(tail.slice(6)));
  const destroyed = freshKey();
  await script(base, destroyed, [{ fault: 'sse-cut', mode: 'destroy', afterChunks: 1 }]);
  await assert.rejects(generate(base, { key: destroyed, body: weeksBody(), stream: true }));
});

test('sse-error sends an error event inside a 200 stream, then ends', async () => {
  const r = await withFault({ fault: 'sse-error' }, { stream: true });
  assert.equal(r.status, 200);
  const events = parseSSE(r.text);
  assert.equal(events.length, 3);
  assert.ok(events[0].candidates && events[1].candidates);
  assert.deepEqual(Object.keys(events[2]), ['error']);
  assert.equal(events[2].error.code, 500);
  assert.equal(events[2].error.status, 'INTERNAL');
  const arr = await withFault({ fault: 'sse-error', afterChunks: 1 }, { stream: true, sse: false });
  assert.ok(Array.isArray(arr.json));
  assert.equal(arr.json.at(-1).error.code, 500);
});

test('sse-error with tail: the error comes in place of the answer\'s last code points', async () => {
  const full = responseText((await generate(base, { key: freshKey(), body: weeksBody() })).json);
  for (const tail of [1, 2, 40]) {
    const events = parseSSE((await withFault({ fault: 'sse-error', tail }, { stream: true })).text);
    assert.deepEqual(Object.keys(events.at(-1)), ['error'], `tail ${tail}`);
    const text = events.slice(0, -1).map(responseText).join('');
    assert.equal(text, Array.from(full).slice(0, -tail).join(''), `tail ${tail}`);
    assert.ok(events.slice(0, -1).every((e) => e.candidates[0].finishReason === undefined), `tail ${tail}`);
  }
});

test('sse-error takes the code that broke the stream off, framed as an event or written raw into the body', async () => {
  const r = await withFault({ fault: 'sse-error', afterChunks: 1, code: 429, retryDelay: '7s' }, { stream: true });
  assert.equal(r.status, 200);
  const events = parseSSE(r.text);
  assert.equal(events.at(-1).error.code, 429);
  assert.equal(events.at(-1).error.status, 'RESOURCE_EXHAUSTED');
  assert.ok(events.at(-1).error.details.some((d) => d.retryDelay === '7s'));
  // Raw: the error JSON, pretty-printed, after the last event; no `data:` line carries it.
  const raw = await withFault({ fault: 'sse-error', afterChunks: 1, code: 503, raw: true }, { stream: true });
  assert.equal(raw.status, 200);
  const tail = raw.text.slice(raw.text.lastIndexOf('\r\n\r\n') + 4);
  assert.ok(tail.startsWith('{\n  "error": {'), tail.slice(0, 40));
  assert.equal(JSON.parse(tail).error.code, 503);
  assert.equal(JSON.parse(tail).error.status, 'UNAVAILABLE');
  assert.equal(parseSSE(raw.text.slice(0, raw.text.length - tail.length)).length, 1, 'one event, then the raw error');
});

test('stall streams some chunks then goes silent until the client gives up', async () => {
  const key = freshKey();
  await script(base, key, [{ fault: 'stall', afterChunks: 1 }]);
  const ac = new AbortController();
  const res = await fetch(`${base}/v1beta/models/gemini-3.1-flash-lite:streamGenerateContent?alt=sse`, {
    method: 'POST', headers: { 'x-goog-api-key': key }, body: JSON.stringify(weeksBody()), signal: ac.signal,
  });
  const reader = res.body.getReader();
  const { value } = await reader.read();
  assert.ok(new TextDecoder().decode(value).startsWith('data: '));
  const next = reader.read();
  const timeout = new Promise((r) => setTimeout(() => r('silent'), 150));
  assert.equal(await Promise.race([next, timeout]), 'silent');
  ac.abort();
  await next.catch(() => {});
  const e = await waitFor(async () => (await requests(base, { key })).find((x) => x.aborted), 'aborted');
  assert.equal(e.fault, 'stall');
});

test('delayMs adds latency before the response; status overrides the HTTP status of a content fault', async () => {
  // Timed again (up to 5 times, each on a fresh key) until the unscripted request is 3 times faster: on a busy
  // machine it was stalled past 1/3 of the delayed one about once in 80 runs. A delay that carried over fails every try.
  let slow;
  let fast;
  for (let i = 0; i < 5 && !(slow > fast * 3); i++) {
    const key = freshKey();
    await script(base, key, [{ delayMs: 250 }, {}]);
    const t0 = performance.now();
    await generate(base, { key, body: userRequest('hi') });
    slow = performance.now() - t0;
    const t1 = performance.now();
    await generate(base, { key, body: userRequest('hi') });
    fast = performance.now() - t1;
  }
  assert.ok(slow >= 240, `slow ${slow}`);
  assert.ok(slow > fast * 3, `slow ${slow} fast ${fast}`);
  const r = await withFault({ fault: 'prose', status: 500 });
  assert.equal(r.status, 500);
  assert.ok(responseText(r.json).length > 0);
});

test('fragmented and coalesced deliver the same answer in other reads; fragments cut inside characters and CRLFs', async () => {
  const frame = 'data: {"text":"Ingénieur — ✓"}\r\n\r\n';
  const pieces = fragments(frame);
  assert.equal(Buffer.concat(pieces).toString('utf8'), frame);
  assert.ok(pieces.some((p) => p.at(-1) === 0x0d), 'a read ends between \\r and \\n');
  assert.ok(pieces.some((p) => p.at(-1) >= 0xc0), 'a read ends inside a multi-byte character');
  assert.ok(pieces.every((p) => p.length >= 1 && p.length <= 200));

  const body = userRequest(roadmapPrompt({ role: 'Ingénieur·e — SRE ✓', task: 'WEEKS 1-2' }), JSON_MODE);
  const plain = await generate(base, { key: freshKey(), body, stream: true });
  const textOf = (r) => parseSSE(r.text).map((e) => responseText(e)).join('');
  for (const fault of ['fragmented', 'coalesced']) {
    const r = await withFault({ fault }, { body, stream: true });
    assert.equal(r.status, 200);
    assert.equal(textOf(r), textOf(plain), fault);
    assert.equal(parseSSE(r.text).length, parseSSE(plain.text).length, `${fault}: the same events`);
    assert.equal((await requests(base, { key: r.key }))[0].faultApplied, true);
  }
  const whole = await withFault({ fault: 'fragmented' }, { body });
  assert.equal(responseText(whole.json), responseText((await generate(base, { key: freshKey(), body })).json), 'non-streamed too');
});

test('429 variants: a bare body with no details, and several exhausted quotas at once', async () => {
  const bare = await withFault({ fault: 'status', status: 429, bare: true });
  assert.equal(bare.status, 429);
  assert.deepEqual(Object.keys(bare.json.error).sort(), ['code', 'message', 'status']);
  assert.equal(bare.json.error.message, 'Resource has been exhausted (e.g. check quota).');
  const several = await withFault({ fault: 'status', status: 429, quotas: ['minute', 'day', 'tokens'], retryDelay: '47s' });
  const violations = several.json.error.details.find((d) => d['@type'].endsWith('QuotaFailure')).violations;
  assert.deepEqual(violations.map((v) => v.quotaId), [
    'GenerateRequestsPerMinutePerProjectPerModel-FreeTier', 'GenerateRequestsPerDayPerProjectPerModel-FreeTier',
    'GenerateContentInputTokensPerModelPerMinute-FreeTier',
  ]);
  assert.ok(violations.every((v) => v.quotaValue === undefined));
  assert.equal(several.json.error.details.at(-1).retryDelay, '47s');
  assert.equal(several.json.error.message.split('\n').filter((l) => l.startsWith('* Quota exceeded')).length, 3);
});

test('safety takes a reason: any content stop, streamed or not, with safetyRatings only for SAFETY; "other" is OTHER', async () => {
  const cut = parseSSE((await withFault({ fault: 'safety' }, { stream: true })).text).map(responseText).join('');
  assert.ok(cut.length > 0);
  const reasons = ['SAFETY', 'RECITATION', 'LANGUAGE', 'OTHER', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII', 'MALFORMED_FUNCTION_CALL', 'IMAGE_SAFETY',
    'IMAGE_PROHIBITED_CONTENT', 'IMAGE_RECITATION', 'IMAGE_OTHER', 'NO_IMAGE', 'UNEXPECTED_TOOL_CALL', 'TOO_MANY_TOOL_CALLS',
    'MISSING_THOUGHT_SIGNATURE', 'MALFORMED_RESPONSE', 'FINISH_REASON_UNSPECIFIED'];
  for (const reason of reasons) {
    const r = await withFault({ fault: 'safety', reason });
    assert.equal(r.status, 200);
    const c = r.json.candidates[0];
    assert.equal(c.finishReason, reason);
    // not streamed, no content, but the call Gemini made for UNEXPECTED_TOOL_CALL; tool calls say why in finishMessage
    if (reason === 'UNEXPECTED_TOOL_CALL') {
      assert.deepEqual(c.content.parts.map((p) => Object.keys(p)), [['functionCall']]);
      assert.match(c.finishMessage, /^Unexpected tool call: Model tried to call an undeclared function: /);
    } else {
      assert.equal(c.content, undefined, reason);
    }
    if (reason === 'MALFORMED_FUNCTION_CALL') assert.match(c.finishMessage, /^Malformed function call: /);
    assert.equal(c.finishMessage !== undefined, reason.endsWith('FUNCTION_CALL') || reason === 'UNEXPECTED_TOOL_CALL', reason);
    assert.equal(c.safetyRatings !== undefined, reason === 'SAFETY', `${reason}: safetyRatings`);
    assert.equal(c.citationMetadata !== undefined, reason === 'RECITATION', `${reason}: citationMetadata`);
    const [e] = await requests(base, { key: r.key });
    assert.equal(e.finishReason, reason);
    assert.equal(e.faultApplied, true);
  }
  // streamed, the call ends the stream after the text written before it
  const tool = parseSSE((await withFault({ fault: 'safety', reason: 'UNEXPECTED_TOOL_CALL' }, { stream: true })).text);
  assert.equal(tool.map(responseText).join(''), cut);
  assert.equal(tool.at(-1).candidates[0].content.parts[0].functionCall.name, 'save_roadmap');
  assert.equal(tool.at(-1).candidates[0].finishReason, 'UNEXPECTED_TOOL_CALL');
  for (const step of [{ fault: 'safety', reason: 'PROHIBITED_CONTENT' }, { fault: 'other' }]) {
    const reason = step.reason ?? 'OTHER';
    const events = parseSSE((await withFault(step, { stream: true })).text);
    assert.equal(events.map(responseText).join(''), cut);
    // the stop comes last, in an event whose candidate has no content, and no ratings
    assert.deepEqual(events.at(-1).candidates, [{ finishReason: reason, index: 0 }]);
    assert.ok(events.slice(0, -1).every((e) => e.candidates[0].finishReason === undefined));
    const plain = await withFault(step);
    assert.deepEqual(plain.json.candidates[0].finishReason, reason);
    assert.equal(plain.json.candidates[0].safetyRatings, undefined);
  }
  // a reason that is no content stop is a mistake in the script
  for (const reason of ['STOP', 'MAX_TOKENS', 'safety', 'NOPE']) {
    const bad = await fetch(`${base}/__mock/script`, { method: 'POST', body: JSON.stringify({ key: freshKey(), steps: [{ fault: 'safety', reason }] }) });
    assert.equal(bad.status, 400, reason);
    const body = await bad.json();
    assert.match(body.error, new RegExp(`steps\\[0\\]\\.reason "${reason}" is unknown`));
    assert.deepEqual(body.knownReasons, reasons);
  }
});

test('limit 0 (a model outside the key\'s tier): four free-tier quotas of 0, requests and input tokens per minute and per day, none with quotaValue, in two orders in turn', async () => {
  const ids = {
    day: 'GenerateRequestsPerDayPerProjectPerModel-FreeTier',
    minute: 'GenerateRequestsPerMinutePerProjectPerModel-FreeTier',
    tokens: 'GenerateContentInputTokensPerModelPerMinute-FreeTier',
    tokensDay: 'GenerateContentInputTokensPerModelPerDay-FreeTier',
  };
  const metric = (id) => `generativelanguage.googleapis.com/generate_content_free_tier_${id.includes('InputTokens') ? 'input_token_count' : 'requests'}`;
  const orders = new Set();
  for (const step of [
    { fault: 'status', status: 429, limit: 0, retryDelay: '54s' },
    { fault: 'status', status: 429, limit: 0 },
    { fault: 'quota-day', limit: 0, retryDelay: '7s' },
  ]) {
    const r = await withFault(step, { model: 'gemini-3.1-pro-preview' });
    assert.equal(r.status, 429);
    const e = r.json.error;
    assert.equal(e.status, 'RESOURCE_EXHAUSTED');
    assert.equal(e.details[0]['@type'], 'type.googleapis.com/google.rpc.Help');
    const { violations } = e.details.find((d) => d['@type'] === 'type.googleapis.com/google.rpc.QuotaFailure');
    assert.deepEqual([...violations.map((v) => v.quotaId)].sort(), Object.values(ids).sort());
    for (const v of violations) {
      assert.deepEqual(Object.keys(v), ['quotaMetric', 'quotaId', 'quotaDimensions'], 'no quotaValue, as in Gemini\'s bodies');
      assert.equal(v.quotaMetric, metric(v.quotaId));
      assert.deepEqual(v.quotaDimensions, { location: 'global', model: 'gemini-3.1-pro-preview' });
    }
    // the message names each, in the same order, with limit: 0
    const lines = e.message.split('\n').filter((l) => l.startsWith('* Quota exceeded'));
    assert.deepEqual(lines, violations.map((v) => `* Quota exceeded for metric: ${v.quotaMetric}, limit: 0, model: gemini-3.1-pro-preview`));
    const retry = e.details.find((d) => d['@type'].endsWith('RetryInfo'));
    assert.equal(retry?.retryDelay, step.retryDelay);
    if (step.retryDelay) assert.match(e.message, new RegExp(`\\nPlease retry in ${step.retryDelay}\\.$`));
    orders.add(violations[0].quotaId);
  }
  assert.deepEqual([...orders].sort(), [ids.day, ids.tokens].sort(), 'requests per day first, or input tokens per minute first');
});
