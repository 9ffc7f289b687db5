// Implicit caching (on by default for 2.5+ models): a shared prompt prefix of at least the model's minimum is
// reported as cachedContentTokenCount, inside promptTokenCount.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { startMock } from '../gemini-mock.mjs';
import { ImplicitCache, implicitCacheMin } from '../cache.mjs';
import { generate, requests, setConfig } from '../control.mjs';

const MIN = 5 * 60_000;
const look = (c, at, text, { key = 'k', model = 'm', minTokens = 10 } = {}) =>
  c.lookup({ key, model, text, minTokens, now: at, ttlMs: MIN });

test('the longest prefix shared with a recent prompt counts, from the minimum up, per key and model, for 5 minutes', () => {
  const c = new ImplicitCache();
  const base = 'x'.repeat(80); // 20 tokens
  assert.equal(look(c, 0, `${base}first`), 0, 'nothing cached yet');
  assert.equal(look(c, 1, `${base}second`), 20);
  assert.equal(look(c, 2, `${'x'.repeat(36)}y`), 0, 'a shared prefix of 9 tokens is below the minimum');
  assert.equal(look(c, 3, `${base}first and more`), 21, 'the longest of the prefixes shared with recent prompts');
  assert.equal(look(c, 4, `${base}z`, { key: 'other' }), 0);
  assert.equal(look(c, 5, `${base}z`, { model: 'other' }), 0);
  assert.equal(look(c, MIN + 10, `${base}z`), 0, 'expired');
  c.forget('k');
  assert.equal(look(c, MIN + 11, `${base}z`), 0, 'forgotten');
  assert.equal(implicitCacheMin('gemini-2.5-flash'), 2048);
  assert.equal(implicitCacheMin('gemini-3.1-flash-lite'), 4096);
  assert.equal(implicitCacheMin('gemini-3.1-pro-preview'), 4096);
  assert.equal(implicitCacheMin('gemini-2.0-flash'), null, '2.0 models had none (and are shut down)');
  // an alias caches as the model it points at
  assert.equal(implicitCacheMin('gemini-flash-latest'), 4096);
  assert.equal(implicitCacheMin('gemini-flash-lite-latest'), 4096);
  assert.equal(implicitCacheMin('gemini-pro-latest'), 4096);
});

let mock;
let n = 0;
const freshKey = () => `cache-key-${process.pid}-${++n}`;
before(async () => { mock = await startMock({ port: 0, quiet: true }); });
after(() => mock.close());

const chat = (...texts) => ({
  contents: texts.map((text, i) => ({ role: i % 2 ? 'model' : 'user', parts: [{ text }] })),
  generationConfig: { thinkingConfig: { thinkingBudget: 0 } },
});

test('a resent chat history is served from the cache on 2.5 models: cachedContentTokenCount and cacheTokensDetails', async () => {
  const key = freshKey();
  const history = 'lorem ipsum '.repeat(1000); // 12,000 characters: 3,000 tokens
  const first = await generate(mock.url, { key, model: 'gemini-2.5-flash', body: chat(`${history}weeks 1-3`) });
  assert.equal(first.json.usageMetadata.cachedContentTokenCount, undefined);
  const second = await generate(mock.url, { key, model: 'gemini-2.5-flash', body: chat(`${history}weeks 1-3`, 'answer', 'weeks 4-6') });
  const u = second.json.usageMetadata;
  assert.equal(u.cachedContentTokenCount, 3002, 'the shared prefix: the history and "week"');
  assert.deepEqual(u.cacheTokensDetails, [{ modality: 'TEXT', tokenCount: 3002 }]);
  assert.ok(u.promptTokenCount > u.cachedContentTokenCount, 'prompt tokens include the cached ones');
  const streamed = await generate(mock.url, { key, model: 'gemini-2.5-flash', stream: true, body: chat(`${history}weeks 7-9`) });
  assert.match(streamed.text, /"cachedContentTokenCount": 3001,/);
  const log = await requests(mock.url, { key });
  assert.deepEqual(log.map((e) => e.cachedTokens), [0, 3002, 3001]);
});

test('no implicit cache below the model\'s minimum (4,096 tokens on 3.x, 2,048 on 2.5), or when turned off', async () => {
  const key = freshKey();
  const history = 'lorem ipsum '.repeat(1000); // 3,000 tokens: enough on 2.5 (above), not on 3.x
  for (let i = 0; i < 2; i++) {
    const r = await generate(mock.url, { key, model: 'gemini-3.1-flash-lite', body: { contents: [{ role: 'user', parts: [{ text: history }] }] } });
    assert.equal(r.status, 200, r.text.slice(0, 300));
    assert.equal(r.json.usageMetadata.cachedContentTokenCount, undefined);
  }
  // the same model past its minimum: a resent 4,500-token prefix is served from the cache
  const longer = 'lorem ipsum '.repeat(1500);
  const first = await generate(mock.url, { key, model: 'gemini-3.1-flash-lite', body: { contents: [{ role: 'user', parts: [{ text: `${longer}a` }] }] } });
  assert.equal(first.json.usageMetadata.cachedContentTokenCount, undefined, 'only 3,000 tokens shared with the earlier prompts');
  const hit = await generate(mock.url, { key, model: 'gemini-3.1-flash-lite', body: { contents: [{ role: 'user', parts: [{ text: `${longer}b` }] }] } });
  assert.equal(hit.json.usageMetadata.cachedContentTokenCount, 4500);
  const short = 'lorem ipsum '.repeat(600); // 1,800 tokens: below 2.5's 2,048
  for (let i = 0; i < 2; i++) {
    const r = await generate(mock.url, { key, model: 'gemini-2.5-flash', body: chat(`${short}${i}`) });
    assert.equal(r.json.usageMetadata.cachedContentTokenCount, undefined);
  }
  assert.equal((await setConfig(mock.url, { implicitCache: false })).implicitCache, false);
  try {
    const r = await generate(mock.url, { key, model: 'gemini-2.5-flash', body: chat(`${history}again`) });
    const r2 = await generate(mock.url, { key, model: 'gemini-2.5-flash', body: chat(`${history}again`) });
    assert.equal(r2.json.usageMetadata.cachedContentTokenCount, undefined, JSON.stringify(r.json.usageMetadata));
  } finally {
    await setConfig(mock.url, { implicitCache: true });
  }
});
