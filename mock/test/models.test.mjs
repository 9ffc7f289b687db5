// Shut-down models: Gemini answers 404 for them on every method, as for a name it never had, and ListModels
// leaves them out. A mock that still served them would hide a client that asks for one.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { startMock } from '../gemini-mock.mjs';
import { useMock } from '../test-support.mjs';
import { MODELS, SHUT_DOWN } from '../models.mjs';
import { generate, requests, setConfig, userRequest } from '../control.mjs';

const KEY = 'test-key-models-0001';
const env = useMock();

// Written out in full (not built with errors.mjs) so that a change to Google's wording here is a failing test.
const notFound = (id, method) => ({
  error: {
    code: 404,
    message: `models/${id} is not found for API version v1beta, or is not supported for ${method}. Call ListModels to see the list of available models and their supported methods.`,
    status: 'NOT_FOUND',
  },
});

const get = async (path) => {
  const res = await fetch(`${env.url}/v1beta/${path}`, { headers: { 'x-goog-api-key': KEY } });
  return { status: res.status, json: await res.json() };
};

test('SHUT_DOWN lists the shut-down models with their date and a served replacement; none of them is served', () => {
  const ids = Object.keys(SHUT_DOWN).sort();
  assert.deepEqual(ids, [
    'gemini-1.5-flash', 'gemini-1.5-pro', 'gemini-2.0-flash', 'gemini-2.0-flash-001', 'gemini-2.0-flash-lite',
    'gemini-2.0-flash-lite-001', 'gemini-3-pro-preview',
  ]);
  assert.equal(SHUT_DOWN['gemini-2.0-flash'].shutDown, '2026-06-01');
  assert.equal(SHUT_DOWN['gemini-2.0-flash-lite'].shutDown, '2026-06-01');
  assert.equal(SHUT_DOWN['gemini-3-pro-preview'].shutDown, '2026-03-09');
  assert.equal(SHUT_DOWN['gemini-3-pro-preview'].replacement, 'gemini-3.1-pro-preview');
  for (const [id, { shutDown, replacement }] of Object.entries(SHUT_DOWN)) {
    assert.match(shutDown, /^\d{4}-\d{2}-\d{2}$/, id);
    assert.ok(shutDown < '2026-11-30', `${id} is shut down by now`);
    assert.ok(!(id in MODELS), `${id} must not be served`);
    // a replacement the mock serves, so that `--route ${id}=${replacement}` is accepted
    assert.ok(replacement in MODELS, `${id}: replacement ${replacement} is not served`);
  }
});

test('every shut-down model: GET models/{id}, generateContent, streamGenerateContent and countTokens answer Gemini\'s 404', async () => {
  for (const id of Object.keys(SHUT_DOWN)) {
    const one = await get(`models/${id}`);
    assert.equal(one.status, 404, `GET ${id}`);
    assert.deepEqual(one.json, notFound(id, 'get'));
    const encoded = await get(`models%2F${id}`);
    assert.equal(encoded.status, 404, `GET models%2F${id}`);
    assert.deepEqual(encoded.json, notFound(id, 'get'));

    const plain = await generate(env.url, { key: KEY, model: id, body: userRequest('hi') });
    assert.equal(plain.status, 404, `generateContent ${id}`);
    assert.deepEqual(plain.json, notFound(id, 'generateContent'));

    const sse = await generate(env.url, { key: KEY, model: id, body: userRequest('hi'), stream: true });
    assert.equal(sse.status, 404, `streamGenerateContent?alt=sse ${id}`);
    assert.deepEqual(sse.json, notFound(id, 'streamGenerateContent'));

    // without alt=sse the error comes in the stream's JSON array, as every error on that endpoint does
    const array = await generate(env.url, { key: KEY, model: id, body: userRequest('hi'), stream: true, sse: false });
    assert.equal(array.status, 404, `streamGenerateContent ${id}`);
    assert.deepEqual(array.json, [notFound(id, 'streamGenerateContent')]);

    const ct = await generate(env.url, { key: KEY, model: id, method: 'countTokens', body: userRequest('hi') });
    assert.equal(ct.status, 404, `countTokens ${id}`);
    assert.deepEqual(ct.json, notFound(id, 'countTokens'));
  }
  // the same answers as a name Gemini never had
  assert.deepEqual((await generate(env.url, { key: KEY, model: 'gemini-0-none', body: userRequest('hi') })).json, notFound('gemini-0-none', 'generateContent'));
});

test('GET models does not list a shut-down model', async () => {
  const list = await get('models');
  assert.equal(list.status, 200);
  const names = list.json.models.map((m) => m.name);
  assert.deepEqual(names.sort(), Object.keys(MODELS).map((id) => `models/${id}`).sort());
  for (const id of Object.keys(SHUT_DOWN)) assert.ok(!names.includes(`models/${id}`), id);
});

