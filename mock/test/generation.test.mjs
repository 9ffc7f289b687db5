// Generation: usage accounting, thinking, output limits, roadmap content, streaming.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { useMock } from '../test-support.mjs';
import { generate, parseSSE, requests, responseText, roadmapPrompt, script, userRequest } from '../control.mjs';
import { USAGE_FORMS } from '../gemini-mock.mjs';

const KEY = 'test-key-generation-01';
const JSON_MODE = { responseMimeType: 'application/json' };
const env = useMock();

const ask = async (model, text, gc, extra) => {
  const r = await generate(env.url, { key: KEY, model, body: userRequest(text, gc, extra) });
  assert.equal(r.status, 200, r.text.slice(0, 300));
  return r.json;
};

test('the log holds each request body\'s prompt characters (code points, thoughts excluded), and the charge is ceil(chars/4) of them', async () => {
  const key = 'test-key-generation-prompt-chars';
  const body = {
    system_instruction: { parts: [{ text: 'Plan in JSON. ' }] },
    contents: [
      { role: 'user', parts: [{ text: 'Wochen 1–3, bitte 🚀' }] },
      { role: 'model', parts: [{ text: 'secret plan', thought: true }, { text: 'Gern.' }] },
      { role: 'user', parts: [{ text: 'Weiter: 𝔚𝔬𝔠𝔥𝔢 4' }] },
    ],
  };
  const r = await generate(env.url, { key, model: 'gemini-2.5-flash-lite', body });
  assert.equal(r.status, 200, r.text.slice(0, 300));
  const chars = [...'Plan in JSON. Wochen 1–3, bitte 🚀Gern.Weiter: 𝔚𝔬𝔠𝔥𝔢 4'].length;
  const [e] = await requests(env.url, { key });
  assert.equal(e.promptChars, chars);
  assert.equal(e.promptTokens, Math.ceil(chars / 4));
  assert.equal(r.json.usageMetadata.promptTokenCount, Math.ceil(chars / 4));
  assert.ok(e.promptChars <= e.bodyBytes);
});

test('a response schema is charged as prompt tokens (its JSON text), by generateContent and countTokens alike, and the log counts it', async () => {
  const key = 'test-key-generation-schema-charge';
  const text = 'List three DevOps tools.';
  const responseJsonSchema = { type: 'object', properties: { tools: { type: 'array', items: { type: 'string' } } }, required: ['tools'] };
  const responseSchema = { type: 'OBJECT', properties: { tools: { type: 'ARRAY', items: { type: 'STRING' } } } };
  const plain = await generate(env.url, { key, model: 'gemini-2.5-flash-lite', body: userRequest(text) });
  assert.equal(plain.status, 200, plain.text.slice(0, 300));
  assert.equal(plain.json.usageMetadata.promptTokenCount, Math.ceil(text.length / 4));
  for (const schema of [{ responseJsonSchema }, { responseSchema }]) {
    const body = userRequest(text, { ...JSON_MODE, ...schema });
    const chars = text.length + JSON.stringify(Object.values(schema)[0]).length;
    const r = await generate(env.url, { key, model: 'gemini-2.5-flash-lite', body });
    assert.equal(r.status, 200, r.text.slice(0, 300));
    assert.equal(r.json.usageMetadata.promptTokenCount, Math.ceil(chars / 4), Object.keys(schema)[0]);
    const counted = await generate(env.url, {
      key, model: 'gemini-2.5-flash-lite', method: 'countTokens',
      body: { generateContentRequest: { model: 'models/gemini-2.5-flash-lite', ...body } },
    });
    assert.equal(counted.status, 200, counted.text.slice(0, 300));
    assert.equal(counted.json.totalTokens, Math.ceil(chars / 4));
  }
  const log = (await requests(env.url, { key })).filter((e) => e.kind === 'generate' && e.promptTokens != null);
  assert.equal(log.length, 3);
  assert.deepEqual(log.map((e) => e.promptTokens), log.map((e) => Math.ceil(e.promptChars / 4)));
  assert.ok(log[1].promptChars > log[0].promptChars + 40, JSON.stringify(log.map((e) => e.promptChars)));
  // a field given under both spellings: the one given last is read, by the charge and by the log alike
  const big = { type: 'object', properties: Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`field${i}`, { type: 'string' }])) };
  const small = { type: 'string' };
  const both = [
    { generationConfig: { ...JSON_MODE, responseJsonSchema: big, response_json_schema: small } },
    { generationConfig: { ...JSON_MODE, response_json_schema: small, responseJsonSchema: big } },
    { generationConfig: { ...JSON_MODE, responseJsonSchema: big }, generation_config: { ...JSON_MODE, responseJsonSchema: small } },
    { systemInstruction: { parts: [{ text: 'a long system instruction '.repeat(8) }] }, system_instruction: { parts: [{ text: 'short' }] } },
    { system_instruction: { parts: [{ text: 'short' }] }, systemInstruction: { parts: [{ text: 'a long system instruction '.repeat(8) }] } },
  ];
  for (const extra of both) {
    const r = await generate(env.url, { key: `${key}-both`, model: 'gemini-2.5-flash-lite', body: { ...userRequest(text), ...extra } });
    assert.equal(r.status, 200, r.text.slice(0, 300));
    const [e] = (await requests(env.url, { key: `${key}-both` })).slice(-1);
    assert.equal(e.promptTokens, Math.ceil(e.promptChars / 4), JSON.stringify(extra));
    assert.equal(r.json.usageMetadata.promptTokenCount, e.promptTokens);
    const si = extra.systemInstruction && Object.keys(extra).at(-1);
    if (si) assert.equal(e.systemInstruction, si === 'systemInstruction' ? extra.systemInstruction.parts[0].text : 'short');
  }
});

