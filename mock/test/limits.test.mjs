// Per-minute quotas (--rpm, --tpm): the sliding window itself, and the 429 bodies Gemini sends when it is full.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { startMock } from '../gemini-mock.mjs';
import { RateLimiter } from '../limits.mjs';
import { goDuration } from '../errors.mjs';
import { generate, requests, reset, setConfig, userRequest } from '../control.mjs';

const WINDOW = 60_000;
const admit = (limiter, at, { key = 'k', model = 'm', tokens = 1, rpm = 0, tpm = 0, rpd = 0 } = {}) =>
  limiter.admit({ key, model, tokens, rpm, tpm, rpd, now: at, windowMs: WINDOW });

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** The seconds of a Go duration (`9h37m19.9s`, `1m0.5s`, `393.337641ms`), as a client reads Gemini's message. */
function goSeconds(text) {
  const scale = { h: 3600, m: 60, s: 1, ms: 1e-3, 'µs': 1e-6, ns: 1e-9 };
  const parts = [...text.matchAll(/([\d.]+)(h|ms|m|s|µs|ns)/g)];
  assert.equal(parts.map((p) => p[0]).join(''), text, `${text} is not a Go duration`);
  return parts.reduce((sum, [, n, unit]) => sum + Number(n) * scale[unit], 0);
}
const retryIn = (message) => goSeconds(message.match(/\nPlease retry in (\S+)\.$/)[1]);

test('the wait in a quota message is written as Go writes a duration, as Gemini does', () => {
  assert.equal(goDuration(22.362138795), '22.362138795s');
  assert.equal(goDuration(0.393337641), '393.337641ms');
  assert.equal(goDuration(0.000250), '250µs');
  assert.equal(goDuration(0), '0s');
  assert.equal(goDuration(60), '1m0s');
  assert.equal(goDuration(60.5), '1m0.5s');
  assert.equal(goDuration(9 * 3600 + 37 * 60 + 19.9), '9h37m19.9s');
  assert.equal(goDuration(7200), '2h0m0s');
  for (const secs of [0.5, 1, 59.999, 61.25, 3599.5, 86399.123456789]) assert.ok(Math.abs(goSeconds(goDuration(secs)) - secs) < 1e-9, `${secs}`);
});

test('requests per minute: the window slides, a refusal names the wait until the oldest counted request leaves', () => {
  const l = new RateLimiter();
  assert.equal(admit(l, 0, { rpm: 2 }), null);
  assert.equal(admit(l, 10_000, { rpm: 2 }), null);
  assert.deepEqual(admit(l, 20_000, { rpm: 2 }), { quota: 'requests', limit: 2, waitMs: 40_000 });
  // the refusal was not counted: once the first request left the window, one more gets in, and no more
  assert.deepEqual(admit(l, 59_999, { rpm: 2 }), { quota: 'requests', limit: 2, waitMs: 1 });
  assert.equal(admit(l, 60_000, { rpm: 2 }), null);
  assert.deepEqual(admit(l, 60_001, { rpm: 2 }), { quota: 'requests', limit: 2, waitMs: 9_999 });
});

test('requests per minute are counted per key and per model', () => {
  const l = new RateLimiter();
  assert.equal(admit(l, 0, { rpm: 1 }), null);
  assert.equal(admit(l, 1, { rpm: 1, key: 'other' }), null);
  assert.equal(admit(l, 2, { rpm: 1, model: 'other' }), null);
  assert.equal(admit(l, 3, { rpm: 1 }).quota, 'requests');
  l.forget('k');
  assert.equal(admit(l, 4, { rpm: 1 }), null);
  assert.equal(admit(l, 5, { rpm: 1, key: 'other' }).quota, 'requests');
});

test('input tokens per minute: a request waits until enough earlier tokens have left the window', () => {
  const l = new RateLimiter();
  assert.equal(admit(l, 0, { tpm: 100, tokens: 40 }), null);
  assert.equal(admit(l, 1_000, { tpm: 100, tokens: 40 }), null);
  // 80 used: 30 more would make 110, so the first 40 must leave (at 60 s)
  assert.deepEqual(admit(l, 2_000, { tpm: 100, tokens: 30 }), { quota: 'tokens', limit: 100, waitMs: 58_000 });
  // 70 more needs both earlier requests gone
  assert.deepEqual(admit(l, 2_000, { tpm: 100, tokens: 70 }), { quota: 'tokens', limit: 100, waitMs: 59_000 });
  assert.equal(admit(l, 2_000, { tpm: 100, tokens: 20 }), null);
  // larger than the whole quota: never fits, the full window is named
  assert.deepEqual(admit(l, 3_000, { tpm: 100, tokens: 101 }), { quota: 'tokens', limit: 100, waitMs: WINDOW });
  // both limits: requests are checked first
  assert.equal(admit(l, 4_000, { rpm: 3, tpm: 100, tokens: 1 }).quota, 'requests');
});

