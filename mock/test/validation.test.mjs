// Request validation: every rejected shape gets a Google-style 400 INVALID_ARGUMENT.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { useMock } from '../test-support.mjs';
import { MODELS } from '../models.mjs';
import { generate, setConfig, userRequest } from '../control.mjs';

const KEY = 'test-key-validation-01';
const env = useMock();

async function expect400(model, body, messageMatch, opts = {}) {
  const r = await generate(env.url, { key: KEY, model, body, ...opts });
  assert.equal(r.status, 400, `expected 400, got ${r.status}: ${r.text.slice(0, 300)}`);
  const err = opts.stream && opts.sse === false ? r.json[0].error : r.json.error;
  assert.equal(err.code, 400);
  assert.equal(err.status, 'INVALID_ARGUMENT');
  if (messageMatch instanceof RegExp) assert.match(err.message, messageMatch);
  else assert.equal(err.message, messageMatch);
  return err;
}

async function expect200(model, body) {
  const r = await generate(env.url, { key: KEY, model, body });
  assert.equal(r.status, 200, r.text.slice(0, 400));
  return r.json;
}

test('body that is not JSON -> 400 "Invalid JSON payload received" with BadRequest details', async () => {
  const err = await expect400('gemini-2.5-flash-lite', '{"contents": [ oops ]}', /^Invalid JSON payload received\. Unexpected token\./);
  assert.equal(err.details[0]['@type'], 'type.googleapis.com/google.rpc.BadRequest');
  await expect400('gemini-2.5-flash-lite', '["not", "an", "object"]', /Root element must be a message/);
  await expect400('gemini-2.5-flash-lite', '{"contents": [', /Invalid JSON payload received/);
});

test('contents missing or empty -> "contents is not specified"', async () => {
  await expect400('gemini-2.5-flash', {}, '* GenerateContentRequest.contents: contents is not specified\n');
  await expect400('gemini-2.5-flash', { contents: [] }, '* GenerateContentRequest.contents: contents is not specified\n');
  await expect400('gemini-2.5-flash', '', '* GenerateContentRequest.contents: contents is not specified\n');
});

test('role other than user/model -> "Please use a valid role: user, model."', async () => {
  for (const role of ['system', 'assistant', 'User']) {
    await expect400('gemini-2.5-flash-lite', { contents: [{ role, parts: [{ text: 'hi' }] }] }, 'Please use a valid role: user, model.');
  }
  // role may be omitted (treated as user)
  await expect200('gemini-2.5-flash-lite', { contents: [{ parts: [{ text: 'hi' }] }] });
});

test('a conversation ending with a model turn is rejected', async () => {
  await expect400('gemini-2.5-flash-lite', {
    contents: [{ role: 'user', parts: [{ text: 'hi' }] }, { role: 'model', parts: [{ text: 'hello' }] }],
  }, /multiturn requests ends with a user role/);
  await expect400('gemini-2.5-flash-lite', { contents: [{ role: 'model', parts: [{ text: 'hello' }] }] }, /single turn requests end with a user role/);
});

test('parts without text are rejected (empty parts, empty part, empty text)', async () => {
  await expect400('gemini-2.5-flash-lite', { contents: [{ role: 'user', parts: [] }] },
    '* GenerateContentRequest.contents[0].parts: contents.parts must not be empty.\n');
  await expect400('gemini-2.5-flash-lite', { contents: [{ role: 'user' }] },
    '* GenerateContentRequest.contents[0].parts: contents.parts must not be empty.\n');
  await expect400('gemini-2.5-flash-lite', { contents: [{ role: 'user', parts: [{}] }] },
    "* GenerateContentRequest.contents[0].parts[0].data: required oneof field 'data' must have one initialized field\n");
  // the message as every capture has it, with its link (google-gemini/deprecated-generative-ai-js#286, microsoft/autogen#5762)
  await expect400('gemini-2.5-flash-lite', { contents: [{ role: 'user', parts: [{ text: '' }] }] },
    'Unable to submit request because it has an empty text parameter. Add a value to the parameter and try again. Learn more: https://cloud.google.com/vertex-ai/generative-ai/docs/model-reference/gemini');
  await expect400('gemini-2.5-flash-lite', { contents: [{ role: 'user', parts: [{ text: 42 }] }] },
    "Invalid value at 'contents[0].parts[0].text' (TYPE_STRING), 42");
  await expect400('gemini-2.5-flash-lite', { systemInstruction: { parts: [] }, contents: [{ parts: [{ text: 'x' }] }] },
    /system_instruction\.parts: contents\.parts must not be empty/);
});

