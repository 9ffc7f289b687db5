// Prompt-following mode: week titles and phases come from what the request shows (mock/README.md).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';

import { startMock } from '../gemini-mock.mjs';
import { generate, requests, responseText, setConfig, spawnMock } from '../control.mjs';
import { buildWeeks, buildDays, INVENTED_TITLE, INVENTED_PHASE } from '../content.mjs';

const KEY = 'test-key-follow-0001';
const SYSTEM = 'You are an expert curriculum designer. Follow the plan you are given.';
let on; // a mock with the mode on
let off; // a mock with the default settings

before(async () => {
  on = await startMock({ port: 0, quiet: true, followPrompt: true });
  off = await startMock({ port: 0, quiet: true });
});
after(async () => { await on.close(); await off.close(); });

const PHASES = [['Alpha Phase', 1, 4], ['Beta Phase', 5, 8], ['Gamma Phase', 9, 12]];
const title = (w) => `Topic ${w}: Skill ${w}`;

/** A batch prompt in the shape src/roadmap/prompt.rs writes (weeks_prompt_with). */
function batchPrompt({ first, last, total = 12, listed = [], phases = PHASES, role = 'DevOps Engineer', extra = '' }) {
  let s = `Role: ${role}\nTotal weeks: ${total}\n`;
  if (phases.length) s += '\nThe plan:\n' + phases.map(([n, a, b]) => `- ${n} (weeks ${a}-${b}): learn ${n}\n`).join('');
  if (listed.length) s += 'Week titles:\n' + listed.map((w) => `${w}. ${title(w)}\n`).join('');
  s += extra;
  const task = first === last ? `WEEK ${first}` : `WEEKS ${first}-${last}`;
  return `${s}\nWrite weeks ${first}-${last} in full. Return {"weeks":[...]} with exactly ${last - first + 1} weeks.\n\nTASK: ${task}`;
}

async function ask(mock, contents, { json = true, key = KEY } = {}) {
  const body = { contents, systemInstruction: { parts: [{ text: SYSTEM }] } };
  if (json) body.generationConfig = { responseMimeType: 'application/json' };
  const res = await generate(mock.url, { key, model: 'gemini-2.5-flash', body });
  assert.equal(res.status, 200, res.text);
  return responseText(res.json);
}
const user = (text) => ({ role: 'user', parts: [{ text }] });
const model = (text) => ({ role: 'model', parts: [{ text }] });
const phaseIndex = (name) => PHASES.findIndex(([n]) => n === name);
const repeated = (titles) => titles.filter((t, i) => titles.indexOf(t) !== i);

test('follow mode: a weeks request whose prompt lists the titles gets exactly those titles and phases', async () => {
  const listed = Array.from({ length: 12 }, (_, i) => i + 1);
  const weeks = JSON.parse(await ask(on, [user(batchPrompt({ first: 4, last: 7, listed }))])).weeks;
  assert.deepEqual(weeks.map((w) => w.week), [4, 5, 6, 7]);
  assert.deepEqual(weeks.map((w) => w.title), [4, 5, 6, 7].map(title));
  assert.deepEqual(weeks.map((w) => w.phase), ['Alpha Phase', 'Beta Phase', 'Beta Phase', 'Beta Phase']);
  // the days are the default ones, except that their text about the topic follows the title
  const def = buildWeeks('DevOps Engineer', 12, 4, 7).weeks;
  weeks.forEach((w, i) => {
    assert.equal(w.days.length, 7);
    assert.deepEqual(w.days.map((d) => d.hours), def[i].days.map((d) => d.hours));
    assert.deepEqual(w.days.map((d) => d.resources), def[i].days.map((d) => d.resources));
    assert.match(w.days[0].title, new RegExp(title(w.week)), 'day 1 titles use {topic}');
  });
  // the neighbour lines of the parallel strategy, and a days request (the first week written in parts)
  const neighbours = batchPrompt({ first: 6, last: 6, listed: [5, 6, 7],
    extra: '\nWeek 5 (Before (Part 2), phase Beta Phase) comes just before and is written separately: start there.\n' });
  const one = JSON.parse(await ask(on, [user(neighbours)])).weeks[0];
  assert.deepEqual([one.week, one.title, one.phase], [6, title(6), 'Beta Phase']);
  const daysPrompt = 'Role: DevOps Engineer\nTotal weeks: 12\n\nThe plan:\n- Alpha Phase (weeks 1-4): x\n\n' +
    'Week 1 (Shown Title (Part 2), phase Alpha Phase) is written in parts, by separate requests at the same time.\n' +
    '\nWrite days 1-3 of week 1 in full.\n\nTASK: WEEK 1 DAYS 1-3';
  const days = JSON.parse(await ask(on, [user(daysPrompt)])).days;
  assert.deepEqual(days.map((d) => d.day), [1, 2, 3]);
  assert.match(days[0].title, /Shown Title \(Part 2\)/);
  const log = await requests(on.url, { key: KEY });
  assert.deepEqual(log.slice(-3).map((e) => e.task.invented), [[], [], []]);
});