test('usageMetadata: promptTokenCount = ceil(chars/4) of systemInstruction + all turns; total = sum', async () => {
  const sys = 'You are a careful planner who answers in JSON. ';
  const body = {
    systemInstruction: { parts: [{ text: sys }] },
    contents: [
      { role: 'user', parts: [{ text: 'What should I learn?' }, { text: ' Keep it short.' }] },
      { role: 'model', parts: [{ text: 'Tell me your role.' }] },
      { role: 'user', parts: [{ text: 'I want a quick reply please.' }] },
    ],
  };
  const r = await generate(env.url, { key: KEY, model: 'gemini-2.5-flash-lite', body });
  const chars = sys.length + 'What should I learn?'.length + ' Keep it short.'.length + 'Tell me your role.'.length + 'I want a quick reply please.'.length;
  const u = r.json.usageMetadata;
  assert.equal(u.promptTokenCount, Math.ceil(chars / 4));
  assert.deepEqual(u.promptTokensDetails, [{ modality: 'TEXT', tokenCount: u.promptTokenCount }]);
  assert.equal(u.serviceTier, 'standard', 'Gemini names the tier that served the request (2026)');
  const text = responseText(r.json);
  assert.equal(u.candidatesTokenCount, Math.ceil(text.length / 4));
  assert.equal(u.totalTokenCount, u.promptTokenCount + u.candidatesTokenCount);
  assert.equal(u.thoughtsTokenCount, undefined);
  assert.equal(r.json.modelVersion, 'gemini-2.5-flash-lite');
  assert.match(r.json.responseId, /^[A-Za-z0-9_-]{16,}$/);
  assert.equal(r.json.candidates[0].index, 0);
  assert.equal(r.json.candidates[0].content.role, 'model');
});

test('2.5-flash thinks by default (dynamic, counted in total); thinkingBudget:0 disables it; a budget caps it', async () => {
  const prompt = roadmapPrompt({ task: 'WEEKS 1-1' });
  const dflt = await ask('gemini-2.5-flash', prompt, JSON_MODE);
  const u = dflt.usageMetadata;
  assert.equal(u.thoughtsTokenCount, Math.min(8192, 600 + Math.floor(u.promptTokenCount / 4)));
  assert.equal(u.totalTokenCount, u.promptTokenCount + u.candidatesTokenCount + u.thoughtsTokenCount);

  const off = await ask('gemini-2.5-flash', prompt, { ...JSON_MODE, thinkingConfig: { thinkingBudget: 0 } });
  assert.equal(off.usageMetadata.thoughtsTokenCount, undefined);
  assert.equal(off.usageMetadata.totalTokenCount, off.usageMetadata.promptTokenCount + off.usageMetadata.candidatesTokenCount);
  assert.equal(responseText(off), responseText(dflt));

  const capped = await ask('gemini-2.5-flash', prompt, { ...JSON_MODE, thinkingConfig: { thinkingBudget: 100 } });
  assert.equal(capped.usageMetadata.thoughtsTokenCount, 100);

  const lite = await ask('gemini-2.5-flash-lite', prompt, JSON_MODE);
  assert.equal(lite.usageMetadata.thoughtsTokenCount, undefined, 'flash-lite does not think by default');
  const pro = await ask('gemini-2.5-pro', prompt, JSON_MODE);
  assert.ok(pro.usageMetadata.thoughtsTokenCount > u.thoughtsTokenCount);
  const g3 = await ask('gemini-3.1-pro-preview', prompt, JSON_MODE);
  assert.equal(g3.usageMetadata.thoughtsTokenCount, 2000);
  const g3low = await ask('gemini-3.1-pro-preview', prompt, { ...JSON_MODE, thinkingConfig: { thinkingLevel: 'low' } });
  assert.equal(g3low.usageMetadata.thoughtsTokenCount, 300);
});

test('thinking tokens count against maxOutputTokens first; the answer is cut with MAX_TOKENS', async () => {
  const prompt = roadmapPrompt({ task: 'WEEKS 1-3' });
  const j = await ask('gemini-2.5-flash', prompt, { ...JSON_MODE, maxOutputTokens: 2000 });
  const u = j.usageMetadata;
  const T = Math.min(8192, 600 + Math.floor(u.promptTokenCount / 4));
  assert.equal(u.thoughtsTokenCount, T);
  assert.equal(u.candidatesTokenCount, 2000 - T);
  assert.equal(responseText(j).length, (2000 - T) * 4);
  assert.equal(j.candidates[0].finishReason, 'MAX_TOKENS');
  // same request without thinking gets 2000 visible tokens
  const nt = await ask('gemini-2.5-flash', prompt, { ...JSON_MODE, maxOutputTokens: 2000, thinkingConfig: { thinkingBudget: 0 } });
  assert.equal(nt.usageMetadata.candidatesTokenCount, 2000);
});

test('when thinking uses the whole budget the candidate has no parts and finishReason MAX_TOKENS', async () => {
  const j = await ask('gemini-2.5-flash', roadmapPrompt({ task: 'WEEKS 1-2' }), { ...JSON_MODE, maxOutputTokens: 300 });
  assert.deepEqual(j.candidates[0].content, { role: 'model' });
  assert.equal(j.candidates[0].finishReason, 'MAX_TOKENS');
  assert.equal(j.usageMetadata.thoughtsTokenCount, 300);
  assert.equal(j.usageMetadata.candidatesTokenCount, undefined);
  assert.equal(j.usageMetadata.totalTokenCount, j.usageMetadata.promptTokenCount + 300);
});

test('includeThoughts:true adds a thought part first', async () => {
  const j = await ask('gemini-2.5-flash', roadmapPrompt({ task: 'WEEKS 1-1' }), { ...JSON_MODE, thinkingConfig: { includeThoughts: true } });
  const parts = j.candidates[0].content.parts;
  assert.equal(parts.length, 2);
  assert.equal(parts[0].thought, true);
  assert.match(parts[0].text, /^\*\*Planning/);
  assert.equal(parts[1].thought, undefined);
  JSON.parse(parts[1].text);
});