test('systemInstruction is {parts:[{text}]} with an optional role; snake_case field names are accepted', async () => {
  await expect200('gemini-2.5-flash-lite', { systemInstruction: { parts: [{ text: 'be brief' }] }, contents: [{ parts: [{ text: 'hi' }] }] });
  await expect200('gemini-2.5-flash-lite', { systemInstruction: { role: 'system', parts: [{ text: 'be brief' }] }, contents: [{ parts: [{ text: 'hi' }] }] });
  const j = await expect200('gemini-2.5-flash-lite', {
    system_instruction: { parts: [{ text: 'be brief' }] },
    contents: [{ parts: [{ text: 'hi' }] }],
    generation_config: { max_output_tokens: 5, response_mime_type: 'text/plain' },
  });
  assert.equal(j.candidates[0].finishReason, 'MAX_TOKENS');
  assert.equal(j.usageMetadata.candidatesTokenCount, 5);
});

test('thinkingConfig with both thinkingBudget and thinkingLevel -> 400', async () => {
  await expect400('gemini-3.1-pro-preview', userRequest('hi', { thinkingConfig: { thinkingBudget: 1024, thinkingLevel: 'low' } }),
    'You can only set only one of thinking budget and thinking level.');
});

test('thinkingBudget out of the model range -> 400', async () => {
  await expect400('gemini-2.5-flash', userRequest('hi', { thinkingConfig: { thinkingBudget: 30000 } }),
    'The thinking budget 30000 is invalid. Please choose a value between 0 and 24576.');
  await expect400('gemini-2.5-flash-lite', userRequest('hi', { thinkingConfig: { thinkingBudget: 100 } }),
    'The thinking budget 100 is invalid. Please choose a value between 512 and 24576.');
  await expect400('gemini-2.5-pro', userRequest('hi', { thinkingConfig: { thinkingBudget: 64 } }),
    'The thinking budget 64 is invalid. Please choose a value between 128 and 32768.');
  await expect400('gemini-2.5-pro', userRequest('hi', { thinkingConfig: { thinkingBudget: 0 } }),
    'Budget 0 is invalid. This model only works in thinking mode.');
  await expect400('gemini-2.5-flash', userRequest('hi', { thinkingConfig: { thinkingBudget: 'lots' } }),
    "Invalid value at 'generation_config.thinking_config.thinking_budget' (TYPE_INT32), \"lots\"");
  // valid edges
  await expect200('gemini-2.5-flash', userRequest('hi', { thinkingConfig: { thinkingBudget: 0 } }));
  await expect200('gemini-2.5-flash', userRequest('hi', { thinkingConfig: { thinkingBudget: 24576 } }));
  await expect200('gemini-2.5-flash-lite', userRequest('hi', { thinkingConfig: { thinkingBudget: 512 } }));
  await expect200('gemini-2.5-pro', userRequest('hi', { thinkingConfig: { thinkingBudget: -1 } }));
  // every served model thinks: none refuses a thinkingConfig as the shut-down 2.0 models did
  for (const model of Object.keys(MODELS)) await expect200(model, userRequest('hi', { thinkingConfig: { includeThoughts: true } }));
});

test('thinkingLevel on a non-3.x model -> 400; unsupported levels on 3.1-pro -> 400', async () => {
  for (const model of ['gemini-2.5-flash', 'gemini-2.5-pro', 'gemini-2.5-flash-lite']) {
    await expect400(model, userRequest('hi', { thinkingConfig: { thinkingLevel: 'low' } }), 'Thinking level is not supported for this model.');
  }
  await expect400('gemini-3.1-pro-preview', userRequest('hi', { thinkingConfig: { thinkingLevel: 'minimal' } }),
    'Thinking level MINIMAL is not supported for this model.');
  await expect400('gemini-3.1-pro-preview', userRequest('hi', { thinkingConfig: { thinkingLevel: 'ultra' } }),
    /^Invalid value at 'generation_config\.thinking_config\.thinking_level'/);
  await expect200('gemini-3.1-pro-preview', userRequest('hi', { thinkingConfig: { thinkingLevel: 'LOW' } }));
});

