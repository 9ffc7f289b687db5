// The built package on the current models (November 2026), which think by level: every request asks for the
// lowest level all of them accept ("low"; a budget of 0 is refused by all), and the roadmap comes out whole.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { requests } from '../../mock/control.mjs';
import { startMock } from '../../mock/gemini-mock.mjs';
import { problems } from '../../bench/checks.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));

test('gemini-3.8-flash, gemini-3.1-flash-lite, gemini-3.5-flash-lite and gemini-3.1-pro-preview: thinking level low, complete roadmaps', async () => {
  const { default: init, generateRoadmap } = await import(`${root}pkg/web/gemini_roadmap.js`);
  await init({ module_or_path: readFileSync(`${root}pkg/web/gemini_roadmap_bg.wasm`) });
  const mock = await startMock({ port: 0, quiet: true, followPrompt: true });
  try {
    for (const model of ['gemini-3.8-flash', 'gemini-3.1-flash-lite', 'gemini-3.5-flash-lite', 'gemini-3.1-pro-preview']) {
      for (const strategy of ['sequential', 'parallel']) {
        const key = `models-test-${model}-${strategy}`;
        const rm = await generateRoadmap({ apiKey: key, baseUrl: mock.url, role: 'DevOps Engineer', weeks: 6, log: false, model, strategy });
        assert.equal(problems(rm, 6), '', `${model} ${strategy}`);
        const sent = (await requests(mock.url, { key })).filter((r) => r.kind === 'generate' || r.kind === 'stream');
        assert.ok(sent.length >= 3, `${model} ${strategy}: ${sent.length} requests`);
        for (const r of sent) {
          assert.equal(r.status, 200, `${model} ${strategy}`);
          assert.deepEqual(r.generationConfig.thinkingConfig, { thinkingLevel: 'low' }, `${model} ${strategy}`);
        }
        assert.deepEqual(rm.warnings ?? [], [], `${model} ${strategy}: no thinking settings were refused`);
      }
    }
  } finally {
    await mock.close();
  }
});