test('12 weeks in one call under maxOutputTokens 8192 (2.0 Flash\'s limit) come back cut with MAX_TOKENS and JSON.parse fails', async () => {
  const j = await ask('gemini-2.5-flash-lite', roadmapPrompt({ task: 'WEEKS 1-12' }), { ...JSON_MODE, maxOutputTokens: 8192 });
  assert.equal(j.candidates[0].finishReason, 'MAX_TOKENS');
  assert.equal(j.usageMetadata.candidatesTokenCount, 8192);
  const text = responseText(j);
  assert.equal(text.length, 8192 * 4);
  assert.throws(() => JSON.parse(text), SyntaxError);
});

test('3 weeks come back complete: STOP, valid JSON, requested week numbers, 7 numbered days each', async () => {
  // under the 8,192-token cap that cuts 12 weeks
  const j = await ask('gemini-2.5-flash-lite', roadmapPrompt({ task: 'WEEKS 4-6' }), { ...JSON_MODE, maxOutputTokens: 8192 });
  assert.equal(j.candidates[0].finishReason, 'STOP');
  const text = responseText(j);
  assert.ok(j.usageMetadata.candidatesTokenCount < 8192);
  const data = JSON.parse(text);
  assert.deepEqual(Object.keys(data), ['weeks']);
  assert.deepEqual(data.weeks.map((w) => w.week), [4, 5, 6]);
  for (const w of data.weeks) {
    assert.equal(typeof w.title, 'string');
    assert.equal(typeof w.phase, 'string');
    assert.deepEqual(w.days.map((d) => d.day), [1, 2, 3, 4, 5, 6, 7]);
    for (const d of w.days) {
      assert.ok(d.title.length > 5);
      assert.ok(d.tasks.length >= 3 && d.tasks.length <= 5, `tasks ${d.tasks.length}`);
      assert.ok(d.resources.length >= 1 && d.resources.length <= 3, `resources ${d.resources.length}`);
      assert.ok(Number.isInteger(d.hours) && d.hours >= 1);
    }
  }
});

test('day bodies are realistic in size: about 180-220 tokens per day, ~1,400 per week', async () => {
  const j = await ask('gemini-2.5-flash', roadmapPrompt({ task: 'WEEKS 1-5', totalWeeks: 20, role: 'Frontend Developer' }), { ...JSON_MODE, thinkingConfig: { thinkingBudget: 0 } });
  const text = responseText(j);
  const perDay = j.usageMetadata.candidatesTokenCount / 35;
  assert.ok(perDay >= 180 && perDay <= 220, `per day ${perDay}`);
  const perWeek = Math.ceil(text.length / 4) / 5;
  assert.ok(perWeek >= 1250 && perWeek <= 1550, `per week ${perWeek}`);
});

test('outline titles equal the week-body titles and phases (12 weeks fetched in 4 calls)', async () => {
  const role = 'Data Engineer';
  const outline = JSON.parse(responseText(await ask('gemini-2.5-flash-lite', roadmapPrompt({ role, totalWeeks: 12 }), JSON_MODE)));
  assert.equal(outline.weeks.length, 12);
  const bodies = [];
  for (const [a, b] of [[1, 3], [4, 6], [7, 9], [10, 12]]) {
    const j = await ask('gemini-2.5-flash-lite', roadmapPrompt({ role, totalWeeks: 12, task: `WEEKS ${a}-${b}` }), JSON_MODE);
    assert.equal(j.candidates[0].finishReason, 'STOP');
    bodies.push(...JSON.parse(responseText(j)).weeks);
  }
  assert.deepEqual(bodies.map((w) => [w.week, w.title, w.phase]), outline.weeks.map((w) => [w.week, w.title, w.phase]));
  // TASK: WEEK n agrees too
  const single = JSON.parse(responseText(await ask('gemini-2.5-flash-lite', roadmapPrompt({ role, totalWeeks: 12, task: 'WEEK 8' }), JSON_MODE)));
  assert.deepEqual(single.weeks.map((w) => [w.week, w.title]), [[8, outline.weeks[7].title]]);
});

test('52-week outline: no repeated titles, 3-6 phases in order covering every week', async () => {
  for (const role of ['Cloud Security Engineer', 'ML Engineer', 'Product Manager']) {
    const j = await ask('gemini-2.5-flash', roadmapPrompt({ role, totalWeeks: 52 }), JSON_MODE);
    assert.equal(j.candidates[0].finishReason, 'STOP');
    const o = JSON.parse(responseText(j));
    assert.equal(o.weeks.length, 52);
    assert.equal(new Set(o.weeks.map((w) => w.title)).size, 52, 'titles must be distinct');
    assert.ok(o.phases.length >= 3 && o.phases.length <= 6);
    let next = 1;
    for (const p of o.phases) {
      assert.equal(p.startWeek, next);
      assert.ok(p.endWeek >= p.startWeek);
      assert.equal(typeof p.goal, 'string');
      for (let w = p.startWeek; w <= p.endWeek; w++) assert.equal(o.weeks[w - 1].phase, p.name);
      next = p.endWeek + 1;
    }
    assert.equal(next, 53);
  }
  const small = JSON.parse(responseText(await ask('gemini-2.5-flash-lite', roadmapPrompt({ totalWeeks: 4 }), JSON_MODE)));
  assert.equal(small.phases.length, 3);
});

test('role families give different vocabularies; default role is Software Engineer', async () => {
  const t = async (role) => JSON.parse(responseText(await ask('gemini-2.5-flash-lite', roadmapPrompt({ role, totalWeeks: 8 }), JSON_MODE))).weeks[0].title;
  const titles = await Promise.all(['DevOps Engineer', 'Frontend Developer', 'Data Analyst', 'Machine Learning Engineer', 'Security Analyst', 'Chef']
    .map(t));
  assert.equal(new Set(titles).size, titles.length, titles.join(' | '));
  const noRole = JSON.parse(responseText(await ask('gemini-2.5-flash-lite', 'Total weeks: 8\nTASK: OUTLINE', JSON_MODE)));
  assert.match(noRole.phases[0].goal, /Software Engineer/);
});