test('the current models think by level: Flash low to high, Flash-Lite from minimal; none takes a budget of 0', async () => {
  for (const model of ['gemini-3.8-flash', 'gemini-3.7-flash', 'gemini-3.1-pro-preview']) {
    for (const level of ['low', 'medium', 'high']) await expect200(model, userRequest('hi', { thinkingConfig: { thinkingLevel: level } }));
    await expect400(model, userRequest('hi', { thinkingConfig: { thinkingLevel: 'minimal' } }), 'Thinking level MINIMAL is not supported for this model.');
  }
  for (const model of ['gemini-3.5-flash-lite', 'gemini-3.1-flash-lite']) {
    for (const level of ['minimal', 'low', 'medium', 'high']) await expect200(model, userRequest('hi', { thinkingConfig: { thinkingLevel: level } }));
  }
  // the budget a 2.5 Flash request carries, sent to a model its name may be routed to
  for (const model of ['gemini-3.8-flash', 'gemini-3.5-flash-lite']) {
    await expect400(model, userRequest('hi', { thinkingConfig: { thinkingBudget: 0 } }), 'Budget 0 is invalid. This model only works in thinking mode.');
  }
});

test('responseJsonSchema together with responseSchema -> 400; schema without application/json -> 400', async () => {
  const schema = { type: 'object', properties: { weeks: { type: 'array' } } };
  await expect400('gemini-2.5-flash', userRequest('hi', { responseMimeType: 'application/json', responseSchema: schema, responseJsonSchema: schema }),
    /response_schema and response_json_schema cannot both be set/);
  await expect400('gemini-2.5-flash', userRequest('hi', { responseJsonSchema: schema }),
    /response_mime_type must be set to application\/json when response_json_schema is set/);
  await expect400('gemini-2.5-flash', userRequest('hi', { responseMimeType: 'text/plain', responseSchema: schema }),
    /response_mime_type must be set to application\/json when response_schema is set/);
  await expect400('gemini-2.5-flash', userRequest('hi', { responseMimeType: 'application/jsonl' }), /allowed mimetypes are/);
  await expect200('gemini-2.5-flash', userRequest('hi', { responseMimeType: 'application/json', responseJsonSchema: schema }));
});

test('text/x.enum with a responseSchema of enum values is taken (the structured-output guide\'s request): the answer is one of them', async () => {
  const schema = { type: 'STRING', enum: ['Percussion', 'String', 'Woodwind', 'Brass', 'Keyboard'] };
  const ask = (text) => expect200('gemini-2.5-flash', userRequest(text, { responseMimeType: 'text/x.enum', responseSchema: schema }));
  const answer = (r) => r.candidates[0].content.parts.map((p) => p.text).join('');
  assert.equal(answer(await ask('What type of instrument is an oboe? A woodwind, surely.')), 'Woodwind');
  assert.ok(schema.enum.includes(answer(await ask('What type of instrument is an oboe?'))));
  // the guide shows it with responseSchema only: responseJsonSchema still wants application/json
  await expect400('gemini-2.5-flash', userRequest('hi', { responseMimeType: 'text/x.enum', responseJsonSchema: { type: 'string', enum: ['a'] } }),
    /response_mime_type must be set to application\/json when response_json_schema is set/);
});

test('a part sets one member of its data oneof: text with inlineData (either spelling) or a functionCall -> 400 naming the second', async () => {
  const image = { mimeType: 'image/png', data: 'iVBORw0KGgo=' };
  await expect400('gemini-2.5-flash', { contents: [{ role: 'user', parts: [{ text: 'hi', inlineData: image }] }] },
    "Invalid value at 'contents[0].parts[0]' (oneof), oneof field 'data' is already set. Cannot set 'inlineData'");
  await expect400('gemini-2.5-flash', { contents: [{ role: 'user', parts: [{ inline_data: image, text: 'hi' }] }] },
    "Invalid value at 'contents[0].parts[0]' (oneof), oneof field 'data' is already set. Cannot set 'text'");
  await expect400('gemini-2.5-flash', {
    contents: [{ role: 'user', parts: [{ text: 'hi' }] }, { role: 'model', parts: [{ text: 'x', functionCall: { name: 'f', args: {} } }] },
      { role: 'user', parts: [{ text: 'go on' }] }],
  }, "Invalid value at 'contents[1].parts[0]' (oneof), oneof field 'data' is already set. Cannot set 'functionCall'");
  // what is outside the oneof goes with any member
  await expect200('gemini-2.5-flash', { contents: [{ role: 'user', parts: [{ text: 'hi', thought: false, partMetadata: {} }] }] });
});

test('one message where a list is expected is a list of one, as Google\'s REST sample sends it', async () => {
  const r = await expect200('gemini-2.5-flash', { system_instruction: { parts: { text: 'You are a cat. Your name is Neko.' } }, contents: { parts: { text: 'Hello there' } } });
  assert.match(r.candidates[0].content.parts[0].text, /Hello there/);
  // a scalar is still no list
  await expect400('gemini-2.5-flash', { contents: 'Hello there' }, "Invalid value at 'contents' (type.googleapis.com/google.ai.generativelanguage.v1beta.Content), \"Hello there\"");
});

