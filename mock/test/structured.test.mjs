// Structured output: an answer follows the request's response schema, not what the mock had in mind.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { useMock } from '../test-support.mjs';
import { generate, responseText, roadmapPrompt, userRequest } from '../control.mjs';
import { conform, instanceOf } from '../structured.mjs';
import { buildWeeks } from '../content.mjs';

const KEY = 'test-key-structured-01';
const env = useMock();

const ask = async (text, gc) => {
  const r = await generate(env.url, { key: KEY, model: 'gemini-2.5-flash', body: userRequest(text, { thinkingConfig: { thinkingBudget: 0 }, ...gc }) });
  assert.equal(r.status, 200, r.text.slice(0, 300));
  return JSON.parse(responseText(r.json));
};

const STR = { type: 'string' };
const INT = { type: 'integer' };
const object = (properties, required = Object.keys(properties)) => ({ type: 'object', properties, required });
const DAY = object({ day: INT, title: STR, tasks: { type: 'array', items: STR }, resources: { type: 'array', items: STR }, hours: { type: 'number' } });
const WEEK = object({ week: INT, title: STR, phase: STR, days: { type: 'array', items: DAY, minItems: 7, maxItems: 7 } });

test('a schema that names other fields gets an answer with those fields, whatever the prompt asked for', async () => {
  const schema = object({ foo: STR, n: { type: 'integer', minimum: 3 } });
  const v = await ask(roadmapPrompt({ task: 'WEEK 1' }), { responseMimeType: 'application/json', responseJsonSchema: schema });
  assert.deepEqual(Object.keys(v), ['foo', 'n']);
  assert.equal(typeof v.foo, 'string');
  assert.ok(Number.isInteger(v.n) && v.n >= 3);
});

test('an answer that follows the schema comes back as the mock wrote it; a field the schema leaves out is not written', async () => {
  const schema = object({ weeks: { type: 'array', items: WEEK, minItems: 2, maxItems: 2 } });
  const full = await ask(roadmapPrompt({ task: 'WEEKS 1-2' }), { responseMimeType: 'application/json', responseJsonSchema: schema });
  assert.deepEqual(full, buildWeeks('DevOps Engineer', 12, 1, 2));

  const noPhase = structuredClone(schema);
  delete noPhase.properties.weeks.items.properties.phase;
  noPhase.properties.weeks.items.required = ['week', 'title', 'days'];
  const cut = await ask(roadmapPrompt({ task: 'WEEKS 1-2' }), { responseMimeType: 'application/json', responseJsonSchema: noPhase });
  assert.equal(cut.weeks.length, 2);
  for (const w of cut.weeks) assert.ok(!('phase' in w), 'phase left out');
  assert.deepEqual(cut.weeks[0].days, full.weeks[0].days);
});

test('array bounds hold: maxItems cuts the weeks asked for, minItems writes more', async () => {
  const one = object({ weeks: { type: 'array', items: WEEK, maxItems: 1 } });
  assert.equal((await ask(roadmapPrompt({ task: 'WEEKS 1-3' }), { responseMimeType: 'application/json', responseJsonSchema: one })).weeks.length, 1);
  const four = object({ weeks: { type: 'array', items: WEEK, minItems: 4 } });
  const v = await ask(roadmapPrompt({ task: 'WEEKS 1-3' }), { responseMimeType: 'application/json', responseJsonSchema: four });
  assert.equal(v.weeks.length, 4);
  assert.deepEqual(Object.keys(v.weeks[3]), ['week', 'title', 'phase', 'days']);
});

test('responseSchema (the Schema proto): capital types, enum, propertyOrdering; a chat answer follows it too', async () => {
  const schema = {
    type: 'OBJECT',
    properties: { mood: { type: 'STRING', enum: ['calm', 'busy'] }, reply: { type: 'STRING' }, score: { type: 'NUMBER', nullable: true } },
    required: ['mood', 'reply'],
    propertyOrdering: ['reply', 'mood'],
  };
  const v = await ask('Hello there, how are you?', { responseMimeType: 'application/json', responseSchema: schema });
  assert.deepEqual(Object.keys(v), ['reply', 'mood']);
  assert.match(v.reply, /^Mock reply/);
  assert.equal(v.mood, 'calm');
});

test('without a schema (or outside JSON mode) the answer is the mock\'s own', async () => {
  const v = await ask(roadmapPrompt({ task: 'WEEKS 1-2' }), { responseMimeType: 'application/json' });
  assert.deepEqual(v, buildWeeks('DevOps Engineer', 12, 1, 2));
});

test('conform: types are coerced where Gemini would write the schema\'s type, anyOf picks the branch that fits', () => {
  assert.equal(conform(2.6, INT), 3);
  assert.equal(conform('7', { type: 'number' }), 7);
  assert.equal(conform(5, STR), '5');
  assert.equal(conform(9, { type: 'integer', maximum: 4 }), 4);
  assert.deepEqual(conform({ a: 1 }, { type: 'array', items: STR }), ['mock text']);
  assert.equal(conform(null, { type: ['string', 'null'] }), null);
  assert.equal(conform(3, { anyOf: [STR, INT] }), 3);
  assert.deepEqual(conform({ x: 1, y: 2 }, object({ y: INT, z: STR }, ['y'])), { y: 2 });
  assert.deepEqual(instanceOf(object({ d: DAY })), { d: { day: 1, title: 'mock text', tasks: ['mock text'], resources: ['mock text'], hours: 1.5 } });
});