test('without responseMimeType the JSON comes wrapped like a chatty model', async () => {
  const j = await ask('gemini-2.5-flash-lite', roadmapPrompt({ task: 'WEEKS 1-1' }));
  const text = responseText(j);
  assert.ok(text.startsWith('Here is the plan:\n\n```json\n'), text.slice(0, 40));
  assert.ok(text.endsWith('\n```\n'));
  const inner = text.slice('Here is the plan:\n\n```json\n'.length, -'\n```\n'.length);
  assert.deepEqual(JSON.parse(inner).weeks.map((w) => w.week), [1]);
});

test('prompts without TASK get a short deterministic reply (or {"reply"} in JSON mode)', async () => {
  const a = responseText(await ask('gemini-2.5-flash-lite', 'What is Kubernetes?'));
  const b = responseText(await ask('gemini-2.5-flash-lite', 'What is Kubernetes?'));
  assert.equal(a, b);
  assert.match(a, /^Mock reply: .*What is Kubernetes\?/);
  const c = responseText(await ask('gemini-2.5-flash-lite', 'What is Docker?'));
  assert.notEqual(a, c);
  const j = JSON.parse(responseText(await ask('gemini-2.5-flash-lite', 'What is Kubernetes?', JSON_MODE)));
  assert.match(j.reply, /^Mock reply: /);
});

test('natural-language fallback: "weeks 4-6", "weeks 2 to 3" and "week 7"', async () => {
  const w = async (text) => JSON.parse(responseText(await ask('gemini-2.5-flash-lite', `Role: DevOps Engineer\nTotal weeks: 12\n${text}`, JSON_MODE))).weeks.map((x) => x.week);
  assert.deepEqual(await w('Please write weeks 4-6 in detail.'), [4, 5, 6]);
  assert.deepEqual(await w('Now do weeks 2 to 3.'), [2, 3]);
  assert.deepEqual(await w('Give me week 7 only.'), [7]);
});

test('Role and Total weeks may come from systemInstruction; TASK only from the last user turn', async () => {
  const body = {
    systemInstruction: { parts: [{ text: 'Role: Frontend Developer\nTotal weeks: 16' }] },
    contents: [
      { role: 'user', parts: [{ text: 'TASK: OUTLINE' }] },
      { role: 'model', parts: [{ text: '{}' }] },
      { role: 'user', parts: [{ text: 'TASK: WEEKS 15-16' }] },
    ],
    generationConfig: JSON_MODE,
  };
  const r = await generate(env.url, { key: KEY, body });
  const weeks = JSON.parse(responseText(r.json)).weeks;
  assert.deepEqual(weeks.map((x) => x.week), [15, 16]);
  const outline = JSON.parse(responseText(await ask('gemini-2.5-flash-lite', roadmapPrompt({ role: 'Frontend Developer', totalWeeks: 16 }), JSON_MODE)));
  assert.equal(weeks[1].title, outline.weeks[15].title);
});

test('SSE framing: data: <json>\\r\\n\\r\\n events that rebuild exactly the non-streaming text', async () => {
  const body = userRequest(roadmapPrompt({ task: 'WEEKS 1-2' }), JSON_MODE);
  const plain = await generate(env.url, { key: KEY, model: 'gemini-2.5-flash', body });
  // the usage in every event is checked here as a running total: the stream is asked for in that form
  await script(env.url, KEY, [{ usageForm: 'running' }]);
  const s = await generate(env.url, { key: KEY, model: 'gemini-2.5-flash', body, stream: true });
  assert.equal(s.status, 200);
  assert.match(s.headers.get('content-type'), /^text\/event-stream/);
  assert.ok(!/\n(?!\r?\n|$)/.test(s.text.replace(/\r\n\r\n/g, '')), 'each event is a single line');
  const events = parseSSE(s.text);
  assert.ok(events.length > 5, `events: ${events.length}`);
  const texts = events.map(responseText);
  assert.equal(texts.join(''), responseText(plain.json));
  assert.ok(texts[0].length >= 1 && texts[0].length < 40, `first chunk ${texts[0].length}`);
  for (const t of texts.slice(1, -1)) assert.ok(t.length >= 150 && t.length <= 400, `chunk ${t.length}`);
  const finishes = events.map((e) => e.candidates[0].finishReason);
  assert.equal(finishes.at(-1), 'STOP');
  assert.ok(finishes.slice(0, -1).every((f) => f === undefined));
  assert.deepEqual(events.at(-1).usageMetadata, plain.json.usageMetadata);
  assert.equal(new Set(events.map((e) => e.responseId)).size, 1);
  let prev = 0;
  for (const e of events) {
    const c = e.usageMetadata.candidatesTokenCount ?? 0;
    assert.ok(c >= prev);
    prev = c;
    assert.equal(e.usageMetadata.promptTokenCount, plain.json.usageMetadata.promptTokenCount);
  }
});

test('SSE of a MAX_TOKENS answer ends with finishReason MAX_TOKENS and the same cut text', async () => {
  const body = userRequest(roadmapPrompt({ task: 'WEEKS 1-12' }), { ...JSON_MODE, maxOutputTokens: 8192 });
  const plain = await generate(env.url, { key: KEY, body });
  const events = parseSSE((await generate(env.url, { key: KEY, body, stream: true })).text);
  assert.equal(events.map(responseText).join(''), responseText(plain.json));
  assert.equal(events.at(-1).candidates[0].finishReason, 'MAX_TOKENS');
  assert.equal(events.at(-1).usageMetadata.candidatesTokenCount, 8192);
});