test('maxOutputTokens above the model limit or below 1 -> 400', async () => {
  await expect400('gemini-2.5-flash-lite', userRequest('hi', { maxOutputTokens: 65537 }),
    'Unable to submit request because it has a maxOutputTokens value of 65537 but the supported range is from 1 (inclusive) to 65537 (exclusive). Update the value and try again.');
  await expect400('gemini-2.5-flash', userRequest('hi', { maxOutputTokens: 65537 }), /supported range is from 1 \(inclusive\) to 65537 \(exclusive\)/);
  await expect400('gemini-2.5-flash', userRequest('hi', { maxOutputTokens: 0 }), /maxOutputTokens value of 0/);
  await expect400('gemini-2.5-flash', userRequest('hi', { maxOutputTokens: -5 }), /maxOutputTokens value of -5/);
  await expect400('gemini-2.5-flash', userRequest('hi', { maxOutputTokens: 'many' }),
    "Invalid value at 'generation_config.max_output_tokens' (TYPE_INT32), \"many\"");
  await expect200('gemini-2.5-flash-lite', userRequest('hi', { maxOutputTokens: 65536 }));
  await expect200('gemini-2.5-flash', userRequest('hi', { maxOutputTokens: 65536 }));
});

test('unknown top-level and nested field names are rejected like Google\'s JSON parser', async () => {
  const err = await expect400('gemini-2.5-flash-lite', { ...userRequest('hi'), foo: 1 },
    'Invalid JSON payload received. Unknown name "foo": Cannot find field.');
  assert.deepEqual(err.details, [{
    '@type': 'type.googleapis.com/google.rpc.BadRequest',
    fieldViolations: [{ description: 'Invalid JSON payload received. Unknown name "foo": Cannot find field.' }],
  }]);
  await expect400('gemini-2.5-flash-lite', userRequest('hi', { maxTokens: 100 }),
    'Invalid JSON payload received. Unknown name "maxTokens" at \'generation_config\': Cannot find field.');
  await expect400('gemini-2.5-flash', userRequest('hi', { thinkingConfig: { budget: 100 } }),
    'Invalid JSON payload received. Unknown name "budget" at \'generation_config.thinking_config\': Cannot find field.');
  await expect400('gemini-2.5-flash-lite', { contents: [{ role: 'user', content: 'hi', parts: [{ text: 'hi' }] }] },
    'Invalid JSON payload received. Unknown name "content" at \'contents[0]\': Cannot find field.');
  // two unknown names are both reported
  const two = await expect400('gemini-2.5-flash-lite', { ...userRequest('hi'), a: 1, b: 2 }, /Unknown name "a"[\s\S]*Unknown name "b"/);
  assert.equal(two.details[0].fieldViolations.length, 2);
});