test('follow mode: a request that shows no titles gets colliding invented titles (a no-repeat check fails)', async () => {
  // no titles and no plan: every week is "Practice week" in phase "General practice"
  let weeks = JSON.parse(await ask(on, [user(batchPrompt({ first: 4, last: 6, phases: [] }))])).weeks;
  assert.deepEqual(weeks.map((w) => w.title), [INVENTED_TITLE, INVENTED_TITLE, INVENTED_TITLE]);
  assert.deepEqual(weeks.map((w) => w.phase), [INVENTED_PHASE, INVENTED_PHASE, INVENTED_PHASE]);
  assert.ok(repeated(weeks.map((w) => w.title)).length > 0);
  // the plan's phases but only some titles: the unlisted weeks are named after their phase
  weeks = JSON.parse(await ask(on, [user(batchPrompt({ first: 3, last: 7, listed: [3, 6] }))])).weeks;
  assert.deepEqual(weeks.map((w) => w.title), [title(3), 'Alpha Phase', 'Beta Phase', title(6), 'Beta Phase']);
  assert.deepEqual(repeated(weeks.map((w) => w.title)), ['Beta Phase']);
  // batches that each miss the titles collide with each other across batches, and phases go out of order
  const a = JSON.parse(await ask(on, [user(batchPrompt({ first: 1, last: 2, listed: [1, 2] }))])).weeks;
  const b = JSON.parse(await ask(on, [user(batchPrompt({ first: 9, last: 10, phases: [] }))])).weeks;
  const all = [...a, ...b];
  assert.deepEqual(all.map((w) => w.title), [title(1), title(2), INVENTED_TITLE, INVENTED_TITLE]);
  assert.deepEqual(repeated(all.map((w) => w.title)), [INVENTED_TITLE]);
  assert.ok(all.map((w) => w.phase).some((p) => phaseIndex(p) < 0), 'an invented phase is in no plan');
  const log = await requests(on.url, { key: KEY });
  assert.deepEqual(log.slice(-4).map((e) => e.task.invented), [[4, 5, 6], [4, 5, 7], [], [9, 10]]);
});

test('follow mode: titles are read from an earlier model turn\'s outline JSON (full-history chats)', async () => {
  const outline = {
    phases: [{ name: 'History One', startWeek: 1, endWeek: 6, goal: 'g' }, { name: 'History Two', startWeek: 7, endWeek: 12, goal: 'g' }],
    weeks: Array.from({ length: 12 }, (_, i) => ({ week: i + 1, title: `Remembered ${i + 1}`, phase: i < 6 ? 'History One' : 'History Two' })),
  };
  const last = batchPrompt({ first: 5, last: 8, phases: [] }); // lists neither titles nor phases
  const contents = [
    user('Role: DevOps Engineer\nTotal weeks: 12\n\nPlan a 12-week learning roadmap.\n\nTASK: OUTLINE'),
    model(JSON.stringify(outline, null, 2)),
    user(last),
  ];
  let weeks = JSON.parse(await ask(on, contents)).weeks;
  assert.deepEqual(weeks.map((w) => w.title), ['Remembered 5', 'Remembered 6', 'Remembered 7', 'Remembered 8']);
  assert.deepEqual(weeks.map((w) => w.phase), ['History One', 'History One', 'History Two', 'History Two']);
  // the same history, without the model turn, invents
  weeks = JSON.parse(await ask(on, [contents[0], user(last)])).weeks;
  assert.deepEqual(weeks.map((w) => w.title), [INVENTED_TITLE, INVENTED_TITLE, INVENTED_TITLE, INVENTED_TITLE]);
  // a model turn that is not valid JSON (fenced and cut mid-entry) is read entry by entry
  const cut = '```json\n' + JSON.stringify(outline, null, 2).slice(0, JSON.stringify(outline, null, 2).indexOf('"Remembered 7"') + 8);
  weeks = JSON.parse(await ask(on, [contents[0], model(cut), user(last)])).weeks;
  assert.deepEqual(weeks.map((w) => w.title), ['Remembered 5', 'Remembered 6', 'History Two', 'History Two']);
});

