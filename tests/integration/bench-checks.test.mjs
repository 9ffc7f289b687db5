// The bench's validity check (bench/checks.mjs) on roadmaps from the built package's parallel strategy, against
// the mock in prompt-following mode: valid as generated (so every prompt showed the titles of the weeks it asked
// for), and failing once a week repeats a day title or a week title.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { requests } from '../../mock/control.mjs';
import { startMock } from '../../mock/gemini-mock.mjs';
import { problems } from '../../bench/checks.mjs';
import { loadWebPackage } from './helpers.mjs';

test('problems(): a parallel roadmap is valid; a week that repeats a day title is not', async () => {
  const { generateRoadmap } = await loadWebPackage();
  const mock = await startMock({ port: 0, quiet: true, followPrompt: true });
  try {
    for (const weeks of [13, 26]) {
      const long = await generateRoadmap({
        apiKey: 'bench-checks-test-key', baseUrl: mock.url, role: 'DevOps Engineer', weeks, log: false,
        strategy: 'parallel', concurrency: 4,
      });
      assert.equal(problems(long, weeks), '', `${weeks} weeks`);
      const invented = (await requests(mock.url)).filter((r) => r.task?.invented?.length);
      assert.deepEqual(invented.map((r) => r.task), [], 'every request showed the titles of the weeks it asked for');
    }
    const rm = await generateRoadmap({
      apiKey: 'bench-checks-test-key', baseUrl: mock.url, role: 'DevOps Engineer', weeks: 4, log: false,
      strategy: 'parallel', concurrency: 4,
    });
    assert.equal(problems(rm, 4), '');
    // A week titled like another, as a model that was not shown the plan would write it.
    const twice = structuredClone(rm);
    twice.weeks[2].title = twice.weeks[1].title;
    assert.notEqual(problems(twice, 4), '');

    // Week 1 as three independent parts could write it: days 1 and 4 with the same plan.
    const copy = structuredClone(rm);
    copy.weeks[0].days[3].title = ` ${copy.weeks[0].days[0].title.toUpperCase()} `;
    assert.match(problems(copy, 4), /^week 1 repeats day titles \(".+"\)$/);
    // The same title in two different weeks is no repeat.
    const across = structuredClone(rm);
    across.weeks[1].days[0].title = across.weeks[0].days[0].title;
    assert.equal(problems(across, 4), '');
  } finally {
    await mock.close();
  }
});