test('every GenerateContentRequest field of v1beta is taken (serviceTier, store, safetySettings, toolConfig, ...); labels, Vertex\'s, is an unknown name', async () => {
  const model = 'gemini-2.5-flash-lite';
  const full = {
    ...userRequest('hi', {
      stopSequences: ['END'], responseModalities: ['TEXT'], mediaResolution: 'MEDIA_RESOLUTION_LOW', seed: 7,
      presencePenalty: 0.5, frequencyPenalty: 0.5, logprobs: 3, enableEnhancedCivicAnswers: false, responseFormat: {},
    }),
    systemInstruction: { parts: [{ text: 'be brief' }] },
    safetySettings: [
      { category: 'HARM_CATEGORY_HARASSMENT', threshold: 'BLOCK_ONLY_HIGH' },
      { category: 'HARM_CATEGORY_DANGEROUS_CONTENT', threshold: 'OFF' },
    ],
    tools: [{ functionDeclarations: [{ name: 'f', description: 'd' }] }],
    toolConfig: { functionCallingConfig: { mode: 'NONE', allowedFunctionNames: [] } },
    serviceTier: 'flex',
    store: false,
  };
  assert.equal((await expect200(model, full)).candidates[0].finishReason, 'STOP');
  // `cachedContent` is taken too: a cache the key does not have is a 403 (below), and one beside a systemInstruction,
  // tools or a toolConfig a 400 of its own, not an unknown name
  await expect400(model, { ...full, cachedContent: 'cachedContents/abc' }, /^CachedContent can not be used with GenerateContent request setting system_instruction, tools or tool_config\./);
  // the tier by its SDK name (`flex`, `priority`, `standard`) or its proto name, in any case; snake_case too
  for (const serviceTier of ['priority', 'standard', 'SERVICE_TIER_PRIORITY', 'Flex']) await expect200(model, { ...userRequest('hi'), serviceTier });
  await expect200(model, { ...userRequest('hi'), service_tier: 'flex', store: true });
  const counted = await generate(env.url, { key: KEY, model, method: 'countTokens', body: { generateContentRequest: { model: `models/${model}`, ...full, cachedContent: 'cachedContents/abc' } } });
  assert.equal(counted.status, 200, counted.text);

  const invalid = (at, type, v) => `Invalid value at '${at}' (${type}), ${JSON.stringify(v)}`;
  const t = (name) => `type.googleapis.com/google.ai.generativelanguage.v1beta.${name}`;
  await expect400(model, { ...userRequest('hi'), serviceTier: 'fast' }, invalid('service_tier', t('GenerateContentRequest.ServiceTier'), 'fast'));
  await expect400(model, { ...userRequest('hi'), store: 'no' }, invalid('store', 'TYPE_BOOL', 'no'));
  await expect400(model, { ...userRequest('hi'), safetySettings: [{ category: 'HARM_CATEGORY_SPAM', threshold: 'BLOCK_NONE' }] },
    invalid('safety_settings[0].category', t('HarmCategory'), 'HARM_CATEGORY_SPAM'));
  // proto numbers go as far as safety.proto's (CIVIC_INTEGRITY = 11); the SDK's newer categories by name only
  await expect200(model, { ...userRequest('hi'), safetySettings: [{ category: 11, threshold: 4 }, { category: 'HARM_CATEGORY_IMAGE_HATE', threshold: 'OFF' }] });
  await expect400(model, { ...userRequest('hi'), safetySettings: [{ category: 13, threshold: 'OFF' }] },
    invalid('safety_settings[0].category', t('HarmCategory'), 13));
  await expect400(model, { ...userRequest('hi'), safetySettings: [{ category: 'HARM_CATEGORY_HARASSMENT', threshold: 'BLOCK_ALL' }] },
    invalid('safety_settings[0].threshold', t('SafetySetting.HarmBlockThreshold'), 'BLOCK_ALL'));
  await expect400(model, { ...userRequest('hi'), safetySettings: [{ category: 'HARM_CATEGORY_HARASSMENT', method: 'SEVERITY' }] },
    'Invalid JSON payload received. Unknown name "method" at \'safety_settings[0]\': Cannot find field.');
  await expect400(model, { ...userRequest('hi'), toolConfig: { functionCallingConfig: { mode: 'SOMETIMES' } } },
    invalid('tool_config.function_calling_config.mode', t('FunctionCallingConfig.Mode'), 'SOMETIMES'));
  await expect400(model, userRequest('hi', { stopSequences: ['END', 5] }), invalid('generation_config.stop_sequences[1]', 'TYPE_STRING', 5));
  await expect400(model, userRequest('hi', { responseModalities: ['PICTURE'] }),
    invalid('generation_config.response_modalities[0]', t('GenerationConfig.Modality'), 'PICTURE'));
  await expect400(model, userRequest('hi', { mediaResolution: 'ULTRA' }),
    invalid('generation_config.media_resolution', t('GenerationConfig.MediaResolution'), 'ULTRA'));
  // `labels` is Vertex AI's: the Gemini API has no such field (@google/genai 3.x forwards it all the same)
  const labels = await expect400(model, { ...userRequest('hi'), labels: { team: 'x' } },
    'Invalid JSON payload received. Unknown name "labels": Cannot find field.');
  assert.equal(labels.details[0]['@type'], 'type.googleapis.com/google.rpc.BadRequest');
});

test('the served models answer in text only: responseModalities asking for image or audio -> 400', async () => {
  await expect200('gemini-3.1-flash-lite', userRequest('hi', { responseModalities: ['TEXT'] }));
  await expect200('gemini-3.1-flash-lite', userRequest('hi', { responseModalities: [] }));
  await expect400('gemini-3.1-flash-lite', userRequest('hi', { responseModalities: ['IMAGE'] }),
    'Model does not support the requested response modalities: image');
  await expect400('gemini-2.5-flash', userRequest('hi', { responseModalities: ['TEXT', 'Image'] }),
    'Model does not support the requested response modalities: image,text');
  await expect400('gemini-3.8-flash', userRequest('hi', { responseModalities: ['AUDIO'] }),
    'Model does not support the requested response modalities: audio', { stream: true });
});