// sha256 and length of four answers, recorded with the mock before the mode existed.
const GOLDEN = [
  'd6a89d516d1a955ed5bb15275368fd66f11bc0be17bd22dedc9540b8484aa871 17703',
  '753733a4318ca6e875efbd1f6c03c68908f00e833408b147587cbc661c24dbf6 2268',
  '99136c3010b28f962589e6fba88d9230f50777a5168fefea0fdfcb493a6599cf 6059',
  'bc6760be14c03fe738be28061acfd62ee2a284ac838798a012882c5cece5d688 17581',
];
const GOLDEN_REQUESTS = [
  { json: true, contents: [
    user('Role: DevOps Engineer\nTotal weeks: 12\nTASK: OUTLINE'),
    model('{"weeks":[{"week":4,"title":"Other 4","phase":"P"}]}'),
    user('Role: DevOps Engineer\nTotal weeks: 12\n\nThe plan:\n- Alpha (weeks 1-6): a\n- Beta (weeks 7-12): b\nWeek titles:\n' +
      Array.from({ length: 12 }, (_, i) => `${i + 1}. Topic ${i + 1}: Skill ${i + 1}`).join('\n') + '\n\nTASK: WEEKS 4-6')] },
  { json: true, contents: [user('Role: Data Engineer\nTotal weeks: 12\n\nThe plan:\n- Alpha (weeks 1-12): a\n\n' +
    'Week 2 (Custom Two, phase Alpha) is written in parts.\n\nTASK: WEEK 2 DAYS 3-5')] },
  { json: false, contents: [user('Role: Nurse\nTotal weeks: 26\nTASK: WEEK 7')] },
  { json: true, contents: [user('Role: ML Engineer\nTotal weeks: 26\nTASK: WEEKS 1-3')] },
];
async function goldenAnswers(mock) {
  const out = [];
  for (const r of GOLDEN_REQUESTS) {
    const body = { contents: r.contents, systemInstruction: { parts: [{ text: 'You are an expert.' }] },
      generationConfig: r.json ? { responseMimeType: 'application/json' } : {} };
    const res = await generate(mock.url, { key: KEY, model: 'gemini-2.5-flash', body });
    const t = responseText(res.json);
    out.push(`${crypto.createHash('sha256').update(t).digest('hex')} ${t.length}`);
  }
  return out;
}

test('mode off (the default): answers are byte-identical to before, whatever the prompt shows', async () => {
  assert.deepEqual(await goldenAnswers(off), GOLDEN);
  // a prompt listing other titles still gets the default buildWeek/buildDays output
  const listed = Array.from({ length: 12 }, (_, i) => i + 1);
  const text = await ask(off, [user(batchPrompt({ first: 4, last: 6, listed }))]);
  assert.equal(text, JSON.stringify(buildWeeks('DevOps Engineer', 12, 4, 6), null, 2));
  const days = await ask(off, [user('Role: DevOps Engineer\nTotal weeks: 12\nWeek 2 (Custom, phase X) is written in parts.\nTASK: WEEK 2 DAYS 3-5')]);
  assert.equal(days, JSON.stringify(buildDays('DevOps Engineer', 12, 2, 3, 5), null, 2));
  const log = await requests(off.url, { key: KEY });
  assert.ok(log.every((e) => !e.task || !('invented' in e.task)), 'no invented field without the mode');
});

test('follow mode is set per instance: /__mock/config turns it on and off, --follow-prompt at start', async () => {
  const m = await startMock({ port: 0, quiet: true });
  try {
    const prompt = [user(batchPrompt({ first: 2, last: 2, listed: [2] }))];
    const def = JSON.parse(await ask(m, prompt)).weeks[0].title;
    assert.notEqual(def, title(2));
    assert.equal((await setConfig(m.url, { followPrompt: true })).followPrompt, true);
    assert.equal(JSON.parse(await ask(m, prompt)).weeks[0].title, title(2));
    assert.equal((await setConfig(m.url, { followPrompt: false })).followPrompt, false);
    assert.deepEqual(await goldenAnswers(m), GOLDEN, 'turned off again, the answers are the default ones');
    await assert.rejects(setConfig(m.url, { followPrompt: 'yes' }), /followPrompt must be a boolean/);
  } finally {
    await m.close();
  }
  const { child, url } = await spawnMock(['--port', '0', '--quiet', '--follow-prompt']);
  try {
    assert.equal((await (await fetch(`${url}/__mock/config`)).json()).followPrompt, true);
    assert.equal(JSON.parse(await ask({ url }, [user(batchPrompt({ first: 3, last: 3, listed: [3] }))])).weeks[0].title, title(3));
  } finally {
    await new Promise((resolve) => { child.on('exit', resolve); child.kill('SIGTERM'); });
  }
});