test('SSE with includeThoughts streams the thought summary in several events of its own, before the answer, with the usage of thinking', async () => {
  for (const [model, task] of [['gemini-2.5-pro', 'WEEKS 1-1'], ['gemini-2.5-flash', 'OUTLINE'], ['gemini-3.1-pro-preview', 'WEEK 2 DAYS 1-3']]) {
    const body = userRequest(roadmapPrompt({ task }), { ...JSON_MODE, thinkingConfig: { includeThoughts: true } });
    const plain = (await generate(env.url, { key: KEY, model, body })).json;
    await script(env.url, KEY, [{ usageForm: 'running' }]);
    const events = parseSSE((await generate(env.url, { key: KEY, model, body, stream: true })).text);
    const isThought = (e) => e.candidates[0].content.parts.every((p) => p.thought === true);
    const n = events.findIndex((e) => !isThought(e));
    assert.ok(n >= 2, `${model}: the thought summary came in ${n} event(s)`);
    assert.ok(events.slice(n).every((e) => !(e.candidates[0].content?.parts ?? []).some((p) => p.thought)), 'no thought after the answer began');
    // one part each; put together, the non-streamed answer's single thought part
    assert.ok(events.slice(0, n).every((e) => e.candidates[0].content.parts.length === 1 && e.candidates[0].content.parts[0].text.length > 0));
    const [thoughtPart, ...rest] = plain.candidates[0].content.parts;
    assert.equal(thoughtPart.thought, true);
    assert.ok(rest.every((p) => !p.thought));
    assert.equal(events.slice(0, n).map((e) => e.candidates[0].content.parts[0].text).join(''), thoughtPart.text);
    JSON.parse(events.map(responseText).join(''));
    // the thinking is charged in every event; output only once the answer streams; the last event's usage is the whole answer's
    const u = plain.usageMetadata;
    for (const e of events.slice(0, n)) {
      assert.equal(e.usageMetadata.thoughtsTokenCount, u.thoughtsTokenCount);
      assert.equal(e.usageMetadata.candidatesTokenCount, undefined);
      assert.equal(e.usageMetadata.totalTokenCount, u.promptTokenCount + u.thoughtsTokenCount);
      assert.equal(e.candidates[0].finishReason, undefined);
    }
    assert.deepEqual(events.at(-1).usageMetadata, u);
  }
});

test('streamGenerateContent without alt=sse streams a JSON array of responses', async () => {
  const body = userRequest(roadmapPrompt({ task: 'WEEKS 3-3' }), JSON_MODE);
  const plain = await generate(env.url, { key: KEY, body });
  const s = await generate(env.url, { key: KEY, body, stream: true, sse: false });
  assert.equal(s.status, 200);
  assert.match(s.headers.get('content-type'), /^application\/json/);
  assert.ok(s.text.startsWith('[{'));
  assert.ok(s.text.includes('\n,\r\n'));
  assert.ok(Array.isArray(s.json) && s.json.length > 2);
  assert.equal(s.json.map(responseText).join(''), responseText(plain.json));
  assert.equal(s.json.at(-1).candidates[0].finishReason, 'STOP');
});

test('generation is deterministic across calls (same prompt, same text)', async () => {
  const body = userRequest(roadmapPrompt({ role: 'Security Analyst', totalWeeks: 24, task: 'WEEKS 10-11' }), JSON_MODE);
  const a = await generate(env.url, { key: KEY, body });
  const b = await generate(env.url, { key: KEY, body });
  assert.equal(responseText(a.json), responseText(b.json));
  assert.notEqual(a.json.responseId, b.json.responseId);
});

test('TASK: WEEK n DAYS a-b: parts written by concurrent requests equal the whole week; the log records the days', async () => {
  const key = `test-key-generation-days-${process.pid}`;
  const prompt = (task) => roadmapPrompt({ role: 'Frontend Developer', totalWeeks: 16, task });
  const askKey = async (task) => {
    const r = await generate(env.url, { key, body: userRequest(prompt(task), JSON_MODE) });
    assert.equal(r.status, 200, r.text.slice(0, 300));
    assert.equal(r.json.candidates[0].finishReason, 'STOP');
    return JSON.parse(responseText(r.json));
  };
  const tasks = ['WEEK 1 DAYS 1\u20133', 'WEEK 1 DAYS 4-5', 'WEEK 1 DAY 6', 'WEEK 1 DAYS 7 to 7'];
  const parts = await Promise.all(tasks.map(askKey));
  parts.forEach((p) => assert.deepEqual(Object.keys(p), ['days']));
  const whole = await askKey('WEEK 1');
  assert.deepEqual(parts.flatMap((p) => p.days), whole.weeks[0].days);
  const log = await requests(env.url, { key });
  assert.equal(log.length, 5);
  const byText = (t) => log.find((e) => e.lastUserText === prompt(t)).task;
  const head = { kind: 'days', role: 'Frontend Developer', totalWeeks: 16, from: 1, to: 1 };
  assert.deepEqual(byText(tasks[0]), { ...head, days: [1, 3] });
  assert.deepEqual(byText(tasks[1]), { ...head, days: [4, 5] });
  assert.deepEqual(byText(tasks[2]), { ...head, days: [6, 6] });
  assert.deepEqual(byText(tasks[3]), { ...head, days: [7, 7] });
  assert.deepEqual(byText('WEEK 1'), { kind: 'weeks', role: 'Frontend Developer', totalWeeks: 16, from: 1, to: 1 }, 'other kinds unchanged');
});

test('a days answer past a small maxOutputTokens comes back cut with MAX_TOKENS (plain and SSE)', async () => {
  const prompt = roadmapPrompt({ task: 'WEEK 2 DAYS 1-4' });
  const full = responseText(await ask('gemini-2.5-flash-lite', prompt, JSON_MODE));
  assert.ok(full.length > 800, `full ${full.length}`);
  JSON.parse(full);
  const body = userRequest(prompt, { ...JSON_MODE, maxOutputTokens: 150 });
  const j = (await generate(env.url, { key: KEY, body })).json;
  assert.equal(j.candidates[0].finishReason, 'MAX_TOKENS');
  assert.equal(j.usageMetadata.candidatesTokenCount, 150);
  const text = responseText(j);
  assert.equal(text, full.slice(0, 150 * 4));
  assert.throws(() => JSON.parse(text), SyntaxError);
  const events = parseSSE((await generate(env.url, { key: KEY, body, stream: true })).text);
  assert.equal(events.map(responseText).join(''), text);
  assert.equal(events.at(-1).candidates[0].finishReason, 'MAX_TOKENS');
  // with thinking on, the thought summary names the days and thinking eats the budget first
  const th = await ask('gemini-2.5-flash', prompt, { ...JSON_MODE, maxOutputTokens: 1000, thinkingConfig: { includeThoughts: true } });
  const parts = th.candidates[0].content.parts;
  assert.equal(parts[0].thought, true);
  assert.match(parts[0].text, /^\*\*Planning days 1-4 of week 2\*\*/);
  assert.equal(th.candidates[0].finishReason, 'MAX_TOKENS');
  assert.equal(parts[1].text, full.slice(0, (1000 - th.usageMetadata.thoughtsTokenCount) * 4));
});