test('responseLogprobs: true -> 400 "Logprobs is not enabled for models/..." (logprobs alone is taken)', async () => {
  await expect200('gemini-2.5-flash', userRequest('hi', { logprobs: 5 }));
  await expect200('gemini-2.5-flash', userRequest('hi', { responseLogprobs: false }));
  for (const model of ['gemini-2.5-flash', 'gemini-2.5-flash-lite', 'gemini-3.1-flash-lite']) {
    await expect400(model, userRequest('hi', { responseLogprobs: true, logprobs: 3 }), `Logprobs is not enabled for models/${model}`);
  }
  await expect400('gemini-2.5-pro', userRequest('hi', { responseLogprobs: true }), 'Logprobs is not enabled for models/gemini-2.5-pro', { stream: true });
});

test('validation errors on the non-SSE stream endpoint are wrapped in a JSON array', async () => {
  await expect400('gemini-2.5-flash-lite', { contents: [] }, /contents is not specified/, { stream: true, sse: false });
  // but plain objects on alt=sse
  await expect400('gemini-2.5-flash-lite', { contents: [] }, /contents is not specified/, { stream: true });
});

test('a prompt over the model\'s inputTokenLimit -> 400 on generateContent and streamGenerateContent; countTokens still counts it', async () => {
  const model = 'gemini-2.5-flash-lite';
  const limit = (await (await fetch(`${env.url}/v1beta/models/${model}`, { headers: { 'x-goog-api-key': KEY } })).json()).inputTokenLimit;
  const message = `The input token count exceeds the maximum number of tokens allowed ${limit}.`;
  const over = 'a'.repeat(limit * 4 + 1); // limit + 1 tokens at ceil(code points / 4)
  const body = { systemInstruction: { parts: [{ text: 'Plan.' }] }, contents: [{ role: 'user', parts: [{ text: over.slice(5) }] }] };
  assert.deepEqual(await expect400(model, body, message), { code: 400, message, status: 'INVALID_ARGUMENT' });
  await expect400(model, body, message, { stream: true });
  await expect400(model, body, message, { stream: true, sse: false });
  // exactly the limit is still answered
  const at = { contents: [{ role: 'user', parts: [{ text: over.slice(1) }] }] };
  assert.equal((await expect200(model, at)).usageMetadata.promptTokenCount, limit);
  const counted = await generate(env.url, { key: KEY, model, method: 'countTokens', body: { contents: body.contents } });
  assert.equal(counted.status, 200);
  assert.equal(counted.json.totalTokens, limit + 1 - 2); // without the system instruction's 5 code points, ceil((4 * limit - 4) / 4)
});

test('responseSchema is the Schema proto: a JSON Schema keyword it lacks is an unknown name, at its path; responseJsonSchema takes them', async () => {
  const body = (schema, key = 'responseSchema') => userRequest('hi', { responseMimeType: 'application/json', [key]: schema });
  const unknown = (name, at) => `Invalid JSON payload received. Unknown name "${name}" at '${at}': Cannot find field.`;
  const rs = 'generation_config.response_schema';
  await expect400('gemini-2.5-flash', body({ type: 'object', additionalProperties: false, properties: { a: { type: 'string' } } }), unknown('additionalProperties', rs));
  // nested: map entries are numbered in the order sent; every unknown name is listed, with its field
  const nested = {
    $defs: { Week: { type: 'object' } },
    type: 'object',
    properties: {
      title: { type: 'string', title: 'Title', minLength: 1 },
      weeks: { type: 'array', items: { $ref: '#/$defs/Week' } },
      phase: { anyOf: [{ type: 'string' }, { type: 'null', const: null }] },
    },
  };
  const err = await expect400('gemini-2.5-flash', body(nested), [
    unknown('$defs', rs), unknown('$ref', `${rs}.properties[1].value.items`), unknown('const', `${rs}.properties[2].value.any_of[1]`),
  ].join('\n'));
  assert.deepEqual(err.details[0].fieldViolations.map((v) => v.field), [rs, `${rs}.properties[1].value.items`, `${rs}.properties[2].value.any_of[1]`]);
  // snake_case names of the proto are fine, unknown ones are echoed as sent
  await expect400('gemini-2.5-flash', body({ type: 'array', items: { type: 'string' }, max_items: 3, additional_items: false }), unknown('additional_items', rs));
  await expect400('gemini-2.5-flash', body({ type: 'object', $schema: 'https://json-schema.org/draft/2020-12/schema' }), unknown('$schema', rs));
  // on countTokens too, under its generate_content_request
  const ct = await generate(env.url, {
    key: KEY, model: 'gemini-2.5-flash', method: 'countTokens',
    body: { generateContentRequest: { model: 'models/gemini-2.5-flash', ...body({ type: 'object', additionalProperties: {} }) } },
  });
  assert.equal(ct.status, 400);
  assert.equal(ct.json.error.message, unknown('additionalProperties', `generate_content_request.${rs}`));
  // every field of the proto is accepted
  const full = {
    type: 'OBJECT', format: 'x', title: 'Plan', description: 'd', nullable: false, enum: ['a'], maxItems: '3', minItems: 1,
    properties: { weeks: { type: 'ARRAY', items: { type: 'STRING', minLength: 1, maxLength: 80, pattern: '^W' } } },
    required: ['weeks'], minProperties: 1, maxProperties: 4, example: { weeks: [] }, anyOf: [{ type: 'OBJECT' }],
    propertyOrdering: ['weeks'], default: null, minimum: 0, maximum: 9, any_of: [], property_ordering: [],
  };
  await expect200('gemini-2.5-flash', body(full));
  await expect200('gemini-2.5-flash', body(nested, 'responseJsonSchema'));
});

