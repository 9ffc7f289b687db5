// Unit tests of the deterministic content generator (no server).
import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  parsePrompt, weekTitle, weekPhase, phasesFor, phaseCount, buildOutline, buildWeek, roleFamily,
  countTokens, renderAnswer,
} from '../content.mjs';
import { chunkSizes } from '../gemini-mock.mjs';

test('parsePrompt: the TASK forms, en-dash ranges, defaults and clamping', () => {
  assert.deepEqual(parsePrompt('Role: SRE\nTotal weeks: 20\nTASK: OUTLINE'),
    { kind: 'outline', role: 'SRE', total: 20, from: null, to: null, family: 'devops' });
  assert.deepEqual(
    [parsePrompt('TASK: WEEKS 4\u20136').from, parsePrompt('TASK: WEEKS 4\u20136').to], [4, 6]);
  assert.equal(parsePrompt('task: week 9').kind, 'weeks');
  assert.equal(parsePrompt('TASK: WEEK 9').from, 9);
  const d = parsePrompt('TASK: OUTLINE');
  assert.equal(d.role, 'Software Engineer');
  assert.equal(d.total, 12);
  assert.equal(parsePrompt('TASK: WEEKS 30-32').total, 32, 'total defaults to cover the requested weeks');
  assert.equal(parsePrompt('Total weeks: 500\nTASK: OUTLINE').total, 104);
  assert.equal(parsePrompt('How are you?').kind, 'chat');
  assert.equal(parsePrompt('TASK: WEEKS 6-4').from, 4);
  assert.equal(parsePrompt('anything', 'Role: Data Analyst').role, 'Data Analyst');
  assert.equal(parsePrompt('Role: UX Writer', 'Role: Data Analyst').role, 'UX Writer', 'user turn wins over systemInstruction');
});

test('role families', () => {
  const cases = {
    'DevOps Engineer': 'devops', 'Site Reliability Engineer': 'devops', 'Cloud Architect': 'devops',
    'React Developer': 'frontend', 'Front-end Engineer': 'frontend',
    'Data Engineer': 'data', 'BI Analyst': 'data',
    'Data Scientist': 'ml', 'ML Engineer': 'ml', 'AI Researcher': 'ml',
    'Cloud Security Engineer': 'security', 'Penetration Tester': 'security',
    'Software Engineer': 'generic', 'Nurse': 'generic',
  };
  for (const [role, fam] of Object.entries(cases)) assert.equal(roleFamily(role), fam, role);
});

test('phases: 3-6, contiguous, ordered, scaled to the length', () => {
  assert.equal(phaseCount(1), 1);
  assert.equal(phaseCount(2), 2);
  assert.equal(phaseCount(4), 3);
  assert.equal(phaseCount(12), 4);
  assert.equal(phaseCount(24), 5);
  assert.equal(phaseCount(52), 6);
  for (const total of [1, 3, 7, 12, 26, 52, 104]) {
    const ph = phasesFor('Frontend Developer', total);
    assert.equal(ph[0].startWeek, 1);
    assert.equal(ph.at(-1).endWeek, total);
    for (let i = 1; i < ph.length; i++) assert.equal(ph[i].startWeek, ph[i - 1].endWeek + 1);
  }
});

test('week titles are pure functions of (role, week, total) and never repeat, even at 104 weeks', () => {
  for (const role of ['DevOps Engineer', 'Frontend Developer', 'Data Engineer', 'ML Engineer', 'Security Analyst', 'Teacher']) {
    for (const total of [12, 52, 104]) {
      const titles = Array.from({ length: total }, (_, i) => weekTitle(role, i + 1, total));
      assert.equal(new Set(titles).size, total, `${role} ${total}`);
      assert.deepEqual(titles, Array.from({ length: total }, (_, i) => weekTitle(role, i + 1, total)));
    }
    const o = buildOutline(role, 20);
    for (const w of o.weeks) {
      const body = buildWeek(role, w.week, 20);
      assert.equal(body.title, w.title);
      assert.equal(body.phase, w.phase);
      assert.equal(weekPhase(role, w.week, 20), w.phase);
    }
  }
});

test('week bodies: 7 days, 3-5 tasks, 1-3 resources, ~180-220 tokens per day on average', () => {
  let dayTokens = 0;
  let days = 0;
  for (let w = 1; w <= 24; w++) {
    const week = buildWeek('Machine Learning Engineer', w, 24);
    assert.deepEqual(week.days.map((d) => d.day), [1, 2, 3, 4, 5, 6, 7]);
    for (const d of week.days) {
      assert.ok(d.tasks.length >= 3 && d.tasks.length <= 5);
      assert.ok(d.resources.length >= 1 && d.resources.length <= 3);
      assert.equal(new Set(d.tasks).size, d.tasks.length);
    }
    const text = renderAnswer(parsePrompt(`Role: Machine Learning Engineer\nTotal weeks: 24\nTASK: WEEK ${w}`), { json: true });
    dayTokens += countTokens(text);
    days += 7;
  }
  const avg = dayTokens / days;
  assert.ok(avg >= 180 && avg <= 220, `avg ${avg}`);
});

test('stream chunk sizes: small first chunk then 150-400, deterministic and covering the text', () => {
  const text = renderAnswer(parsePrompt('TASK: WEEKS 1-2'), { json: true });
  const a = chunkSizes(text);
  assert.deepEqual(a, chunkSizes(text));
  assert.ok(a[0] >= 8 && a[0] < 40);
  assert.ok(a.slice(1).every((s) => s >= 150 && s <= 400));
  assert.ok(a.reduce((x, y) => x + y, 0) >= text.length);
});

test('countTokens is ceil(code points / 4)', () => {
  assert.equal(countTokens(''), 0);
  assert.equal(countTokens('abc'), 1);
  assert.equal(countTokens('abcd'), 1);
  assert.equal(countTokens('abcde'), 2);
  assert.equal(countTokens('\u{1F600}\u{1F600}\u{1F600}\u{1F600}\u{1F600}'), 2);
});
