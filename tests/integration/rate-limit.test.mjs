// The built package against the mock's per-minute quota (`rpm`), as on Gemini's free tier (gemini-2.5-flash:
// 5 requests per minute since December 2025): a long parallel run waits out the 429s and finishes. Before the
// fix it failed RATE_LIMITED: batches kept sending while one waited, and each came back at RetryInfo's whole
// seconds, a fraction of a second too early, to be refused again until their retries were spent.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { requests, reset } from '../../mock/control.mjs';
import { startMock } from '../../mock/gemini-mock.mjs';
import { problems } from '../../bench/checks.mjs';
import { loadWebPackage } from './helpers.mjs';

test('parallel, 52 weeks at 5 requests per minute: every 429 is waited out and the roadmap is complete', async () => {
  const { generateRoadmap } = await loadWebPackage();
  // gemini-2.5-flash timing; a minute of the mock's clock lasts 1.2 s
  const timeScale = 0.02;
  const mock = await startMock({ port: 0, quiet: true, followPrompt: true, rpm: 5, latencyMs: 600, tokensPerSecond: 200, timeScale });
  try {
    const key = 'rate-limit-test-key-52';
    const retries = [];
    const rm = await generateRoadmap({
      apiKey: key, baseUrl: mock.url, role: 'DevOps Engineer', weeks: 52, log: false, strategy: 'parallel',
      onProgress: (e) => { if (e.type === 'retry') retries.push(e); },
    });
    assert.equal(problems(rm, 52), '');
    const log = (await requests(mock.url, { key })).filter((r) => r.kind === 'generate' || r.kind === 'stream');
    const refused = log.filter((r) => r.status === 429);
    assert.ok(refused.length > 0, 'the quota was reached (or this test tests nothing)');
    assert.ok(refused.every((r) => r.rateLimited === 'requests'));
    // Every refusal was announced as a retry that waited for the quota (at least RetryInfo's delay).
    const quotaRetries = retries.filter((e) => /Rate limited/.test(e.reason));
    assert.equal(quotaRetries.length, refused.length);
    // After a refusal requests go one at a time, not all at once into the one freed minute-slot: fewer refusals
    // than a third of the requests (before the fix, 14 of 26 requests were refused).
    assert.ok(refused.length * 3 < log.length, `${refused.length} of ${log.length} requests refused`);
    assert.equal(rm.usage.requests, log.length + 1, 'every request counted, the model lookup too');
  } finally {
    await mock.close();
  }
});

test('parallel, 52 weeks, 16 requests in flight at 2 per minute with instant answers: still complete', async () => {
  // Answers far faster than the quota's minute: concurrency must not come back within the minute, and the
  // batches that lose the race for a freed slot again and again must not fail the run (before the fix their
  // refusals used up maxRetries: RATE_LIMITED with 40 of 58 requests refused).
  const { generateRoadmap } = await loadWebPackage();
  const mock = await startMock({ port: 0, quiet: true, followPrompt: true, rpm: 2, timeScale: 0.01 });
  try {
    const key = 'rate-limit-test-key-16';
    const rm = await generateRoadmap({
      apiKey: key, baseUrl: mock.url, role: 'DevOps Engineer', weeks: 52, log: false, strategy: 'parallel', concurrency: 16,
    });
    assert.equal(problems(rm, 52), '');
    const log = (await requests(mock.url, { key })).filter((r) => r.kind === 'generate' || r.kind === 'stream');
    assert.ok(log.some((r) => r.status === 429), 'the quota was reached');
  } finally {
    await mock.close();
  }
});

test("the day's quota runs out mid-run: RATE_LIMITED at once, finished weeks kept, and resumeFrom finishes the next day", async () => {
  // Gemini names a wait of hours (to midnight Pacific) in RetryInfo: waiting it, or retrying sooner, is wrong.
  const { generateRoadmap } = await loadWebPackage();
  const mock = await startMock({ port: 0, quiet: true, followPrompt: true, rpd: 3, timeScale: 0.01 });
  try {
    const key = 'rate-limit-test-key-day';
    const opts = { apiKey: key, baseUrl: mock.url, role: 'DevOps Engineer', weeks: 12, log: false };
    const err = await generateRoadmap(opts).then(() => null, (e) => e);
    assert.ok(err instanceof Error, `the run should stop at the day's quota, got ${err}`);
    assert.equal(err.code, 'RATE_LIMITED');
    assert.equal(err.retryable, false);
    assert.deepEqual(err.quotaIds, ['GenerateRequestsPerDayPerProjectPerModel-FreeTier']);
    // Gemini's own message ends "Please retry in 725.2s."; ours promises no such time.
    assert.match(err.message, /^Rate limited \(daily quota used up; it resets at midnight Pacific time\): You exceeded/);
    // the outline and the first two batches got in; the third was refused once and not asked again
    const log = (await requests(mock.url, { key })).filter((r) => r.kind === 'generate' || r.kind === 'stream');
    assert.deepEqual(log.map((r) => r.status), [200, 200, 200, 429]);
    assert.equal(log[3].rateLimited, 'day');
    assert.equal(err.batch, 3);
    assert.deepEqual(err.partial.weeks.map((w) => w.week), [1, 2, 3, 4, 5, 6]);
    // A new day (the key's usage forgotten): resuming asks only for what is missing.
    await reset(mock.url, key);
    const rm = await generateRoadmap({ ...opts, resumeFrom: err.partial });
    assert.equal(problems(rm, 12), '');
    assert.deepEqual(rm.weeks.slice(0, 6), err.partial.weeks);
    const after = (await requests(mock.url, { key })).filter((r) => r.kind === 'generate' || r.kind === 'stream');
    assert.deepEqual(after.map((r) => r.status), [200, 200], 'batches 3 and 4 only');
  } finally {
    await mock.close();
  }
});