test('scripted faults on a days request: answers change as for weeks and the server never fails', async () => {
  const key = `test-key-generation-days-faults-${process.pid}`;
  const body = userRequest(roadmapPrompt({ task: 'WEEK 3 DAYS 2-4' }), JSON_MODE);
  const normal = responseText((await generate(env.url, { key, body })).json);
  const withStep = async (step, opts = {}) => {
    await script(env.url, key, [step]);
    return generate(env.url, { key, body, ...opts });
  };
  const days = async (step) => {
    const r = await withStep(step);
    assert.equal(r.status, 200, `${step.fault}: ${r.text.slice(0, 200)}`);
    return JSON.parse(responseText(r.json)).days.map((d) => d.day);
  };
  assert.deepEqual(await days({ fault: 'wrong-week-numbers' }), [1, 2, 3]);
  assert.deepEqual(await days({ fault: 'missing-day' }), [2, 3]);
  assert.deepEqual(await days({ fault: 'missing-day', day: 2 }), [3, 4]);
  assert.deepEqual(await days({ fault: 'duplicate-week' }), [2, 2, 3, 4]);
  assert.deepEqual(await days({ fault: 'extra-week' }), [2, 3, 4, 5]);
  assert.deepEqual(await days({ fault: 'xss' }), [2, 3, 4]);
  for (const fault of ['fenced', 'commented', 'trailing-comma', 'single-quotes', 'python-literals', 'prose']) {
    const r = await withStep({ fault });
    assert.equal(r.status, 200, fault);
    const text = responseText(r.json);
    assert.notEqual(text, normal, fault);
    assert.throws(() => JSON.parse(text), fault);
  }
  const cut = await withStep({ fault: 'sse-cut' }, { stream: true });
  assert.equal(cut.status, 200);
  assert.ok(!cut.text.endsWith('\r\n\r\n'));
  const trunc = await withStep({ fault: 'truncate', atChars: 300 });
  assert.equal(responseText(trunc.json), normal.slice(0, 300));
  assert.equal(trunc.json.candidates[0].finishReason, 'MAX_TOKENS');
  assert.equal((await withStep({ fault: 'status', status: 503 })).status, 503);
});

test('Gemini 3 signs its answers: the last part carries a thoughtSignature; streamed, a last event whose part has empty text or none', async () => {
  const body = userRequest(roadmapPrompt({ task: 'WEEKS 1-1' }), { ...JSON_MODE, thinkingConfig: { thinkingLevel: 'low' } });
  const plain = await generate(env.url, { key: KEY, model: 'gemini-3.8-flash', body });
  assert.equal(plain.status, 200);
  const parts = plain.json.candidates[0].content.parts;
  assert.match(parts.at(-1).thoughtSignature, /^[A-Za-z0-9+/]+=*$/);
  assert.equal(typeof parts.at(-1).text, 'string');
  const streamed = await generate(env.url, { key: KEY, model: 'gemini-3.8-flash', body, stream: true });
  const events = parseSSE(streamed.text);
  const last = events.at(-1).candidates[0];
  // the signature part comes with an empty text or none, in turns
  const again = parseSSE((await generate(env.url, { key: KEY, model: 'gemini-3.8-flash', body, stream: true })).text).at(-1).candidates[0];
  assert.deepEqual([last, again].map((c) => Object.keys(c.content.parts[0]).join()).sort(), ['text,thoughtSignature', 'thoughtSignature']);
  assert.equal([last, again].find((c) => 'text' in c.content.parts[0]).content.parts[0].text, '');
  assert.equal(last.finishReason, 'STOP');
  assert.ok(events.slice(0, -1).every((e) => !e.candidates[0].finishReason), 'only the signature event ends the answer');
  assert.equal(events.map(responseText).join(''), responseText(plain.json));
  // 2.5 models do not sign a plain answer
  const old = await generate(env.url, { key: KEY, model: 'gemini-2.5-flash', body: userRequest('hi', { thinkingConfig: { thinkingBudget: 0 } }) });
  assert.ok(old.json.candidates[0].content.parts.every((p) => !('thoughtSignature' in p)));
});

test('the log counts model turns sent back with a signature the mock gave (signedTurns): not made-up ones, not user turns', async () => {
  const key = 'test-key-generation-signed-turns';
  const first = await generate(env.url, { key, model: 'gemini-3.1-flash-lite', body: userRequest('hello') });
  const part = first.json.candidates[0].content.parts.at(-1);
  const text = responseText(first.json);
  const turns = (sig, role = 'model') => ({ contents: [
    { role: 'user', parts: [{ text: 'hello' }] },
    { role, parts: [{ text, ...(sig ? { thoughtSignature: sig } : {}) }] },
    { role: 'user', parts: [{ text: 'and then?' }] },
  ] });
  for (const body of [turns(part.thoughtSignature), turns(null), turns('QUJDRA=='), turns(part.thoughtSignature, 'user')]) {
    assert.equal((await generate(env.url, { key, model: 'gemini-3.1-flash-lite', body })).status, 200);
  }
  const log = await requests(env.url, { key });
  assert.deepEqual(log.map((e) => e.signedTurns), [0, 1, 0, 0, 0]);
});