test('array bounds are a budget: maxItems adding up to 960 -> a bare 400 on 3.x, "too many states" on 2.5', async () => {
  const schema = (n, each) => ({
    type: 'object',
    properties: Object.fromEntries(Array.from({ length: n }, (_, i) => [`list${i}`, { type: 'array', items: { type: 'string' }, maxItems: each }])),
  });
  const body = (s) => ({ ...userRequest('Return JSON'), generationConfig: { responseMimeType: 'application/json', responseJsonSchema: s } });
  await expect200('gemini-3.1-flash-lite', body(schema(8, 119)));
  await expect400('gemini-3.1-flash-lite', body(schema(8, 121)), 'Request contains an invalid argument.');
  await expect400('gemini-3.1-flash-lite', body(schema(1, 972)), 'Request contains an invalid argument.');
  // the sweep failed from 960 itself (it passed at 952)
  await expect200('gemini-3.1-flash-lite', body(schema(1, 959)));
  await expect400('gemini-3.1-flash-lite', body(schema(1, 960)), 'Request contains an invalid argument.');
  await expect400('gemini-2.5-flash', body(schema(1, 972)), /too many states for serving.*long array length limits/);
  // The package's largest schemas (52 weeks of 7 days; a 52-week outline) are far inside it.
  const week = { type: 'object', properties: { days: { type: 'array', minItems: 7, maxItems: 7, items: { type: 'object' } } } };
  await expect200('gemini-3.1-flash-lite', body({ type: 'object', properties: { weeks: { type: 'array', minItems: 52, maxItems: 52, items: week } } }));
});

test('boundedObjectArrays N: a schema with more than N arrays of objects carrying minItems/maxItems is refused as over budget; off by default', async () => {
  const days = (bounds) => ({ type: 'array', ...bounds, items: { type: 'object', properties: { day: { type: 'integer' } } } });
  const weeks = (outer, inner) => ({
    type: 'object',
    properties: { weeks: { type: 'array', ...outer, items: { type: 'object', properties: { days: days(inner) } } } },
  });
  const body = (s, key = 'responseJsonSchema') => ({ ...userRequest('Return JSON'), generationConfig: { responseMimeType: 'application/json', [key]: s } });
  const bounded = { minItems: 3, maxItems: 3 };
  await expect200('gemini-3.8-flash', body(weeks(bounded, bounded))); // off by default
  try {
    assert.equal((await setConfig(env.url, { boundedObjectArrays: 1 })).boundedObjectArrays, 1);
    await expect400('gemini-3.8-flash', body(weeks(bounded, bounded)), 'Request contains an invalid argument.');
    await expect400('gemini-2.5-flash', body(weeks(bounded, { maxItems: 7 })), /too many states for serving/);
    // the Schema proto's form counts alike (`OBJECT`, or `properties` without a type)
    const proto = { type: 'OBJECT', properties: { a: { type: 'ARRAY', minItems: 1, items: { properties: { b: { type: 'ARRAY', maxItems: 2, items: { type: 'OBJECT' } } } } } } };
    await expect400('gemini-3.8-flash', body(proto, 'responseSchema'), 'Request contains an invalid argument.');
    // one bounded array of objects, bounded arrays of strings, and the same schema without its counts pass
    await expect200('gemini-3.8-flash', body(weeks(bounded, {})));
    await expect200('gemini-3.8-flash', body({ type: 'object', properties: { a: { type: 'array', maxItems: 3, items: { type: 'string' } }, b: { type: 'array', minItems: 1, items: { type: 'string' } } } }));
    await expect200('gemini-3.8-flash', body(weeks({}, {})));
  } finally {
    await setConfig(env.url, { boundedObjectArrays: 0 });
  }
});