test('a shut-down name can still be routed to a served model (startMock routes and /__mock/config)', async () => {
  const routed = await startMock({ port: 0, quiet: true, routes: { 'gemini-2.0-flash': 'gemini-2.5-flash-lite' } });
  try {
    const key = 'route-shut-down-key-0001';
    const ok = await generate(routed.url, { key, model: 'gemini-2.0-flash', body: userRequest('hi') });
    assert.equal(ok.status, 200, ok.text.slice(0, 300));
    assert.equal(ok.json.modelVersion, 'gemini-2.5-flash-lite');
    const ct = await generate(routed.url, { key, model: 'gemini-2.0-flash', method: 'countTokens', body: userRequest('hi') });
    assert.equal(ct.status, 200);
    // GET is not routed: the mock has no resource for a name it does not serve
    const one = await fetch(`${routed.url}/v1beta/models/gemini-2.0-flash`, { headers: { 'x-goog-api-key': key } });
    assert.equal(one.status, 404);
    const log = await requests(routed.url, { key });
    assert.deepEqual(log.filter((e) => e.kind === 'generate').map((e) => [e.model, e.routedTo]), [['gemini-2.0-flash', 'gemini-2.5-flash-lite']]);
    // a route set at run time, from another shut-down name
    const cfg = await setConfig(routed.url, { routes: { 'gemini-3-pro-preview': 'gemini-3.1-pro-preview' } });
    assert.deepEqual(cfg.routes, { 'gemini-3-pro-preview': 'gemini-3.1-pro-preview' });
    const pro = await generate(routed.url, { key, model: 'gemini-3-pro-preview', body: userRequest('hi') });
    assert.equal(pro.json.modelVersion, 'gemini-3.1-pro-preview');
    // and the earlier route is gone: the shut-down name is a 404 again
    assert.equal((await generate(routed.url, { key, model: 'gemini-2.0-flash', body: userRequest('hi') })).status, 404);
  } finally {
    await routed.close();
  }
});

test('control.mjs generate() asks gemini-3.1-flash-lite when no model is given', async () => {
  const r = await generate(env.url, { key: KEY, body: userRequest('hi') });
  assert.equal(r.status, 200);
  assert.equal(r.json.modelVersion, 'gemini-3.1-flash-lite');
});

test('GET models pages with pageSize (default 50, at most 1000) and pageToken, nextPageToken while more remain; a token it did not give -> 400', async () => {
  const list = async (query) => {
    const r = await fetch(`${env.url}/v1beta/models${query}`, { headers: { 'x-goog-api-key': KEY } });
    return { status: r.status, json: await r.json() };
  };
  const all = Object.keys(MODELS).map((id) => `models/${id}`);
  assert.ok(all.length > 3);
  const whole = await list('');
  assert.deepEqual(whole.json.models.map((m) => m.name), all);
  assert.equal(whole.json.nextPageToken, undefined, 'fewer than 50 models: one page');
  for (const q of ['?pageSize=0', '?pageSize=1000', '?pageSize=5000', `?pageSize=${all.length}`]) {
    const r = await list(q);
    assert.deepEqual(r.json.models.map((m) => m.name), all, q);
    assert.equal(r.json.nextPageToken, undefined, q);
  }
  // three at a time: every model once, in order, the last page without a token
  const names = [];
  let token;
  let pages = 0;
  do {
    const r = await list(`?pageSize=3${token ? `&pageToken=${encodeURIComponent(token)}` : ''}`);
    assert.equal(r.status, 200);
    assert.ok(r.json.models.length <= 3 && r.json.models.length > 0);
    names.push(...r.json.models.map((m) => m.name));
    token = r.json.nextPageToken;
    pages += 1;
  } while (token);
  assert.deepEqual(names, all);
  assert.equal(pages, Math.ceil(all.length / 3));
  for (const bad of ['nonsense', 'b2Zmc2V0OjA', 'b2Zmc2V0Ojk5OQ']) {
    const r = await list(`?pageToken=${bad}`);
    assert.equal(r.status, 400, bad);
    assert.equal(r.json.error.status, 'INVALID_ARGUMENT');
  }
  const badSize = await list('?pageSize=-1');
  assert.equal(badSize.status, 400);
});

test('the -latest aliases are served under their own name, with the limits and thinking rules of the model each points at', async () => {
  const { ALIASES } = await import('../models.mjs');
  assert.deepEqual(Object.keys(ALIASES).sort(), ['gemini-flash-latest', 'gemini-flash-lite-latest', 'gemini-pro-latest']);
  const g = await get('models/gemini-flash-latest');
  assert.equal(g.status, 200);
  assert.equal(g.json.name, 'models/gemini-flash-latest');
  assert.equal(g.json.displayName, 'Gemini Flash Latest');
  assert.equal(g.json.description, 'Latest release of Gemini Flash');
  assert.equal(g.json.thinking, true);
  assert.equal(g.json.outputTokenLimit, 65536);
  const thoughts = async (model, gc) => {
    const r = await generate(env.url, { key: KEY, model, body: userRequest('Name one DevOps tool.', gc) });
    return { status: r.status, T: r.json.usageMetadata?.thoughtsTokenCount ?? 0, error: r.json.error };
  };
  for (const [alias, { target }] of Object.entries(ALIASES)) {
    // Asked nothing, an alias thinks as its target does by default; asked the least, as little.
    const [a, t] = [await thoughts(alias), await thoughts(target)];
    assert.equal(a.status, 200, alias);
    assert.equal(a.T, t.T, alias);
    const least = alias.includes('flash-lite') ? 'minimal' : 'low';
    const [al, tl] = [await thoughts(alias, { thinkingConfig: { thinkingLevel: least } }), await thoughts(target, { thinkingConfig: { thinkingLevel: least } })];
    assert.equal(al.status, 200, alias);
    assert.equal(al.T, tl.T, alias);
    assert.ok(al.T < a.T || a.T === 0, `${alias}: ${least} thinks less than the default`);
  }
  // A Flash alias refuses `minimal` as a Gemini 3 Flash does.
  const refused = await thoughts('gemini-flash-latest', { thinkingConfig: { thinkingLevel: 'minimal' } });
  const direct = await thoughts('gemini-3.8-flash', { thinkingConfig: { thinkingLevel: 'minimal' } });
  assert.equal(direct.status, 400);
  assert.equal(refused.status, 400);
  assert.equal(refused.error.message, direct.error.message);
});