test('Gemini 2.x streams end three ways in turn: the reason on the last text chunk, or an event of its own with content {role} or none', async () => {
  const body = userRequest(roadmapPrompt({ task: 'WEEKS 1-1' }), { ...JSON_MODE, thinkingConfig: { thinkingBudget: 0 } });
  const plain = await generate(env.url, { key: KEY, model: 'gemini-2.5-flash', body });
  const shapes = new Set();
  for (let i = 0; i < 3; i++) {
    const events = parseSSE((await generate(env.url, { key: KEY, model: 'gemini-2.5-flash', body, stream: true })).text);
    const last = events.at(-1).candidates[0];
    assert.equal(last.finishReason, 'STOP');
    assert.ok(events.slice(0, -1).every((e) => !e.candidates[0].finishReason), 'only the last event ends the answer');
    assert.equal(events.map(responseText).join(''), responseText(plain.json), 'the same answer');
    assert.equal(events.at(-1).usageMetadata.candidatesTokenCount, plain.json.usageMetadata.candidatesTokenCount);
    shapes.add(!last.content ? 'no content' : last.content.parts?.length ? 'text' : 'role only');
  }
  assert.deepEqual([...shapes].sort(), ['no content', 'role only', 'text']);
});

test('streamed usageMetadata takes three forms in turn (running totals, the prompt first, the last event only); the last event is always exact', async () => {
  const key = 'test-key-generation-usage-forms';
  for (const [model, gc] of [
    ['gemini-2.5-flash', { ...JSON_MODE, thinkingConfig: { thinkingBudget: 0 } }],
    ['gemini-3.1-pro-preview', { ...JSON_MODE, thinkingConfig: { includeThoughts: true } }],
  ]) {
    const body = userRequest(roadmapPrompt({ task: 'WEEKS 1-2' }), gc);
    const u = (await generate(env.url, { key, model, body })).json.usageMetadata;
    const P = u.promptTokenCount;
    const promptOnly = { promptTokenCount: P, totalTokenCount: P, promptTokensDetails: [{ modality: 'TEXT', tokenCount: P }] };
    const seen = [];
    for (let i = 0; i < 3; i++) {
      const events = parseSSE((await generate(env.url, { key, model, body, stream: true })).text);
      assert.ok(events.length > 4, `${model}: ${events.length} events`);
      assert.deepEqual(events.at(-1).usageMetadata, u, `${model}: the last event carries the whole answer's usage`);
      const early = events.slice(0, -1).map((e) => e.usageMetadata);
      const entry = (await requests(env.url, { key })).at(-1);
      seen.push(entry.usageForm);
      if (entry.usageForm === 'last-only') {
        assert.ok(early.every((x) => x === undefined), `${model}: no usage before the last event`);
      } else if (entry.usageForm === 'prompt-first') {
        const n = early.findIndex((x) => x.candidatesTokenCount !== undefined || x.thoughtsTokenCount !== undefined);
        assert.ok(n >= 1 && n < early.length, `${model}: the prompt first, the output later (from event ${n} of ${early.length})`);
        assert.ok(early.slice(0, n).every((x) => JSON.stringify(x) === JSON.stringify(promptOnly)), `${model}: ${JSON.stringify(early[0])}`);
        assert.ok(early.slice(n).every((x) => x.promptTokenCount === P && x.totalTokenCount > P), `${model}: running totals after`);
      } else {
        assert.equal(entry.usageForm, 'running');
        assert.ok(early.every((x) => x.promptTokenCount === P && x.totalTokenCount > P), `${model}: a running total in every event`);
      }
    }
    assert.deepEqual([...seen].sort(), ['last-only', 'prompt-first', 'running'], `${model}: three streams, three forms`);
  }
  // The turns are the key's own: another key's streams in between do not move them, so what one test meets does not
  // depend on what other tests sharing the mock asked before (found by review).
  const body1 = userRequest(roadmapPrompt({ task: 'WEEKS 1-1' }), JSON_MODE);
  const formOf = async (k) => {
    await generate(env.url, { key: k, body: body1, stream: true });
    return (await requests(env.url, { key: k })).at(-1).usageForm;
  };
  const mine = [];
  for (let i = 0; i < 3; i++) {
    mine.push(await formOf('test-key-generation-usage-forms-a'));
    await formOf('test-key-generation-usage-forms-b');
  }
  assert.deepEqual(mine, USAGE_FORMS, 'one key meets the forms in order');
  // A step picks the form; one the mock does not know is refused.
  await script(env.url, key, [{ usageForm: 'last-only' }]);
  const body = userRequest(roadmapPrompt({ task: 'WEEKS 1-1' }), JSON_MODE);
  const events = parseSSE((await generate(env.url, { key, body, stream: true })).text);
  assert.ok(events.length > 2 && events.slice(0, -1).every((e) => !('usageMetadata' in e)));
  const bad = await fetch(`${env.url}/__mock/script`, { method: 'POST', body: JSON.stringify({ key, steps: [{ usageForm: 'sometimes' }] }) });
  assert.equal(bad.status, 400);
  assert.deepEqual((await bad.json()).knownUsageForms, ['running', 'prompt-first', 'last-only']);
});

test('candidateCount > 1 on a Gemini 3 model -> 400 "Multiple candidates is not enabled for this model" (1 is taken)', async () => {
  for (const model of ['gemini-3.1-flash-lite', 'gemini-3.1-pro-preview', 'gemini-flash-latest']) {
    const body = userRequest('What should I learn first?', { candidateCount: 2 });
    for (const stream of [false, true]) {
      const r = await generate(env.url, { key: KEY, model, body, stream });
      assert.equal(r.status, 400, `${model} stream=${stream}: ${r.text.slice(0, 200)}`);
      assert.deepEqual(r.json.error, { code: 400, message: 'Multiple candidates is not enabled for this model', status: 'INVALID_ARGUMENT' });
    }
    const one = await generate(env.url, { key: KEY, model, body: userRequest('What should I learn first?', { candidateCount: 1 }) });
    assert.equal(one.status, 200, one.text.slice(0, 200));
  }
});