test('more than 5 stopSequences -> 400 "the number of stop_sequences must not exceed 5"; 5 are taken', async () => {
  const five = ['a1', 'b2', 'c3', 'd4', 'e5'];
  await expect200('gemini-2.5-flash-lite', userRequest('hi', { stopSequences: five }));
  await expect400('gemini-2.5-flash-lite', userRequest('hi', { stopSequences: [...five, 'f6'] }),
    '* GenerateContentRequest.generation_config.stop_sequences: the number of stop_sequences must not exceed 5.\n');
  await expect400('gemini-3.1-flash-lite', userRequest('hi', { stop_sequences: [...five, 'f6', 'g7'] }), /stop_sequences must not exceed 5/);
});

test('cachedContent: a cache the key does not have -> 403 "CachedContent not found (or permission denied)"; a name not cachedContents/{id} -> 400', async () => {
  const model = 'gemini-2.5-flash';
  for (const stream of [false, true]) {
    for (const name of ['cachedContents/ez2yh6u6my9gnjvyigtxvnuf6e5qc79vgd7cc668', 'cachedContents/gone']) {
      const r = await generate(env.url, { key: KEY, model, body: { ...userRequest('hi'), cachedContent: name }, stream });
      assert.equal(r.status, 403, r.text.slice(0, 300));
      assert.deepEqual(r.json, { error: { code: 403, message: 'CachedContent not found (or permission denied)', status: 'PERMISSION_DENIED' } });
    }
  }
  const snake = await generate(env.url, { key: KEY, model, body: { ...userRequest('hi'), cached_content: 'cachedContents/abc' } });
  assert.equal(snake.status, 403);
  for (const name of ['abc', 'cachedContents/', 'models/gemini-2.5-flash', 'cachedContents/a/b', 'projects/p/locations/l/cachedContents/abc']) {
    await expect400(model, { ...userRequest('hi'), cachedContent: name }, /^\* GenerateContentRequest\.cached_content: /);
  }
  // an empty name is unset, as in proto3
  await expect200(model, { ...userRequest('hi'), cachedContent: '' });
});

test('thoughtSignature is bytes: a value that is not base64 -> 400 "(TYPE_BYTES), Base64 decoding failed for ..." at its path', async () => {
  const model = 'gemini-3.1-pro-preview';
  const history = (sig, key = 'thoughtSignature') => ({
    contents: [
      { role: 'user', parts: [{ text: 'plan week 1' }] },
      { role: 'model', parts: [{ text: 'Here it is.', [key]: sig }] },
      { role: 'user', parts: [{ text: 'and week 2' }] },
    ],
  });
  // what Gemini signed its answer with goes back as it came
  const answer = await expect200(model, userRequest('plan week 1'));
  const signature = answer.candidates[0].content.parts.at(-1).thoughtSignature;
  assert.ok(signature);
  await expect200(model, history(signature));
  for (const sig of ['QUJD', 'QUI', 'QUI=', 'a-b_', '']) await expect200(model, history(sig));
  // A signature cut short must fail whatever its random bytes: cut to 4n + 1 characters, or to 4n + 2 ending in a
  // character with set low bits. (Cutting 2 characters left a canonical ending in 1 of 16 runs, and CI went red.)
  const cut = signature.replace(/=+$/, '').slice(0, -2);
  assert.equal(cut.length % 4, 1);
  for (const sig of ['reasoning_content', 'default_signature', 'EmIKYAERTTIPsMumWW2CIAWzb', 'QUJ', 'not base64!', cut, `${cut}B`]) {
    const err = await expect400(model, history(sig),
      `Invalid value at 'contents[1].parts[0].thought_signature' (TYPE_BYTES), Base64 decoding failed for ${JSON.stringify(sig)}`);
    assert.deepEqual(err.details, [{
      '@type': 'type.googleapis.com/google.rpc.BadRequest',
      fieldViolations: [{ field: 'contents[1].parts[0].thought_signature', description: err.message }],
    }]);
  }
  await expect400(model, history('reasoning_content', 'thought_signature'), /^Invalid value at 'contents\[1\]\.parts\[0\]\.thought_signature' \(TYPE_BYTES\), Base64 decoding failed for "reasoning_content"$/);
  await expect400(model, history(5), "Invalid value at 'contents[1].parts[0].thought_signature' (TYPE_BYTES), 5");
});
