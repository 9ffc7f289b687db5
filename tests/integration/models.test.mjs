// The built package on the current models (November 2026), which think by level: every request asks for the
// least thinking the model allows (a Flash-Lite "minimal", a Flash or Pro "low"; a budget of 0 is refused by all),
// and the roadmap comes out whole.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { requests } from '../../mock/control.mjs';
import { startMock } from '../../mock/gemini-mock.mjs';
import { problems } from '../../bench/checks.mjs';
import { loadWebPackage } from './helpers.mjs';

test('gemini-3.8-flash, gemini-3.1-flash-lite, gemini-3.5-flash-lite, gemini-3.1-pro-preview and the -latest aliases: the lowest thinking level each takes, complete roadmaps', async () => {
  const { generateRoadmap } = await loadWebPackage();
  const mock = await startMock({ port: 0, quiet: true, followPrompt: true });
  try {
    const models = ['gemini-3.8-flash', 'gemini-3.1-flash-lite', 'gemini-3.5-flash-lite', 'gemini-3.1-pro-preview',
      // Google's moving aliases, served by the mock as the model each points at.
      'gemini-flash-latest', 'gemini-flash-lite-latest', 'gemini-pro-latest'];
    for (const model of models) {
      for (const strategy of ['sequential', 'parallel']) {
        const key = `models-test-${model}-${strategy}`;
        const rm = await generateRoadmap({ apiKey: key, baseUrl: mock.url, role: 'DevOps Engineer', weeks: 6, log: false, model, strategy });
        assert.equal(problems(rm, 6), '', `${model} ${strategy}`);
        const sent = (await requests(mock.url, { key })).filter((r) => r.kind === 'generate' || r.kind === 'stream');
        assert.ok(sent.length >= 3, `${model} ${strategy}: ${sent.length} requests`);
        for (const r of sent) {
          assert.equal(r.status, 200, `${model} ${strategy}`);
          const level = model.includes('flash-lite') ? 'minimal' : 'low';
          assert.deepEqual(r.generationConfig.thinkingConfig, { thinkingLevel: level }, `${model} ${strategy}`);
          assert.equal(r.generationConfig.temperature, undefined, `${model} ${strategy}: Gemini 3 keeps its default temperature`);
        }
        assert.deepEqual(rm.warnings ?? [], [], `${model} ${strategy}: no thinking settings were refused`);
      }
    }
  } finally {
    await mock.close();
  }
});

test('gemini-2.5-flash routed to gemini-3.5-flash-lite (announced from 2026-12-01): its budget is refused once, then the run completes', async () => {
  const { generateRoadmap } = await loadWebPackage();
  const mock = await startMock({ port: 0, quiet: true, followPrompt: true, routes: { 'gemini-2.5-flash': 'gemini-3.5-flash-lite' } });
  try {
    for (const strategy of ['sequential', 'parallel']) {
      const key = `models-test-routed-${strategy}`;
      const rm = await generateRoadmap({ apiKey: key, baseUrl: mock.url, model: 'gemini-2.5-flash', role: 'DevOps Engineer', weeks: 9, log: false, strategy });
      assert.equal(problems(rm, 9), '', strategy);
      const sent = (await requests(mock.url, { key })).filter((r) => r.kind === 'generate' || r.kind === 'stream');
      assert.ok(sent.every((r) => r.model === 'gemini-2.5-flash' && r.routedTo === 'gemini-3.5-flash-lite'), strategy);
      // The first request (the outline; every other waits for its plan) is refused for its thinkingBudget 0;
      // no later request carries thinking settings.
      assert.deepEqual(sent.map((r) => r.status).filter((s) => s !== 200), [400], strategy);
      assert.equal(sent[0].status, 400, strategy);
      assert.ok(sent.slice(1).every((r) => r.generationConfig.thinkingConfig === undefined), strategy);
      assert.match(JSON.stringify(rm.warnings), /refused the thinking settings/, strategy);
    }
  } finally {
    await mock.close();
  }
});


test('a model that refuses bounded arrays of objects in a schema (the mock\'s boundedObjectArrays 1): the first refusal drops the counts for the run, which completes', async () => {
  const { countBoundedObjectArrays } = await import('../../mock/validate.mjs');
  const { generateRoadmap } = await loadWebPackage();
  const mock = await startMock({ port: 0, quiet: true, followPrompt: true, boundedObjectArrays: 1 });
  try {
    for (const strategy of ['sequential', 'parallel']) {
      const key = `models-test-bounded-${strategy}`;
      const rm = await generateRoadmap({ apiKey: key, baseUrl: mock.url, model: 'gemini-3.8-flash', role: 'DevOps Engineer', weeks: 12, log: false, strategy });
      assert.equal(problems(rm, 12), '', strategy);
      const sent = (await requests(mock.url, { key })).filter((r) => r.kind === 'generate' || r.kind === 'stream');
      const bounds = sent.map((r) => countBoundedObjectArrays(r.generationConfig.responseJsonSchema));
      // The outline (every batch waits for its plan) is the one request refused, and the only one sent with the
      // counts of its arrays of objects; every later schema has none, and the run pays one request for it.
      assert.deepEqual(sent.map((r) => r.status).filter((s) => s !== 200), [400], strategy);
      assert.equal(sent[0].status, 400, strategy);
      assert.equal(bounds[0], 2, strategy);
      assert.deepEqual(bounds.slice(1).filter((n) => n > 0), [], strategy);
      assert.equal(rm.usage.requests, sent.length + 1, `${strategy}: the model lookup and every generate request`);
      assert.equal(rm.warnings.filter((w) => /refused the response schema/.test(w)).length, 1, strategy);
    }
  } finally {
    await mock.close();
  }
});
