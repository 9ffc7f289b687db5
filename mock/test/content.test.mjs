// Unit tests of the deterministic content generator (no server).
import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  parsePrompt, weekTitle, weekPhase, phasesFor, phaseCount, buildOutline, buildWeek, roleFamily,
  countTokens, renderAnswer, thoughtSummary,
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

test('parsePrompt: TASK: WEEK n DAYS a-b / DAY a (matched before TASK: WEEK n), ranges, clamping, defaults', () => {
  assert.deepEqual(parsePrompt('Role: SRE\nTotal weeks: 20\nTASK: WEEK 3 DAYS 2-4'),
    { kind: 'days', role: 'SRE', total: 20, from: 3, to: 3, dayFrom: 2, dayTo: 4, family: 'devops' });
  const days = (text) => { const t = parsePrompt(text); return [t.kind, t.from, t.to, t.dayFrom, t.dayTo]; };
  assert.deepEqual(days('TASK: WEEK 1 DAY 5'), ['days', 1, 1, 5, 5]);
  assert.deepEqual(days('task: week 2 days 3\u20135'), ['days', 2, 2, 3, 5], 'en dash, lower case');
  assert.deepEqual(days('TASK: WEEK 2 DAYS 3\u20145'), ['days', 2, 2, 3, 5], 'em dash');
  assert.deepEqual(days('TASK: WEEK 2 DAYS 3 to 5'), ['days', 2, 2, 3, 5]);
  assert.deepEqual(days('TASK: WEEK 2 DAYS 3..5'), ['days', 2, 2, 3, 5]);
  assert.deepEqual(days('TASK: WEEK 2 DAYS 6-2'), ['days', 2, 2, 2, 6], 'reversed days are swapped');
  assert.deepEqual(days('TASK: WEEK 2 DAYS 0-9'), ['days', 2, 2, 1, 7], 'days are clamped to 1..7');
  assert.deepEqual(days('TASK: WEEK 2 DAY 9'), ['days', 2, 2, 7, 7]);
  assert.equal(parsePrompt('TASK: WEEK 30 DAYS 1-3').total, 30, 'total defaults to cover the week');
  assert.equal(parsePrompt('TASK: WEEK 3 DAYS 1-3').total, 12);
  // TASK: WEEK n alone (and the WEEKS range) are still whole weeks, without day fields
  assert.deepEqual(parsePrompt('TASK: WEEK 3'),
    { kind: 'weeks', role: 'Software Engineer', total: 12, from: 3, to: 3, family: 'generic' });
  assert.deepEqual(days('TASK: WEEKS 3-4'), ['weeks', 3, 4, undefined, undefined]);
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

const ROLE_HEAD = 'Role: DevOps Engineer\nTotal weeks: 10\n';
const daysTask = (n, range) => parsePrompt(`${ROLE_HEAD}TASK: WEEK ${n} ${range}`);
const answer = (task, step = null, json = true) => renderAnswer(task, { json, step });

test('a days answer is exactly days a..b of the whole-week answer; the parts make up the week', () => {
  for (const n of [1, 4, 10]) {
    const week = JSON.parse(answer(parsePrompt(`${ROLE_HEAD}TASK: WEEK ${n}`))).weeks[0];
    for (const [a, b] of [[1, 7], [1, 3], [4, 5], [6, 7], [7, 7]]) {
      const text = answer(daysTask(n, a === b ? `DAY ${a}` : `DAYS ${a}-${b}`));
      const data = JSON.parse(text);
      assert.deepEqual(Object.keys(data), ['days']);
      assert.deepEqual(data.days, week.days.slice(a - 1, b), `week ${n} days ${a}-${b}`);
      assert.equal(text, JSON.stringify(data, null, 2), 'pretty-printed like the other kinds');
    }
    const parts = [[1, 2], [3, 4], [5, 7]].flatMap(([a, b]) => JSON.parse(answer(daysTask(n, `DAYS ${a}-${b}`))).days);
    assert.deepEqual(parts, week.days);
  }
  // another role/total gives other days
  assert.notDeepEqual(JSON.parse(answer(parsePrompt('Role: Data Engineer\nTotal weeks: 10\nTASK: WEEK 1 DAYS 1-2'))).days,
    JSON.parse(answer(daysTask(1, 'DAYS 1-2'))).days);
  // without JSON mode the answer is fenced like the other kinds
  const plain = answer(daysTask(2, 'DAYS 2-3'), null, false);
  assert.equal(plain, `Here is the plan:\n\n\`\`\`json\n${answer(daysTask(2, 'DAYS 2-3'))}\n\`\`\`\n`);
});

test('structural faults on the days kind', () => {
  const t = daysTask(4, 'DAYS 3-5');
  const normal = JSON.parse(answer(t)).days;
  const run = (fault, extra = {}, task = t) => JSON.parse(answer(task, { fault, ...extra })).days;
  const nums = (days) => days.map((d) => d.day);
  assert.deepEqual(nums(normal), [3, 4, 5]);

  assert.deepEqual(nums(run('wrong-week-numbers')), [1, 2, 3]);
  assert.deepEqual(nums(run('wrong-week-numbers', {}, daysTask(4, 'DAYS 1-3'))), [2, 3, 4], 'a part starting at day 1 starts at 2');
  assert.deepEqual(nums(run('wrong-week-numbers', { offset: 2 })), [5, 6, 7]);

  assert.deepEqual(nums(run('missing-day')), [3, 4], 'the last day by default');
  assert.deepEqual(nums(run('missing-day', { day: 4 })), [3, 5]);
  assert.deepEqual(run('missing-day', {}, daysTask(4, 'DAY 6')), []);

  const dup = run('duplicate-week');
  assert.deepEqual(nums(dup), [3, 3, 4, 5]);
  assert.deepEqual(dup[1], normal[0]);

  const extra = run('extra-week');
  assert.deepEqual(nums(extra), [3, 4, 5, 6]);
  assert.deepEqual(extra[3], JSON.parse(answer(daysTask(4, 'DAY 6'))).days[0], 'day b+1 of the same week');
  const wrap = run('extra-week', {}, daysTask(4, 'DAYS 6-7'));
  assert.deepEqual(nums(wrap), [6, 7, 1]);
  assert.deepEqual(wrap[2], JSON.parse(answer(daysTask(5, 'DAY 1'))).days[0], 'day 1 of the next week');
  const last = run('extra-week', {}, parsePrompt('Total weeks: 3\nTASK: WEEK 3 DAY 7'));
  assert.deepEqual(nums(last), [7, 1], 'past the last week of the roadmap');

  const xss = run('xss');
  assert.equal(xss.length, 3);
  for (const d of xss) {
    assert.ok(d.title.includes('<img src=x onerror="window.__xss=1">'), d.title);
    assert.ok(d.tasks[0].includes('<script>window.__xss=2</script>'));
    assert.ok(d.tasks.some((x) => x.includes('href="javascript:alert(1)"')));
    assert.ok(d.resources[0].includes('javascript:alert(1)'));
  }

  const py = answer(daysTask(4, 'DAYS 6-7'), { fault: 'python-literals' });
  assert.match(py, /: False\b/);
  assert.match(py, /: True\b/);
  assert.throws(() => JSON.parse(py));
  const fixed = JSON.parse(py.replace(/: False\b/g, ': false').replace(/: True\b/g, ': true')).days;
  assert.deepEqual(fixed.map((d) => [d.day, d.optional, d.completed]), [[6, false, false], [7, true, false]]);
  // the same extra day fields as the whole week gets
  const pyWeek = answer(parsePrompt(`${ROLE_HEAD}TASK: WEEK 4`), { fault: 'python-literals' });
  const weekFixed = JSON.parse(pyWeek.replace(/: False\b/g, ': false').replace(/: True\b/g, ': true').replace(/: None\b/g, ': null'));
  assert.deepEqual(fixed, weekFixed.weeks[0].days.slice(5, 7));
});

test('text faults on the days kind: fenced, commented, trailing-comma, single-quotes and prose', () => {
  const t = daysTask(2, 'DAYS 1-3');
  const normal = JSON.parse(answer(t));
  const fenced = answer(t, { fault: 'fenced' });
  assert.throws(() => JSON.parse(fenced));
  assert.deepEqual(JSON.parse(fenced.slice(fenced.indexOf('```json\n') + 8, fenced.lastIndexOf('\n```'))), normal);
  const commented = answer(t, { fault: 'commented' });
  assert.ok(commented.includes('//') && commented.includes('/*'));
  assert.throws(() => JSON.parse(commented));
  assert.deepEqual(JSON.parse(commented.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|\s)\/\/[^\n]*/g, '$1')), normal);
  const trailing = answer(t, { fault: 'trailing-comma' });
  assert.throws(() => JSON.parse(trailing));
  assert.deepEqual(JSON.parse(trailing.replace(/,(\s*[\]}])/g, '$1')), normal);
  const sq = answer(t, { fault: 'single-quotes' });
  assert.ok(sq.startsWith("{\n  'days': ["));
  assert.throws(() => JSON.parse(sq));
  // eslint-disable-next-line no-new-func
  assert.deepEqual(new Function(`return ${sq};`)(), normal);
  const prose = answer(t, { fault: 'prose' });
  assert.ok(!/[{}[\]]/.test(prose), prose);
  assert.match(prose, /days 1 to 3 of week 2\b/);
  assert.ok(prose.includes(weekTitle('DevOps Engineer', 2, 10)));
  assert.match(answer(daysTask(2, 'DAY 4'), { fault: 'prose' }), /day 4 of week 2\b/);
});

test('thoughtSummary for the days kind', () => {
  assert.match(thoughtSummary(daysTask(3, 'DAYS 2-4')), /^\*\*Planning days 2-4 of week 3\*\*\n\n.*DevOps Engineer/);
  assert.match(thoughtSummary(daysTask(1, 'DAY 7')), /^\*\*Planning days 7-7 of week 1\*\*/);
  assert.match(thoughtSummary(parsePrompt('TASK: WEEK 3')), /^\*\*Planning weeks 3-3\*\*/);
});