test('requests per day: counted per key and model until midnight Pacific (08:00 UTC), where the day starts again', () => {
  const l = new RateLimiter();
  const day0 = 20_000 * DAY + 8 * HOUR; // a midnight Pacific, in Unix time
  assert.equal(admit(l, day0 + 1, { rpd: 2 }), null);
  assert.equal(admit(l, day0 + 10 * HOUR, { rpd: 2, model: 'other' }), null);
  assert.equal(admit(l, day0 + 11 * HOUR, { rpd: 2 }), null);
  // the third request of the day waits for the next midnight, not a minute
  assert.deepEqual(admit(l, day0 + 12 * HOUR, { rpd: 2 }), { quota: 'day', limit: 2, waitMs: 12 * HOUR });
  assert.deepEqual(admit(l, day0 + DAY - 1, { rpd: 2 }), { quota: 'day', limit: 2, waitMs: 1 });
  assert.equal(admit(l, day0 + DAY, { rpd: 2 }), null);
  // a refusal is not counted, and the minute's quota is checked after the day's
  assert.equal(admit(l, day0 + DAY + 1, { rpd: 2, rpm: 1 }).quota, 'requests');
  assert.equal(admit(l, day0 + DAY + 2 * WINDOW, { rpd: 2, rpm: 1 }), null);
  assert.equal(admit(l, day0 + DAY + 4 * WINDOW, { rpd: 2, rpm: 1 }).quota, 'day');
  l.forget('k');
  assert.equal(admit(l, day0 + DAY + 5 * WINDOW, { rpd: 2 }), null);
});

let mock;
let n = 0;
const freshKey = () => `limits-key-${process.pid}-${++n}`;
before(async () => {
  mock = await startMock({ port: 0, quiet: true, rpm: 2 });
});
after(() => mock.close());

const detail = (body, type) => body.error.details.find((d) => d['@type'] === `type.googleapis.com/google.rpc.${type}`);

test('over --rpm: 429 RESOURCE_EXHAUSTED per-minute quota; RetryInfo holds only the whole seconds of the exact wait', async () => {
  const key = freshKey();
  const body = userRequest('hello there');
  assert.equal((await generate(mock.url, { key, body })).status, 200);
  assert.equal((await generate(mock.url, { key, body, stream: true })).status, 200);
  const refused = await generate(mock.url, { key, body });
  assert.equal(refused.status, 429);
  assert.equal(refused.json.error.status, 'RESOURCE_EXHAUSTED');
  const v = detail(refused.json, 'QuotaFailure').violations[0];
  assert.equal(v.quotaId, 'GenerateRequestsPerMinutePerProjectPerModel-FreeTier');
  assert.equal(v.quotaMetric, 'generativelanguage.googleapis.com/generate_content_free_tier_requests');
  assert.equal(v.quotaValue, '2');
  assert.deepEqual(v.quotaDimensions, { location: 'global', model: 'gemini-3.1-flash-lite' });
  const exact = retryIn(refused.json.error.message);
  const retryDelay = detail(refused.json, 'RetryInfo').retryDelay;
  assert.match(retryDelay, /^\d+s$/);
  assert.ok(exact > 55 && exact <= 60, `exact wait ${exact}`);
  assert.equal(Number(retryDelay.slice(0, -1)), Math.floor(exact));
  // another model and another key have quotas of their own; model lookups and countTokens are not counted
  assert.equal((await generate(mock.url, { key, body, model: 'gemini-2.5-flash' })).status, 200);
  assert.equal((await generate(mock.url, { key: freshKey(), body })).status, 200);
  const log = await requests(mock.url, { key });
  assert.deepEqual(log.map((e) => [e.status, e.rateLimited]), [[200, null], [200, null], [429, 'requests'], [200, null]]);
  // a key's reset forgets its usage
  await reset(mock.url, key);
  assert.equal((await generate(mock.url, { key, body })).status, 200);
});

test('over --tpm: 429 with the input-token quota; config changes the limits at run time', async () => {
  const key = freshKey();
  const cfg = await setConfig(mock.url, { rpm: 0, tpm: 50 });
  assert.equal(cfg.rpm, 0);
  assert.equal(cfg.tpm, 50);
  try {
    const body = userRequest('x'.repeat(120)); // 30 tokens
    assert.equal((await generate(mock.url, { key, body })).status, 200);
    const refused = await generate(mock.url, { key, body });
    assert.equal(refused.status, 429);
    const v = detail(refused.json, 'QuotaFailure').violations[0];
    assert.equal(v.quotaId, 'GenerateContentInputTokensPerModelPerMinute-FreeTier');
    assert.equal(v.quotaMetric, 'generativelanguage.googleapis.com/generate_content_free_tier_input_token_count');
    assert.equal(v.quotaValue, '50');
    assert.match(refused.json.error.message, /input_token_count, limit: 50, model: gemini-3\.1-flash-lite\nPlease retry in \S+\.$/);
    assert.equal((await requests(mock.url, { key })).at(-1).rateLimited, 'tokens');
    // a smaller request still fits
    assert.equal((await generate(mock.url, { key, body: userRequest('x'.repeat(40)) })).status, 200);
  } finally {
    await setConfig(mock.url, { rpm: 2, tpm: 0 });
  }
});