test('candidateCount: n candidates with indexes 0..n-1, candidate 0 as for one; usage sums them all; streamed side by side', async () => {
  for (const [model, body] of [
    ['gemini-2.5-flash', userRequest(roadmapPrompt({ task: 'WEEKS 1-1' }), JSON_MODE)],
    ['gemini-2.5-flash-lite', userRequest('What should I learn first?')],
  ]) {
    const one = await generate(env.url, { key: KEY, model, body });
    const three = await generate(env.url, { key: KEY, model, body: { ...body, generationConfig: { ...body.generationConfig, candidateCount: 3 } } });
    assert.equal(three.status, 200);
    const cands = three.json.candidates;
    assert.deepEqual(cands.map((c) => c.index), [0, 1, 2]);
    assert.ok(cands.every((c) => c.finishReason === 'STOP' && c.content.role === 'model'));
    const texts = cands.map((c) => c.content.parts.map((p) => p.text ?? '').join(''));
    assert.equal(texts[0], responseText(one.json), 'candidate 0 is the answer a single candidate gets');
    assert.equal(new Set(texts).size, 3, 'each candidate has a text of its own');
    if (model === 'gemini-2.5-flash') for (const t of texts) assert.deepEqual(JSON.parse(t), JSON.parse(texts[0]));
    const u = three.json.usageMetadata;
    assert.equal(u.candidatesTokenCount, texts.reduce((sum, t) => sum + Math.ceil([...t].length / 4), 0));
    assert.equal(u.totalTokenCount, u.promptTokenCount + u.candidatesTokenCount + (u.thoughtsTokenCount ?? 0));
    // streamed: every event's candidates carry their index; each candidate's chunks rebuild its text and it ends once
    const events = parseSSE((await generate(env.url, { key: KEY, model, stream: true, body: { ...body, generationConfig: { ...body.generationConfig, candidateCount: 3 } } })).text);
    const streamed = ['', '', ''];
    const finished = [0, 0, 0];
    for (const e of events) {
      assert.ok(e.candidates.length >= 1 && e.candidates.length <= 3);
      assert.equal(new Set(e.candidates.map((c) => c.index)).size, e.candidates.length);
      for (const c of e.candidates) {
        assert.equal(finished[c.index], 0, 'nothing after a candidate has finished');
        streamed[c.index] += (c.content?.parts ?? []).map((p) => p.text ?? '').join('');
        if (c.finishReason) finished[c.index] += 1;
      }
    }
    assert.deepEqual(streamed, texts);
    assert.deepEqual(finished, [1, 1, 1]);
    assert.ok(events.length > 1 && events.slice(0, -1).some((e) => e.candidates.length > 1), 'candidates share events');
    assert.deepEqual(events.at(-1).usageMetadata, u);
  }
});

test('SSE events are written as Gemini writes them: ": " after a key, no space after a comma', async () => {
  const body = userRequest('hi', { thinkingConfig: { thinkingBudget: 0 } });
  await script(env.url, KEY, [{ usageForm: 'running' }]);
  const r = await generate(env.url, { key: KEY, model: 'gemini-2.5-flash', body, stream: true });
  const first = r.text.split('\r\n\r\n')[0];
  assert.match(first, /^data: \{"candidates": \[\{"content": \{"parts": \[\{"text": "(?:[^"\\]|\\.)*"\}\],"role": "model"\},"index": 0\}\],"usageMetadata": \{"promptTokenCount": \d+,/);
  assert.ok(!/"finishReason":"/.test(r.text), 'no compact JSON');
  assert.equal(parseSSE(r.text).map(responseText).join(''), responseText((await generate(env.url, { key: KEY, model: 'gemini-2.5-flash', body })).json));
});

test('stopSequences: the answer ends before the first one it writes, which is left out, with STOP; streamed alike', async () => {
  const key = 'test-key-generation-stop-sequences';
  const model = 'gemini-2.5-flash-lite';
  const text = 'Please tell me about compilers and interpreters';
  const whole = responseText((await generate(env.url, { key, model, body: userRequest(text) })).json);
  assert.match(whole, /^Mock reply: you asked "Please tell me about compilers/);
  // the first sequence written ends the answer, whatever its place in the list
  const r = await generate(env.url, { key, model, body: userRequest(text, { stopSequences: ['interpreters', 'about'] }) });
  assert.equal(r.status, 200, r.text.slice(0, 300));
  const cand = r.json.candidates[0];
  assert.equal(responseText(r.json), whole.slice(0, whole.indexOf('about')));
  assert.equal(cand.finishReason, 'STOP');
  assert.equal(r.json.usageMetadata.candidatesTokenCount, Math.ceil([...responseText(r.json)].length / 4));
  const s = await generate(env.url, { key, model, body: userRequest(text, { stopSequences: ['interpreters', 'about'] }), stream: true });
  const events = parseSSE(s.text);
  assert.equal(events.map(responseText).join(''), responseText(r.json));
  assert.equal(events.at(-1).candidates[0].finishReason, 'STOP');
  assert.deepEqual(events.at(-1).usageMetadata, r.json.usageMetadata);
  // a sequence the answer never writes changes nothing
  assert.equal(responseText((await generate(env.url, { key, model, body: userRequest(text, { stopSequences: ['zzz'] }) })).json), whole);
  // JSON mode: the roadmap ends before its second week
  const body = userRequest(roadmapPrompt({ task: 'WEEKS 1-2' }), { ...JSON_MODE, stopSequences: ['"week": 2'] });
  const j = await generate(env.url, { key, model, body });
  const full = responseText((await generate(env.url, { key, model, body: userRequest(roadmapPrompt({ task: 'WEEKS 1-2' }), JSON_MODE) })).json);
  assert.equal(responseText(j.json), full.slice(0, full.indexOf('"week": 2')));
  assert.equal(j.json.candidates[0].finishReason, 'STOP');
  // a sequence past the output limit: the limit cuts first (MAX_TOKENS)
  const cut = await generate(env.url, { key, model, body: userRequest(roadmapPrompt({ task: 'WEEKS 1-2' }), { ...JSON_MODE, maxOutputTokens: 100, stopSequences: ['"week": 2'] }) });
  assert.equal(cut.json.candidates[0].finishReason, 'MAX_TOKENS');
  assert.equal(responseText(cut.json), full.slice(0, 400));
});
