// Server basics: CLI, health, CORS, auth, models, countTokens, request log.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { startMock } from '../gemini-mock.mjs';
import { useMock } from '../test-support.mjs';
import { generate, requests, reset, roadmapPrompt, userRequest, script, spawnMock } from '../control.mjs';

const KEY = 'test-key-server-0001';
const env = useMock();

test('CLI prints exactly one MOCK_GEMINI_LISTENING line, serves, and exits 0 on SIGTERM', async () => {
  const { child, url, stdout } = await spawnMock(['--port', '0', '--quiet', '--latency-ms', '5', '--tokens-per-second=900', '--time-scale', '0.5',
    '--rpm', '5', '--tpm=250000', '--rpd', '20', '--route', 'gemini-2.5-flash=gemini-3.5-flash-lite', '--bounded-object-arrays', '1']);
  try {
    const health = await (await fetch(`${url}/__mock/health`)).json();
    assert.deepEqual(health, { ok: true });
    const cfg = await (await fetch(`${url}/__mock/config`)).json();
    assert.deepEqual(cfg, { latencyMs: 5, tokensPerSecond: 900, timeScale: 0.5, followPrompt: false, implicitCache: true, rpm: 5, tpm: 250000, rpd: 20, routes: { 'gemini-2.5-flash': 'gemini-3.5-flash-lite' }, boundedObjectArrays: 1 });
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
  const code = await new Promise((resolve) => { child.on('exit', (c, sig) => resolve(c ?? sig)); child.kill('SIGTERM'); });
  assert.equal(code, 0);
  assert.equal(stdout().split('\n').filter(Boolean).length, 1, `stdout: ${JSON.stringify(stdout())}`);
});

test('CLI refuses a non-loopback host', async () => {
  const script = fileURLToPath(new URL('../gemini-mock.mjs', import.meta.url));
  const child = spawn(process.execPath, [script, '--port', '0', '--host', '0.0.0.0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  const code = await new Promise((resolve) => child.on('exit', resolve));
  assert.notEqual(code, 0);
  assert.equal(out, '');
});

test('health endpoint', async () => {
  const res = await fetch(`${env.url}/__mock/health`);
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { ok: true });
});

test('CORS preflight for content-type + x-goog-api-key is allowed like Google', async () => {
  const res = await fetch(`${env.url}/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse`, {
    method: 'OPTIONS',
    headers: {
      origin: 'http://localhost:8080',
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'content-type,x-goog-api-key',
    },
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('access-control-allow-origin'), 'http://localhost:8080');
  assert.equal(res.headers.get('access-control-allow-methods'), 'DELETE,GET,OPTIONS,PATCH,POST,PUT');
  assert.equal(res.headers.get('access-control-allow-headers'), 'content-type,x-goog-api-key');
  assert.equal(res.headers.get('access-control-max-age'), '3600');
  assert.match(res.headers.get('vary'), /origin/i);
});

test('CORS preflight allow-list is case-insensitive and includes x-goog-api-client and authorization', async () => {
  const res = await fetch(`${env.url}/v1beta/models/gemini-2.5-flash:generateContent`, {
    method: 'OPTIONS',
    headers: {
      origin: 'http://127.0.0.1:9000',
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'Content-Type, X-Goog-Api-Key, x-goog-api-client, Authorization',
    },
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('access-control-allow-origin'), 'http://127.0.0.1:9000');
});

test('a path Gemini does not serve gets a 404 without CORS headers, preflight included (a network error in a browser)', async () => {
  const origin = 'http://localhost:8080';
  for (const path of ['/v1beta/v1beta/models/gemini-2.5-flash:generateContent', '/chat/completions']) {
    const pre = await fetch(`${env.url}${path}`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-goog-api-key' },
    });
    assert.equal(pre.status, 404, path);
    assert.equal(pre.headers.get('access-control-allow-origin'), null, path);
    const post = await fetch(`${env.url}${path}`, { method: 'POST', headers: { origin, 'x-goog-api-key': 'test-key-unserved' }, body: '{}' });
    assert.equal(post.status, 404, path);
    assert.equal(post.headers.get('access-control-allow-origin'), null, path);
  }
  // The served paths keep theirs.
  const ok = await fetch(`${env.url}/v1beta/models/gemini-2.5-flash`, { headers: { origin, 'x-goog-api-key': 'test-key-unserved' } });
  assert.equal(ok.headers.get('access-control-allow-origin'), origin);
});

test('CORS preflight naming any other header is a 403 without CORS headers', async () => {
  const res = await fetch(`${env.url}/v1beta/models/gemini-2.5-flash:generateContent`, {
    method: 'OPTIONS',
    headers: {
      origin: 'http://localhost:8080',
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'content-type,x-goog-api-key,x-request-id',
    },
  });
  assert.equal(res.status, 403);
  assert.equal(res.headers.get('access-control-allow-origin'), null);
  assert.equal(res.headers.get('access-control-allow-headers'), null);
  const log = await requests(env.url);
  const pre = log.filter((e) => e.method === 'OPTIONS').at(-1);
  assert.equal(pre.status, 403);
  assert.deepEqual(pre.requestedHeaders, ['content-type', 'x-goog-api-key', 'x-request-id']);
  assert.deepEqual(pre.disallowedHeaders, ['x-request-id']);
});

test('access-control-allow-origin is present on error responses too', async () => {
  const origin = 'http://localhost:5173';
  const k = 'acao-key-000001';
  await script(env.url, k, [{ fault: 'status', status: 503 }, { fault: 'html502' }]);
  const cases = [
    await generate(env.url, { key: 'bad-key-123', headers: { origin }, body: userRequest('hi') }),
    await generate(env.url, { headers: { origin }, body: userRequest('hi') }),
    await generate(env.url, { key: KEY, model: 'gemini-9', headers: { origin }, body: userRequest('hi') }),
    await generate(env.url, { key: KEY, headers: { origin }, body: '{nope' }),
    await generate(env.url, { key: k, headers: { origin }, body: userRequest('hi') }),
    await generate(env.url, { key: k, headers: { origin }, body: userRequest('hi') }),
  ];
  assert.deepEqual(cases.map((c) => c.status), [400, 403, 404, 400, 503, 502]);
  for (const c of cases) assert.equal(c.headers.get('access-control-allow-origin'), origin);
});

test('missing API key -> 403 PERMISSION_DENIED with Google\'s message', async () => {
  const r = await generate(env.url, { body: userRequest('hi') });
  assert.equal(r.status, 403);
  assert.deepEqual(r.json, {
    error: {
      code: 403,
      message: 'Method doesn\'t allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.',
      status: 'PERMISSION_DENIED',
    },
  });
});

test("a leaked key, a key restricted to other APIs, a key type refused and an unsupported location: Gemini's 403, 401 and 400 bodies on every call", async () => {
  const get = (key, path) => fetch(`${env.url}/v1beta/${path}`, { headers: { 'x-goog-api-key': key } }).then(async (r) => ({ status: r.status, json: await r.json() }));
  const calls = (key) => [
    generate(env.url, { key, body: userRequest('hi') }),
    generate(env.url, { key, body: userRequest('hi'), stream: true }),
    get(key, 'models/gemini-2.5-flash'),
  ];
  for (const r of await Promise.all(calls('leaked-key-0001'))) {
    assert.equal(r.status, 403);
    assert.deepEqual(r.json, { error: { code: 403, message: 'Your API key was reported as leaked. Please use another API key.', status: 'PERMISSION_DENIED' } });
  }
  const methods = ['GenerativeService.GenerateContent', 'GenerativeService.StreamGenerateContent', 'ModelService.GetModel'];
  for (const [i, r] of (await Promise.all(calls('blocked-key-0001'))).entries()) {
    assert.equal(r.status, 403);
    const methodName = `google.ai.generativelanguage.v1beta.${methods[i]}`;
    assert.equal(r.json.error.status, 'PERMISSION_DENIED');
    assert.equal(r.json.error.message, `Requests to this API generativelanguage.googleapis.com method ${methodName} are blocked.`);
    const info = r.json.error.details.find((d) => d['@type'] === 'type.googleapis.com/google.rpc.ErrorInfo');
    assert.equal(info.reason, 'API_KEY_SERVICE_BLOCKED');
    assert.equal(info.metadata.methodName, methodName);
  }
  for (const [i, r] of (await Promise.all(calls('unsupported-key-0001'))).entries()) {
    assert.equal(r.status, 401);
    assert.equal(r.json.error.status, 'UNAUTHENTICATED');
    assert.match(r.json.error.message, /^Request had invalid authentication credentials\. .* See https:\/\/developers\.google\.com\/identity\/sign-in\/web\/devconsole-project\.$/);
    const [info] = r.json.error.details;
    assert.equal(info.reason, 'ACCESS_TOKEN_TYPE_UNSUPPORTED');
    assert.equal(info.metadata.method, `google.ai.generativelanguage.v1beta.${methods[i]}`);
  }
  for (const r of await Promise.all(calls('region-key-0001'))) {
    assert.equal(r.status, 400);
    assert.deepEqual(r.json, { error: { code: 400, message: 'User location is not supported for the API use.', status: 'FAILED_PRECONDITION' } });
  }
  // the same answers as scripted steps, for a client whose key a test cannot choose
  const key = 'scripted-key-states-0001';
  // an unknown state is a mistake in the test: refused when queued, with the states it takes
  await assert.rejects(script(env.url, key, [{ fault: 'key', as: 'nonsense' }]), /fault \\"key\\" needs \\"as\\", one of missing, invalid, leaked, blocked, region, site, unsupported/);
  await assert.rejects(script(env.url, key, [{ fault: 'key' }]), /fault \\"key\\" needs \\"as\\"/);
  await script(env.url, key, [{ fault: 'key', as: 'leaked' }, { fault: 'key', as: 'blocked' }, { fault: 'key', as: 'region' }, { fault: 'key', as: 'unsupported' }]);
  const leaked = await generate(env.url, { key, body: userRequest('hi') });
  assert.equal(leaked.json.error.message, 'Your API key was reported as leaked. Please use another API key.');
  const blocked = await generate(env.url, { key, body: userRequest('hi'), stream: true });
  assert.match(blocked.json.error.message, /GenerativeService\.StreamGenerateContent are blocked\.$/);
  assert.equal((await generate(env.url, { key, body: userRequest('hi') })).json.error.status, 'FAILED_PRECONDITION');
  assert.equal((await generate(env.url, { key, body: userRequest('hi') })).status, 401);
  assert.equal((await generate(env.url, { key, body: userRequest('hi') })).status, 200);
});

test('invalid API key (bad* or < 8 chars) -> 400 API_KEY_INVALID with the full error body', async () => {
  const expected = {
    error: {
      code: 400,
      message: 'API key not valid. Please pass a valid API key.',
      status: 'INVALID_ARGUMENT',
      details: [
        { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', domain: 'googleapis.com', metadata: { service: 'generativelanguage.googleapis.com' } },
        { '@type': 'type.googleapis.com/google.rpc.LocalizedMessage', locale: 'en-US', message: 'API key not valid. Please pass a valid API key.' },
      ],
    },
  };
  for (const key of ['bad-but-long-enough-key', 'short']) {
    const r = await generate(env.url, { key, body: userRequest('hi') });
    assert.equal(r.status, 400, key);
    assert.deepEqual(r.json, expected);
  }
  // a normal key works
  const ok = await generate(env.url, { key: 'abcdefgh', body: userRequest('hi') });
  assert.equal(ok.status, 200);
});

test('?key= is accepted but recorded as keyInUrl; the header is recorded as not in URL', async () => {
  const k = 'url-key-check-001';
  const a = await generate(env.url, { key: k, keyInUrl: true, body: userRequest('hello') });
  assert.equal(a.status, 200);
  const b = await generate(env.url, { key: k, body: userRequest('hello') });
  assert.equal(b.status, 200);
  const log = await requests(env.url, { key: k });
  assert.deepEqual(log.map((e) => e.keyInUrl), [true, false]);
  assert.equal(log[0].query.key, k.length);
  assert.ok(!JSON.stringify(log).includes(k), 'the key must never appear in the log');
});

test('a body with an unknown field or a wrong type -> its 400 before the 404 of an unknown model (decoding comes first)', async () => {
  for (const method of [undefined, 'countTokens']) {
    const unknown = await generate(env.url, { key: KEY, model: 'xyz', method, body: { ...userRequest('hi'), foo: 1 } });
    assert.equal(unknown.status, 400, method);
    assert.equal(unknown.json.error.message, 'Invalid JSON payload received. Unknown name "foo": Cannot find field.', method);
    const mistyped = await generate(env.url, { key: KEY, model: 'xyz', method, body: { contents: 'hi' } });
    assert.equal(mistyped.status, 400, method);
    const fine = await generate(env.url, { key: KEY, model: 'xyz', method, body: userRequest('hi') });
    assert.equal(fine.status, 404, method);
  }
});

test('unknown model -> 404 NOT_FOUND with the exact Google message', async () => {
  const r = await generate(env.url, { key: KEY, model: 'xyz', body: userRequest('hi') });
  assert.equal(r.status, 404);
  assert.deepEqual(r.json, {
    error: {
      code: 404,
      message: 'models/xyz is not found for API version v1beta, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods.',
      status: 'NOT_FOUND',
    },
  });
});

test('GET models/{id} reports outputTokenLimit and thinking; list has the whole table', async () => {
  const get = async (p) => {
    const res = await fetch(`${env.url}/v1beta/${p}`, { headers: { 'x-goog-api-key': KEY } });
    return { status: res.status, json: await res.json() };
  };
  const lite = await get('models/gemini-3.1-flash-lite');
  assert.equal(lite.status, 200);
  assert.equal(lite.json.name, 'models/gemini-3.1-flash-lite');
  assert.equal(lite.json.version, '3.1-flash-lite');
  assert.equal(lite.json.outputTokenLimit, 65536);
  assert.equal(lite.json.topK, 64);
  assert.equal(lite.json.thinking, true);
  assert.ok(lite.json.supportedGenerationMethods.includes('generateContent'));
  for (const f of ['version', 'displayName', 'description', 'inputTokenLimit', 'temperature', 'maxTemperature', 'topP', 'topK']) {
    assert.ok(f in lite.json, f);
  }
  const pro = await get('models%2Fgemini-2.5-pro');
  assert.equal(pro.status, 200);
  assert.equal(pro.json.outputTokenLimit, 65536);
  assert.equal(pro.json.thinking, true);
  const list = await get('models');
  assert.deepEqual(list.json.models.map((m) => m.name).sort(), [
    'models/gemini-2.5-flash', 'models/gemini-2.5-flash-lite', 'models/gemini-2.5-pro',
    'models/gemini-3.1-flash-lite', 'models/gemini-3.1-pro-preview', 'models/gemini-3.5-flash-lite', 'models/gemini-3.7-flash', 'models/gemini-3.8-flash',
    'models/gemini-flash-latest', 'models/gemini-flash-lite-latest', 'models/gemini-pro-latest',
  ]);
  const missing = await get('models/gemini-1.0-ultra');
  assert.equal(missing.status, 404);
  const noKey = await fetch(`${env.url}/v1beta/models`);
  assert.equal(noKey.status, 403);
});

test('countTokens accepts {contents} and {generateContentRequest} and matches promptTokenCount', async () => {
  const sys = 'You are a planner. '.repeat(7);
  const body = { contents: [{ role: 'user', parts: [{ text: roadmapPrompt({ task: 'WEEKS 1-1' }) }] }], systemInstruction: { parts: [{ text: sys }] } };
  const ct1 = await fetch(`${env.url}/v1beta/models/gemini-2.5-flash:countTokens`, {
    method: 'POST', headers: { 'x-goog-api-key': KEY, 'content-type': 'application/json' },
    body: JSON.stringify({ contents: body.contents }),
  });
  const j1 = await ct1.json();
  assert.equal(j1.totalTokens, Math.ceil(roadmapPrompt({ task: 'WEEKS 1-1' }).length / 4));
  assert.deepEqual(j1.promptTokensDetails, [{ modality: 'TEXT', tokenCount: j1.totalTokens }]);
  const ct2 = await fetch(`${env.url}/v1beta/models/gemini-2.5-flash:countTokens`, {
    method: 'POST', headers: { 'x-goog-api-key': KEY, 'content-type': 'application/json' },
    body: JSON.stringify({ generateContentRequest: { model: 'models/gemini-2.5-flash', ...body } }),
  });
  const j2 = await ct2.json();
  // the wrapped request must name its model
  const noModel = await fetch(`${env.url}/v1beta/models/gemini-2.5-flash:countTokens`, {
    method: 'POST', headers: { 'x-goog-api-key': KEY, 'content-type': 'application/json' },
    body: JSON.stringify({ generateContentRequest: body }),
  });
  assert.equal(noModel.status, 400);
  assert.equal((await noModel.json()).error.message, '* CountTokensRequest.generate_content_request.model: model is not specified\n');
  const gen = await generate(env.url, { key: KEY, model: 'gemini-2.5-flash', body });
  assert.equal(j2.totalTokens, gen.json.usageMetadata.promptTokenCount);
  assert.ok(j2.totalTokens > j1.totalTokens);
  // countTokens does not consume scripted steps
  const k = 'count-tokens-key-1';
  await script(env.url, k, [{ fault: 'status', status: 500 }]);
  const ct3 = await fetch(`${env.url}/v1beta/models/gemini-2.5-flash:countTokens`, {
    method: 'POST', headers: { 'x-goog-api-key': k }, body: JSON.stringify({ contents: body.contents }),
  });
  assert.equal(ct3.status, 200);
  assert.equal((await generate(env.url, { key: k, body: userRequest('x') })).status, 500);
});

test('request log records shape, redacts the key and logs preflights', async () => {
  const k = 'log-shape-key-0001';
  await fetch(`${env.url}/v1beta/models/gemini-3.1-flash-lite:generateContent`, {
    method: 'OPTIONS',
    headers: { origin: 'http://app.test', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-goog-api-key' },
  });
  const prompt = roadmapPrompt({ task: 'WEEKS 2-3' });
  const body = {
    systemInstruction: { parts: [{ text: 'S'.repeat(400) }] },
    contents: [
      { role: 'user', parts: [{ text: 'first question' }] },
      { role: 'model', parts: [{ text: 'first answer' }] },
      { role: 'user', parts: [{ text: prompt + 'x'.repeat(600) }] },
    ],
    generationConfig: { responseMimeType: 'application/json', maxOutputTokens: 8000 },
  };
  const r = await generate(env.url, { key: k, body, stream: true, headers: { origin: 'http://app.test', 'x-goog-api-client': 'genai-js/1.0' } });
  assert.equal(r.status, 200);
  const [e] = await requests(env.url, { key: k });
  assert.equal(e.method, 'POST');
  assert.equal(e.path, '/v1beta/models/gemini-3.1-flash-lite:streamGenerateContent');
  assert.equal(e.model, 'gemini-3.1-flash-lite');
  assert.equal(e.stream, true);
  assert.equal(e.keyInUrl, false);
  assert.equal(e.headers['x-goog-api-key'], k.length, 'the key is redacted to its length');
  assert.equal(e.headers['x-goog-api-client'], 'genai-js/1.0');
  assert.ok(e.headerNames.includes('x-goog-api-key'));
  assert.equal(e.bodyBytes, Buffer.byteLength(JSON.stringify(body)));
  assert.equal(e.contentsTurns, 3);
  assert.equal(e.lastUserText.length, 500);
  assert.ok(e.lastUserText.startsWith(prompt));
  assert.equal(e.systemInstruction.length, 300);
  assert.deepEqual(e.generationConfig, body.generationConfig);
  assert.equal(e.promptTokens, Math.ceil((400 + 'first question'.length + 'first answer'.length + prompt.length + 600) / 4));
  assert.equal(e.status, 200);
  assert.equal(e.aborted, false);
  assert.equal(e.fault, null);
  assert.ok(e.startedAt <= e.firstByteAt && e.firstByteAt <= e.endedAt);
  assert.deepEqual(e.task, { kind: 'weeks', role: 'DevOps Engineer', totalWeeks: 12, from: 2, to: 3 });
  const all = await requests(env.url);
  const pre = all.filter((x) => x.method === 'OPTIONS' && x.origin === 'http://app.test');
  assert.equal(pre.length, 1);
  assert.deepEqual(pre[0].requestedHeaders, ['content-type', 'x-goog-api-key']);
  assert.equal(pre[0].status, 200);
});

test('reset clears scripts and logs (all, or one key)', async () => {
  const a = 'reset-key-aaaa-1';
  const b = 'reset-key-bbbb-1';
  await script(env.url, a, [{ fault: 'status', status: 500 }]);
  await script(env.url, b, [{ fault: 'status', status: 500 }]);
  await generate(env.url, { key: 'reset-key-cccc-1', body: userRequest('x') });
  await reset(env.url, a);
  assert.equal((await generate(env.url, { key: a, body: userRequest('x') })).status, 200);
  assert.equal((await requests(env.url, { key: 'reset-key-cccc-1' })).length, 1);
  await reset(env.url);
  assert.equal((await requests(env.url, { key: 'reset-key-cccc-1' })).length, 0);
  assert.equal((await generate(env.url, { key: b, body: userRequest('x') })).status, 200);
});

test('unknown paths get Google\'s HTML 404; unknown faults are rejected by the control API', async () => {
  const res = await fetch(`${env.url}/v1/models/gemini-2.5-flash-lite:generateContent`, { method: 'POST', headers: { 'x-goog-api-key': KEY }, body: '{}' });
  assert.equal(res.status, 404);
  assert.match(res.headers.get('content-type'), /text\/html/);
  assert.match(await res.text(), /Error 404 \(Not Found\)/);
  const bad = await fetch(`${env.url}/__mock/script`, { method: 'POST', body: JSON.stringify({ key: KEY, steps: [{ fault: 'nope' }] }) });
  assert.equal(bad.status, 400);
  assert.ok((await bad.json()).knownFaults.includes('sse-cut'));
});

test('a retired name routed to its successor (--route) is served by the successor, under its rules and in its name', async () => {
  const routed = await startMock({ port: 0, quiet: true, routes: { 'gemini-2.5-flash': 'gemini-3.5-flash-lite' } });
  try {
    const key = 'route-test-key-0001';
    // the thinking budget a 2.5 Flash request carries is refused by the successor
    const refused = await generate(routed.url, { key, model: 'gemini-2.5-flash', body: userRequest('hi', { thinkingConfig: { thinkingBudget: 0 } }) });
    assert.equal(refused.status, 400);
    assert.equal(refused.json.error.message, 'Budget 0 is invalid. This model only works in thinking mode.');
    const ok = await generate(routed.url, { key, model: 'gemini-2.5-flash', body: userRequest('hi') });
    assert.equal(ok.status, 200);
    assert.equal(ok.json.modelVersion, 'gemini-3.5-flash-lite');
    const log = await requests(routed.url, { key });
    assert.deepEqual(log.map((e) => [e.model, e.routedTo]), [['gemini-2.5-flash', 'gemini-3.5-flash-lite'], ['gemini-2.5-flash', 'gemini-3.5-flash-lite']]);
    // other names are served as before; a route to a model the mock does not serve is refused
    assert.equal((await generate(routed.url, { key, model: 'gemini-2.5-pro', body: userRequest('hi') })).json.modelVersion, 'gemini-2.5-pro');
    const bad = await fetch(`${routed.url}/__mock/config`, { method: 'POST', body: JSON.stringify({ routes: { 'gemini-2.5-pro': 'gemini-9' } }) });
    assert.equal(bad.status, 400);
    const cleared = await fetch(`${routed.url}/__mock/config`, { method: 'POST', body: JSON.stringify({ routes: {} }) });
    assert.deepEqual((await cleared.json()).routes, {});
    assert.equal((await generate(routed.url, { key, model: 'gemini-2.5-flash', body: userRequest('hi') })).json.modelVersion, 'gemini-2.5-flash');
  } finally {
    await routed.close();
  }
});

test('a key restricted to websites (site-…): 403 API_KEY_HTTP_REFERRER_BLOCKED without a matching Referer, on every call; the preflight still passes', async () => {
  const key = 'site-demo-key';
  const blockedBody = (httpReferrer) => ({
    error: {
      code: 403,
      message: `Requests from referer ${httpReferrer} are blocked.`,
      status: 'PERMISSION_DENIED',
      details: [{
        '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
        reason: 'API_KEY_HTTP_REFERRER_BLOCKED',
        domain: 'googleapis.com',
        metadata: { httpReferrer, consumer: 'projects/123456789012', service: 'generativelanguage.googleapis.com' },
      }],
    },
  });
  const calls = (headers) => [
    generate(env.url, { key, headers, body: userRequest('hi') }),
    generate(env.url, { key, headers, body: userRequest('hi'), stream: true }),
    generate(env.url, { key, headers, method: 'countTokens', body: { contents: [{ parts: [{ text: 'hi' }] }] } }),
    generate(env.url, { key, headers, keyInUrl: true, body: userRequest('hi') }),
    fetch(`${env.url}/v1beta/models/gemini-2.5-flash`, { headers: { 'x-goog-api-key': key, ...headers } })
      .then(async (r) => ({ status: r.status, json: await r.json() })),
  ];
  // no Referer (a server, or a page with referrerPolicy "no-referrer"), or another site's
  for (const r of await Promise.all(calls({}))) {
    assert.equal(r.status, 403);
    assert.deepEqual(r.json, blockedBody('<empty>'));
  }
  for (const referer of ['https://roadmap.example/app/', 'http://127.0.0.1.evil.example/', 'https://localhost:5173/']) {
    for (const r of await Promise.all(calls({ referer }))) {
      assert.equal(r.status, 403, referer);
      assert.deepEqual(r.json, blockedBody(referer));
    }
  }
  // any page of any origin on 127.0.0.1 or localhost
  for (const referer of ['http://127.0.0.1:8080/', 'http://localhost:5173/www/index.html', 'http://127.0.0.1/']) {
    for (const r of await Promise.all(calls({ referer }))) assert.equal(r.status, 200, referer);
  }
  // the browser sends no key on a preflight, and Referer is not a header it asks for: the preflight passes as before
  const origin = 'https://roadmap.example';
  const pre = await fetch(`${env.url}/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse`, {
    method: 'OPTIONS',
    headers: { origin, referer: `${origin}/app/`, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-goog-api-key' },
  });
  assert.equal(pre.status, 200);
  assert.equal(pre.headers.get('access-control-allow-origin'), origin);
  assert.equal(pre.headers.get('access-control-allow-headers'), 'content-type,x-goog-api-key');
  // and the 403 itself is readable by the page
  const refused = await generate(env.url, { key, headers: { origin, referer: `${origin}/app/` }, body: userRequest('hi') });
  assert.equal(refused.status, 403);
  assert.equal(refused.headers.get('access-control-allow-origin'), origin);
  assert.equal(refused.headers.get('access-control-expose-headers'), 'vary,vary,vary,content-encoding,date,server,content-length');
  // as a scripted step: a key restricted to other websites, refused whatever the page's own address
  const scripted = 'scripted-site-key-0001';
  await script(env.url, scripted, [{ fault: 'key', as: 'site' }]);
  const s = await generate(env.url, { key: scripted, headers: { referer: 'http://127.0.0.1:8080/' }, body: userRequest('hi') });
  assert.equal(s.status, 403);
  assert.deepEqual(s.json, blockedBody('http://127.0.0.1:8080/'));
  assert.equal((await generate(env.url, { key: scripted, body: userRequest('hi') })).status, 200);
});