test('the window runs on the mock clock: at time scale 0.01 a minute lasts 600 ms, and RetryInfo is scaled', async () => {
  const fast = await startMock({ port: 0, quiet: true, rpm: 1, timeScale: 0.01 });
  try {
    const key = freshKey();
    const body = userRequest('hello');
    assert.equal((await generate(fast.url, { key, body })).status, 200);
    const refused = await generate(fast.url, { key, body });
    assert.equal(refused.status, 429);
    // wall-clock seconds: a minute of the mock's clock is 0.6 s
    const exact = retryIn(refused.json.error.message);
    assert.ok(exact > 0.5 && exact <= 0.6, `exact wait ${exact}`);
    const delay = Number(detail(refused.json, 'RetryInfo').retryDelay.slice(0, -1));
    assert.equal(delay, Number((Math.floor(exact * 100 + 1e-9) * 0.01).toFixed(6)), 'whole seconds of the mock clock, scaled');
    assert.ok(delay <= exact && exact - delay < 0.01);
    // waiting out the exact wait gets the request in; the test's own wait is what is under test
    await new Promise((r) => setTimeout(r, exact * 1000 + 20));
    assert.equal((await generate(fast.url, { key, body })).status, 200);
  } finally {
    await fast.close();
  }
});

test('over --rpd: the per-day quotaId and value, and a wait to midnight Pacific that RetryInfo names too', async () => {
  // A client that waits what RetryInfo says without reading the quotaId sleeps for hours; at time scale 0.01
  // a day of the mock's clock lasts 14.4 minutes.
  const daily = await startMock({ port: 0, quiet: true, rpd: 2, timeScale: 0.01 });
  try {
    const key = freshKey();
    const body = userRequest('hello');
    assert.equal((await generate(daily.url, { key, body })).status, 200);
    assert.equal((await generate(daily.url, { key, body, stream: true })).status, 200);
    const refused = await generate(daily.url, { key, body });
    assert.equal(refused.status, 429);
    const v = detail(refused.json, 'QuotaFailure').violations[0];
    assert.equal(v.quotaId, 'GenerateRequestsPerDayPerProjectPerModel-FreeTier');
    assert.equal(v.quotaValue, '2');
    assert.match(refused.json.error.message, /free_tier_requests, limit: 2, model: gemini-3\.1-flash-lite\nPlease retry in \S+\.$/);
    const exact = retryIn(refused.json.error.message);
    // until the next 08:00 UTC of the mock's clock (which runs 100 times as fast)
    const now = Date.now();
    const dayMs = DAY * 0.01;
    const expected = (Math.floor((now - 8 * HOUR * 0.01) / dayMs) + 1) * dayMs + 8 * HOUR * 0.01 - now;
    assert.ok(Math.abs(exact * 1000 - expected) < 100, `wait ${exact} s, expected ${expected / 1000} s`);
    assert.ok(Number(detail(refused.json, 'RetryInfo').retryDelay.slice(0, -1)) <= exact);
    assert.equal((await requests(daily.url, { key })).at(-1).rateLimited, 'day');
    // the next model has a day of its own; a reset (a new day for this key) lets the key in again
    assert.equal((await generate(daily.url, { key, body, model: 'gemini-2.5-flash' })).status, 200);
    assert.equal((await setConfig(daily.url, {})).rpd, 2);
    await reset(daily.url, key);
    assert.equal((await generate(daily.url, { key, body })).status, 200);
  } finally {
    await daily.close();
  }
});

test('a prompt over the input token limit is refused (400) after the per-minute quota has counted it; other invalid requests are not counted', async () => {
  const key = freshKey();
  const limit = (await (await fetch(`${mock.url}/v1beta/models/gemini-3.1-flash-lite`, { headers: { 'x-goog-api-key': key } })).json()).inputTokenLimit;
  assert.equal((await generate(mock.url, { key, body: { contents: [] } })).status, 400);
  const tooLong = await generate(mock.url, { key, body: userRequest('a'.repeat(limit * 4 + 1)) });
  assert.equal(tooLong.status, 400);
  assert.equal(tooLong.json.error.message, `The input token count exceeds the maximum number of tokens allowed ${limit}.`);
  // --rpm 2: the refused attempt was the first counted, so only one more gets in
  assert.equal((await generate(mock.url, { key, body: userRequest('hello') })).status, 200);
  assert.equal((await generate(mock.url, { key, body: userRequest('hello') })).status, 429);
  const log = (await requests(mock.url, { key })).filter((e) => e.kind === 'generate');
  assert.deepEqual(log.map((e) => [e.status, e.rateLimited]), [[400, null], [400, null], [200, null], [429, 'requests']]);
  assert.equal(log[1].promptTokens, limit + 1);
});
