// Request parsing and validation, modelled on the Gemini v1beta front end:
// 1. JSON syntax, 2. unknown field names / wrong JSON types (BadRequest details),
// 3. semantic checks (contents, roles, generationConfig, thinking).

import { badRequestPayload, googleError, invalidArgument } from './errors.mjs';
import { requestSchema } from './structured.mjs';

const snake = (k) => k.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase());
const camel = (k) => k.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase());

const SCHEMAS = {
  // The v1beta GenerateContentRequest: `model`, `systemInstruction`, `contents`, `tools`, `toolConfig`,
  // `safetySettings`, `generationConfig`, `cachedContent`, `serviceTier` and `store` (the Flex and Priority inference
  // pages name `service_tier` in the request body of generateContent; the request as Google's v1beta discovery
  // document describes it, e.g. tryAGI/Google_Generative_AI's generated GenerateContentRequest, lists those ten).
  // `labels` is not one of them: it is Vertex AI's (python-genai#2296: the Python SDK refuses it for the Gemini API,
  // "labels parameter is not supported in Gemini API"; derailed-dash/gemini-review-action#38: "The Gemini Developer
  // API's GenerateContentRequest has no `labels` field"), so Gemini answers it as any unknown name, `Unknown name
  // "labels": Cannot find field.`, although @google/genai 3.x's Gemini API converter forwards it.
  generateRequest: {
    contents: { repeated: 'content' },
    systemInstruction: { message: 'content' },
    generationConfig: { message: 'generationConfig' },
    safetySettings: { repeated: 'safetySetting' },
    tools: { any: true },
    toolConfig: { message: 'toolConfig' },
    cachedContent: { type: 'string' },
    model: { type: 'string' },
    serviceTier: { enum: 'serviceTier' },
    store: { type: 'bool' },
  },
  safetySetting: {
    category: { enum: 'harmCategory' },
    threshold: { enum: 'harmBlockThreshold' },
  },
  toolConfig: {
    functionCallingConfig: { message: 'functionCallingConfig' },
    retrievalConfig: { any: true },
    includeServerSideToolInvocations: { type: 'bool' },
  },
  functionCallingConfig: {
    mode: { enum: 'functionCallingMode' },
    allowedFunctionNames: { repeated: 'string' },
  },
  countTokensRequest: {
    contents: { repeated: 'content' },
    generateContentRequest: { message: 'generateRequest' },
  },
  content: {
    role: { type: 'string' },
    parts: { repeated: 'part' },
  },
  // `data` is a proto oneof (text, inlineData, ... below): a part that sets two of them is refused.
  part: {
    text: { type: 'string', oneof: 'data' },
    thought: { type: 'bool' },
    // a bytes field: its JSON is base64 (see `isBase64`)
    thoughtSignature: { type: 'bytes' },
    inlineData: { any: true, oneof: 'data' },
    fileData: { any: true, oneof: 'data' },
    functionCall: { any: true, oneof: 'data' },
    functionResponse: { any: true, oneof: 'data' },
    executableCode: { any: true, oneof: 'data' },
    codeExecutionResult: { any: true, oneof: 'data' },
    videoMetadata: { any: true },
    partMetadata: { any: true },
  },
  generationConfig: {
    stopSequences: { repeated: 'string' },
    responseMimeType: { type: 'string' },
    responseSchema: { message: 'schema' },
    responseJsonSchema: { any: true },
    _responseJsonSchema: { any: true },
    responseModalities: { repeated: 'modality' },
    candidateCount: { type: 'int' },
    maxOutputTokens: { type: 'int' },
    temperature: { type: 'float' },
    topP: { type: 'float' },
    topK: { type: 'int' },
    seed: { type: 'int' },
    presencePenalty: { type: 'float' },
    frequencyPenalty: { type: 'float' },
    responseLogprobs: { type: 'bool' },
    logprobs: { type: 'int' },
    enableEnhancedCivicAnswers: { type: 'bool' },
    speechConfig: { any: true },
    thinkingConfig: { message: 'thinkingConfig' },
    mediaResolution: { enum: 'mediaResolution' },
    imageConfig: { any: true },
    // the newest v1beta GenerationConfig (tryAGI/Google_Generative_AI's generated model): the output format of each
    // modality; the mock does not act on it
    responseFormat: { any: true },
  },
  thinkingConfig: {
    includeThoughts: { type: 'bool' },
    thinkingBudget: { type: 'int' },
    thinkingLevel: { enum: 'thinkingLevel' },
  },
  // `responseSchema` is the v1beta Schema proto (an OpenAPI 3.0 subset), not a JSON Schema: any other key, such as
  // `additionalProperties`, `$ref`, `$defs` or `$schema`, is an unknown field (`responseJsonSchema` takes those).
  // Only the names are checked here, not the values' types.
  schema: {
    type: { any: true },
    format: { any: true },
    title: { any: true },
    description: { any: true },
    nullable: { any: true },
    enum: { any: true },
    maxItems: { any: true },
    minItems: { any: true },
    properties: { map: 'schema' },
    required: { any: true },
    minProperties: { any: true },
    maxProperties: { any: true },
    minLength: { any: true },
    maxLength: { any: true },
    pattern: { any: true },
    example: { any: true },
    anyOf: { repeated: 'schema' },
    propertyOrdering: { any: true },
    default: { any: true },
    items: { message: 'schema' },
    minimum: { any: true },
    maximum: { any: true },
  },
};

const TYPE_NAMES = { int: 'TYPE_INT32', float: 'TYPE_FLOAT', bool: 'TYPE_BOOL', string: 'TYPE_STRING', bytes: 'TYPE_BYTES' };
const MESSAGE_TYPES = {
  content: 'type.googleapis.com/google.ai.generativelanguage.v1beta.Content',
  part: 'type.googleapis.com/google.ai.generativelanguage.v1beta.Part',
  generationConfig: 'type.googleapis.com/google.ai.generativelanguage.v1beta.GenerationConfig',
  thinkingConfig: 'type.googleapis.com/google.ai.generativelanguage.v1beta.ThinkingConfig',
  generateRequest: 'type.googleapis.com/google.ai.generativelanguage.v1beta.GenerateContentRequest',
  schema: 'type.googleapis.com/google.ai.generativelanguage.v1beta.Schema',
  safetySetting: 'type.googleapis.com/google.ai.generativelanguage.v1beta.SafetySetting',
  toolConfig: 'type.googleapis.com/google.ai.generativelanguage.v1beta.ToolConfig',
  functionCallingConfig: 'type.googleapis.com/google.ai.generativelanguage.v1beta.FunctionCallingConfig',
};
const V1BETA = 'type.googleapis.com/google.ai.generativelanguage.v1beta.';
// The enums the request parser knows: the names its JSON takes (in any case, as Gemini reads `"low"` for `LOW`), and
// the type an invalid value is reported as. `numbered`: the values are listed in the order of their numbers in the
// proto (0, 1, 2, ...), so a number is taken too, as proto JSON takes an enum's number, and read as that name.
const ENUMS = {
  thinkingLevel: { type: 'ThinkingConfig.ThinkingLevel', values: ['THINKING_LEVEL_UNSPECIFIED', 'MINIMAL', 'LOW', 'MEDIUM', 'HIGH'] },
  // The docs write both `"service_tier": "flex"` (the Flex and Priority inference pages, and @google/genai's
  // ServiceTier enum, whose values are `unspecified`, `standard`, `flex`, `priority`) and `SERVICE_TIER_PRIORITY`
  // (the enum's proto name, e.g. the German Priority inference page): both are taken.
  serviceTier: {
    type: 'GenerateContentRequest.ServiceTier',
    values: ['SERVICE_TIER_UNSPECIFIED', 'SERVICE_TIER_STANDARD', 'SERVICE_TIER_FLEX', 'SERVICE_TIER_PRIORITY', 'UNSPECIFIED', 'STANDARD', 'FLEX', 'PRIORITY'],
  },
  modality: { numbered: true, type: 'GenerationConfig.Modality', values: ['MODALITY_UNSPECIFIED', 'TEXT', 'IMAGE', 'AUDIO', 'VIDEO'] },
  mediaResolution: {
    numbered: true, type: 'GenerationConfig.MediaResolution',
    values: ['MEDIA_RESOLUTION_UNSPECIFIED', 'MEDIA_RESOLUTION_LOW', 'MEDIA_RESOLUTION_MEDIUM', 'MEDIA_RESOLUTION_HIGH'],
  },
  // safety.proto's HarmCategory, numbered 0-11 (the PaLM ones included); `names`: the ones @google/genai's enum adds,
  // taken by name only, as their numbers in the Gemini API's proto are not published (Vertex numbers them otherwise).
  harmCategory: {
    numbered: true, type: 'HarmCategory',
    values: ['HARM_CATEGORY_UNSPECIFIED', 'HARM_CATEGORY_DEROGATORY', 'HARM_CATEGORY_TOXICITY', 'HARM_CATEGORY_VIOLENCE',
      'HARM_CATEGORY_SEXUAL', 'HARM_CATEGORY_MEDICAL', 'HARM_CATEGORY_DANGEROUS', 'HARM_CATEGORY_HARASSMENT',
      'HARM_CATEGORY_HATE_SPEECH', 'HARM_CATEGORY_SEXUALLY_EXPLICIT', 'HARM_CATEGORY_DANGEROUS_CONTENT',
      'HARM_CATEGORY_CIVIC_INTEGRITY'],
    names: ['HARM_CATEGORY_JAILBREAK', 'HARM_CATEGORY_IMAGE_HATE', 'HARM_CATEGORY_IMAGE_DANGEROUS_CONTENT',
      'HARM_CATEGORY_IMAGE_HARASSMENT', 'HARM_CATEGORY_IMAGE_SEXUALLY_EXPLICIT'],
  },
  harmBlockThreshold: {
    numbered: true, type: 'SafetySetting.HarmBlockThreshold',
    values: ['HARM_BLOCK_THRESHOLD_UNSPECIFIED', 'BLOCK_LOW_AND_ABOVE', 'BLOCK_MEDIUM_AND_ABOVE', 'BLOCK_ONLY_HIGH', 'BLOCK_NONE', 'OFF'],
  },
  functionCallingMode: { numbered: true, type: 'FunctionCallingConfig.Mode', values: ['MODE_UNSPECIFIED', 'AUTO', 'ANY', 'NONE', 'VALIDATED'] },
};

const isPlainObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

function coerceScalar(type, v) {
  switch (type) {
    case 'int':
      if (typeof v === 'number' && Number.isInteger(v) && Math.abs(v) <= 2147483647) return { ok: true, v };
      if (typeof v === 'string' && /^-?\d+$/.test(v.trim()) && Math.abs(Number(v)) <= 2147483647) return { ok: true, v: Number(v) };
      return { ok: false };
    case 'float':
      if (typeof v === 'number' && Number.isFinite(v)) return { ok: true, v };
      if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return { ok: true, v: Number(v) };
      return { ok: false };
    case 'bool':
      return typeof v === 'boolean' ? { ok: true, v } : { ok: false };
    case 'string':
      return typeof v === 'string' ? { ok: true, v } : { ok: false };
    case 'bytes':
      return typeof v === 'string' && isBase64(v) ? { ok: true, v } : { ok: false };
    default: {
      const e = ENUMS[type];
      if (!e) return { ok: true, v };
      if (typeof v === 'string' && [...e.values, ...(e.names ?? [])].includes(v.toUpperCase())) return { ok: true, v };
      if (e.numbered && Number.isInteger(v) && v >= 0 && v < e.values.length) return { ok: true, v: e.values[v] };
      return { ok: false };
    }
  }
}

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * Whether `s` is the JSON of a bytes field as Google's parser reads it: base64 in the standard alphabet (`+/`) or the
 * URL-safe one (`-_`), not both, padded with `=` or not; a length of 4n + 1 characters, or set bits past the last
 * whole byte (a non-canonical ending), fail. Gemini refused a signature "with only Base64 alphabet characters, length
 * mod 4 = 2 and non-canonical trailing bits" (a public incident note), and a 25-character one (mod 4 = 1).
 */
export function isBase64(s) {
  const m = /^(?:([A-Za-z0-9+/]*)|([A-Za-z0-9_-]*))(={0,2})$/.exec(s);
  if (!m) return false;
  const body = m[1] ?? m[2];
  const pad = m[3].length;
  if (body.length % 4 === 1 || (pad > 0 && (body.length + pad) % 4 !== 0)) return false;
  if (body.length % 4 === 0) return true;
  const last = (BASE64 + (m[1] != null ? '+/' : '-_')).indexOf(body[body.length - 1]);
  return (last & (body.length % 4 === 2 ? 0b1111 : 0b11)) === 0;
}

/** The type a value of scalar or enum `type` that does not parse is reported as. */
const scalarTypeName = (type) => (ENUMS[type] ? V1BETA + ENUMS[type].type : TYPE_NAMES[type]);

/**
 * Walk `value` against schema `name`, producing a camelCase-normalised copy and
 * collecting proto-JSON style violations.
 */
function walk(name, value, path, violations) {
  const schema = SCHEMAS[name];
  const out = {};
  const oneofs = new Set();
  for (const [rawKey, v] of Object.entries(value)) {
    let key = rawKey;
    if (!Object.hasOwn(schema, key) && Object.hasOwn(schema, camel(key))) key = camel(key);
    const f = Object.hasOwn(schema, key) ? schema[key] : null;
    if (!f) {
      const where = path ? ` at '${path}'` : '';
      violations.push({ field: path || undefined, description: `Invalid JSON payload received. Unknown name "${rawKey}"${where}: Cannot find field.` });
      continue;
    }
    const sub = (path ? path + '.' : '') + snake(key);
    if (v === null) continue; // proto JSON: null means "unset"
    if (f.oneof) {
      // Gemini (googleapis/google-cloud-dart#26): `Invalid value at 'contents[0].parts[0]' (oneof), oneof field
      // 'data' is already set. Cannot set 'inlineData'`
      if (oneofs.has(f.oneof)) {
        violations.push({ field: path || undefined, description: `Invalid value at '${path}' (oneof), oneof field '${f.oneof}' is already set. Cannot set '${rawKey}'` });
        continue;
      }
      oneofs.add(f.oneof);
    }
    if (f.any) { out[key] = v; continue; }
    if (f.message) {
      if (!isPlainObject(v)) {
        violations.push({ field: sub, description: `Invalid value at '${sub}' (${MESSAGE_TYPES[f.message]}), ${JSON.stringify(v)}` });
        continue;
      }
      out[key] = walk(f.message, v, sub, violations);
      continue;
    }
    if (f.map) {
      // a proto map: its entries are numbered in the order sent, `properties[0].value` the first one's value
      if (!isPlainObject(v)) {
        violations.push({ field: sub, description: `Invalid value at '${sub}' (${MESSAGE_TYPES[f.map]}), ${JSON.stringify(v)}` });
        continue;
      }
      out[key] = Object.fromEntries(Object.entries(v).map(([name, item], i) => {
        const ip = `${sub}[${i}].value`;
        if (!isPlainObject(item)) {
          violations.push({ field: ip, description: `Invalid value at '${ip}' (${MESSAGE_TYPES[f.map]}), ${JSON.stringify(item)}` });
          return [name, {}];
        }
        return [name, walk(f.map, item, ip, violations)];
      }));
      continue;
    }
    if (f.repeated && !SCHEMAS[f.repeated]) {
      // a repeated scalar or enum: each item is checked, at its index
      if (!Array.isArray(v)) {
        violations.push({ field: sub, description: `Invalid value at '${sub}' (${scalarTypeName(f.repeated)}), ${JSON.stringify(v)}` });
        continue;
      }
      out[key] = v.map((item, i) => {
        const c = coerceScalar(f.repeated, item);
        if (!c.ok) {
          const ip = `${sub}[${i}]`;
          violations.push({ field: ip, description: `Invalid value at '${ip}' (${scalarTypeName(f.repeated)}), ${JSON.stringify(item)}` });
        }
        return c.v;
      });
      continue;
    }
    if (f.repeated) {
      // One message where a list of them is expected is read as a list of one, as Google's own REST sample sends
      // it (`"contents": {"parts": {"text": "Hello there"}}`, ai.google.dev/api/generate-content).
      const list = isPlainObject(v) ? [v] : v;
      if (!Array.isArray(list)) {
        violations.push({ field: sub, description: `Invalid value at '${sub}' (${MESSAGE_TYPES[f.repeated]}), ${JSON.stringify(v)}` });
        continue;
      }
      out[key] = list.map((item, i) => {
        const ip = `${sub}[${i}]`;
        if (!isPlainObject(item)) {
          violations.push({ field: ip, description: `Invalid value at '${ip}' (${MESSAGE_TYPES[f.repeated]}), ${JSON.stringify(item)}` });
          return {};
        }
        return walk(f.repeated, item, ip, violations);
      });
      continue;
    }
    const type = f.enum ?? f.type;
    const c = coerceScalar(type, v);
    if (!c.ok) {
      // a string that is not base64 is named as such: `(TYPE_BYTES), Base64 decoding failed for "..."`
      const what = type === 'bytes' && typeof v === 'string' ? `Base64 decoding failed for ${JSON.stringify(v)}` : JSON.stringify(v);
      violations.push({ field: sub, description: `Invalid value at '${sub}' (${scalarTypeName(type)}), ${what}` });
      continue;
    }
    out[key] = c.v;
  }
  return out;
}

/** Offset of the first JSON syntax error in `text` (text.length when it ends too early). */
export function jsonErrorOffset(text) {
  let i = 0;
  const n = text.length;
  class Fail extends Error { constructor(at) { super('json'); this.at = at; } }
  const ws = () => { while (i < n && ' \t\n\r'.includes(text[i])) i++; };
  const fail = () => { throw new Fail(Math.min(i, n)); };
  const lit = (word) => { if (text.startsWith(word, i)) i += word.length; else fail(); };
  function str() {
    i++; // opening quote
    while (i < n) {
      const c = text[i];
      if (c === '"') { i++; return; }
      if (c === '\\') {
        i++;
        if (i >= n) fail();
        if (text[i] === 'u') { if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) fail(); i += 5; } else if ('"\\/bfnrt'.includes(text[i])) i++; else fail();
        continue;
      }
      if (c < ' ') fail();
      i++;
    }
    fail();
  }
  function num() {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!m || !m[0] || m[0] === '-') fail();
    i += m[0].length;
  }
  function value() {
    ws();
    if (i >= n) fail();
    const c = text[i];
    if (c === '{') {
      i++; ws();
      if (text[i] === '}') { i++; return; }
      for (;;) {
        ws();
        if (text[i] !== '"') fail();
        str(); ws();
        if (text[i] !== ':') fail();
        i++; value(); ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === '}') { i++; return; }
        fail();
      }
    }
    if (c === '[') {
      i++; ws();
      if (text[i] === ']') { i++; return; }
      for (;;) {
        value(); ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === ']') { i++; return; }
        fail();
      }
    }
    if (c === '"') return str();
    if (c === 't') return lit('true');
    if (c === 'f') return lit('false');
    if (c === 'n') return lit('null');
    return num();
  }
  try {
    value(); ws();
    return i < n ? i : n;
  } catch (e) {
    if (e instanceof Fail) return e.at;
    return n;
  }
}

/** Parse the raw body. Returns {ok, json} or {ok:false, status, body}. */
export function parseBody(text) {
  if (text.trim() === '') return { ok: true, json: {} }; // an empty body is an empty message
  try {
    const json = JSON.parse(text);
    if (!isPlainObject(json)) {
      return { ok: false, status: 400, body: badRequestPayload([{ description: 'Invalid JSON payload received. Unknown name "": Root element must be a message.' }]) };
    }
    return { ok: true, json };
  } catch {
    const pos = jsonErrorOffset(text);
    const lineStart = text.lastIndexOf('\n', pos - 1) + 1;
    let lineEnd = text.indexOf('\n', pos);
    if (lineEnd < 0) lineEnd = text.length;
    const from = Math.max(lineStart, pos - 40);
    const snippet = text.slice(from, Math.min(lineEnd, pos + 40));
    const caret = ' '.repeat(Math.max(0, pos - from)) + '^';
    const what = pos >= text.length ? 'Unexpected end of string.' : 'Unexpected token.';
    return {
      ok: false, status: 400,
      body: badRequestPayload([{ description: `Invalid JSON payload received. ${what}\n${snippet}\n${caret}` }]),
    };
  }
}

function partHasData(p) {
  return Object.keys(p).some((k) => SCHEMAS.part[k]?.oneof === 'data');
}

function checkParts(contents, prefix, errors) {
  contents.forEach((c, i) => {
    const cp = `${prefix}[${i}]`;
    if (!c.parts || c.parts.length === 0) {
      errors.push(`* ${cp}.parts: contents.parts must not be empty.\n`);
      return;
    }
    c.parts.forEach((p, j) => {
      if (!partHasData(p)) errors.push(`* ${cp}.parts[${j}].data: required oneof field 'data' must have one initialized field\n`);
    });
  });
}

function hasEmptyText(contentList) {
  return contentList.some((c) => (c.parts || []).some((p) => p.text === ''));
}

const ALLOWED_MIME = ['text/plain', 'application/json', 'application/xml', 'application/yaml', 'text/x.enum'];

/** Semantic validation of a normalised GenerateContentRequest for `model`. Returns an error body or null. */
function validateGenerate(req, model, modelId, { forCountTokens = false, prefix = 'GenerateContentRequest', boundedObjectArrays = 0 } = {}) {
  const contents = req.contents || [];
  if (contents.length === 0) return invalidArgument(`* ${prefix}.contents: contents is not specified\n`);

  const star = [];
  checkParts(contents, `${prefix}.contents`, star);
  if (req.systemInstruction) {
    const si = req.systemInstruction;
    if (!si.parts || si.parts.length === 0) star.push(`* ${prefix}.system_instruction.parts: contents.parts must not be empty.\n`);
    else si.parts.forEach((p, j) => {
      if (!partHasData(p)) star.push(`* ${prefix}.system_instruction.parts[${j}].data: required oneof field 'data' must have one initialized field\n`);
    });
  }

  const gc = req.generationConfig || {};
  const gp = `${prefix}.generation_config`;
  if (gc.responseMimeType !== undefined && !ALLOWED_MIME.includes(gc.responseMimeType)) {
    star.push(`* ${gp}.response_mime_type: allowed mimetypes are \`text/plain\`, \`application/json\`, \`application/xml\`, \`application/yaml\` and \`text/x.enum\`.\n`);
  }
  const jsonSchema = gc.responseJsonSchema !== undefined || gc._responseJsonSchema !== undefined;
  if (jsonSchema && gc.responseSchema !== undefined) {
    star.push(`* ${gp}.response_schema: response_schema and response_json_schema cannot both be set. Please set only one of them.\n`);
  } else if ((jsonSchema || gc.responseSchema !== undefined) && gc.responseMimeType !== 'application/json'
    // the structured-output guide's "Generating enum values": `text/x.enum` with a `responseSchema` of `enum`
    && !(gc.responseMimeType === 'text/x.enum' && !jsonSchema)) {
    const which = jsonSchema ? 'response_json_schema' : 'response_schema';
    star.push(`* ${gp}.response_mime_type: response_mime_type must be set to application/json when ${which} is set.\n`);
  }
  if (star.length) return invalidArgument(star.join(''));

  if (hasEmptyText(contents) || (req.systemInstruction && hasEmptyText([req.systemInstruction]))) {
    return invalidArgument('Unable to submit request because it has an empty text parameter. Add a value to the parameter and try again. Learn more: https://cloud.google.com/vertex-ai/generative-ai/docs/model-reference/gemini');
  }

  if (!forCountTokens) {
    for (const c of contents) {
      const role = c.role ?? '';
      if (role !== '' && role !== 'user' && role !== 'model') return invalidArgument('Please use a valid role: user, model.');
    }
    const last = contents[contents.length - 1];
    if (last.role === 'model') {
      return invalidArgument(contents.length === 1
        ? 'Please ensure that single turn requests end with a user role or the role field is empty.'
        : 'Please ensure that multiturn requests ends with a user role or a function response.');
    }
  }

  if (gc.maxOutputTokens !== undefined) {
    const v = gc.maxOutputTokens;
    if (v < 1 || v > model.outputTokenLimit) {
      return invalidArgument(`Unable to submit request because it has a maxOutputTokens value of ${v} but the supported range is from 1 (inclusive) to ${model.outputTokenLimit + 1} (exclusive). Update the value and try again.`);
    }
  }
  if (gc.temperature !== undefined && (gc.temperature < 0 || gc.temperature > 2)) {
    return invalidArgument(`* ${gp}.temperature: temperature must be in the range [0.0, 2.0].\n`);
  }
  if (gc.topP !== undefined && (gc.topP < 0 || gc.topP > 1)) {
    return invalidArgument(`* ${gp}.top_p: top_p must be in the range [0.0, 1.0].\n`);
  }
  if (gc.candidateCount !== undefined && (gc.candidateCount < 1 || gc.candidateCount > 8)) {
    return invalidArgument(`* ${gp}.candidate_count: candidate_count must be in the range [1, 8].\n`);
  }
  // Gemini 3 answers with one candidate only (googleapis/js-genai#1609: gemini-3.1-flash-lite, 3-flash-preview,
  // 3.1-pro-preview; googleapis/python-genai#1723: 3-pro-preview), whatever the range says.
  if (gc.candidateCount > 1 && model.thinking.kind === 'level') return invalidArgument('Multiple candidates is not enabled for this model');
  // At most 5 stop sequences (the GenerationConfig reference: "up to 5"); more are refused with "the number of
  // stop_sequences must not exceed 5" (continuedev/continue#2702, from generativelanguage.googleapis.com). Vertex AI
  // words it otherwise ("... a stopSequences value of 10 but the supported range is from 1 (inclusive) to 6
  // (exclusive)", continuedev/continue#7849).
  if (gc.stopSequences !== undefined && gc.stopSequences.length > MAX_STOP_SEQUENCES) {
    return invalidArgument(`* ${gp}.stop_sequences: the number of stop_sequences must not exceed ${MAX_STOP_SEQUENCES}.\n`);
  }

  if (!forCountTokens) {
    // Every served model answers in text only: asking for another modality is refused, each named in lower case
    // ("Model does not support the requested response modalities: image", and "... image,text" when TEXT was asked
    // too: the form reported from generativelanguage, Laisky/one-api#45 and others). The order of several is not
    // known; the mock sorts them, which gives both reported forms.
    const asked = [...new Set((gc.responseModalities || []).map((m) => String(m).toLowerCase()))]
      .filter((m) => m !== 'modality_unspecified');
    if (asked.some((m) => m !== 'text')) {
      return invalidArgument(`Model does not support the requested response modalities: ${asked.sort().join(',')}`);
    }
    // Log probabilities are not served on the Gemini API for these models: a request for them is refused
    // (googleapis/python-genai#1921 on gemini-2.5-pro, Vela-Research/think-reason-learn#34 on 2.5-flash-lite,
    // mscraftsman/generative-ai#135; all with `responseLogprobs: true`). What `logprobs` alone gets is not known: it is taken.
    if (gc.responseLogprobs === true) return invalidArgument(`Logprobs is not enabled for models/${modelId}`);
  }

  const tc = gc.thinkingConfig;
  if (tc) {
    const hasBudget = tc.thinkingBudget !== undefined;
    const hasLevel = tc.thinkingLevel !== undefined && String(tc.thinkingLevel).toLowerCase() !== 'thinking_level_unspecified';
    // Every served model thinks (the 2.0 models, which refused any thinking config, are shut down).
    const t = model.thinking;
    if (hasBudget && hasLevel) return invalidArgument('You can only set only one of thinking budget and thinking level.');
    if (hasLevel && t.kind !== 'level') return invalidArgument('Thinking level is not supported for this model.');
    if (hasLevel) {
      const lv = String(tc.thinkingLevel).toLowerCase();
      if (!(lv in t.levels)) return invalidArgument(`Thinking level ${lv.toUpperCase()} is not supported for this model.`);
    }
    if (hasBudget) {
      const b = tc.thinkingBudget;
      if (b === 0 && !t.allowZero) return invalidArgument('Budget 0 is invalid. This model only works in thinking mode.');
      if (b !== 0 && b !== -1 && (b < t.min || b > t.max)) {
        return invalidArgument(`The thinking budget ${b} is invalid. Please choose a value between ${t.min} and ${t.max}.`);
      }
    }
  }

  // Array bounds are a budget, not a keyword: a schema whose `maxItems` add up to about 960 is refused (a flat
  // sweep on gemini-3-flash-preview passed at 952 and failed at 960-972: googleapis/python-genai#2170; how nested
  // bounds count was not measured, so they are simply added here). 3.x models say no more than "Request contains
  // an invalid argument." (vercel/ai#21192); 2.5 names the cause (googleapis/python-genai#660).
  // The same refusal comes far sooner for arrays of objects: the grammar an object array's bounds unroll into has
  // its own ceiling, which Google moves (Open-Historia/open-historia#790: every model refused a schema that passed
  // once any one `maxItems` on an array of objects was removed, and had passed a week before;
  // linxule/openinterviewer#23: gemini-3.8-flash passed once `maxItems` was dropped). Off unless configured
  // (`boundedObjectArrays`: the most arrays of objects with `minItems`/`maxItems` a schema may hold).
  const schema = requestSchema(gc);
  const overBudget = schema !== null && (sumMaxItems(schema) >= MAX_ITEMS_BUDGET ||
    (boundedObjectArrays > 0 && countBoundedObjectArrays(schema) > boundedObjectArrays));
  if (overBudget) {
    return invalidArgument(String(modelId).startsWith('gemini-2.') ? TOO_MANY_STATES : 'Request contains an invalid argument.');
  }
  return null;
}

/** Arrays of objects (`items` an object schema) that carry `minItems` or `maxItems`, at any depth. */
export function countBoundedObjectArrays(v) {
  if (Array.isArray(v)) return v.reduce((n, x) => n + countBoundedObjectArrays(x), 0);
  if (v === null || typeof v !== 'object') return 0;
  const it = v.items;
  const objectItems = it !== null && typeof it === 'object' && !Array.isArray(it) &&
    (String(it.type).toLowerCase() === 'object' || (it.properties !== null && typeof it.properties === 'object'));
  const bounded = ('minItems' in v || 'maxItems' in v) && objectItems ? 1 : 0;
  return bounded + Object.values(v).reduce((n, x) => n + countBoundedObjectArrays(x), 0);
}

export const MAX_ITEMS_BUDGET = 960;
export const MAX_STOP_SEQUENCES = 5;
const TOO_MANY_STATES = 'The specified schema produces a constraint that has too many states for serving. Typical causes of this error are schemas with lots of text (for example, very long property or enum names), schemas with long array length limits (especially when nested), or schemas using complex value matchers (for example, integers or numbers with minimum/maximum bounds or strings with complex formats like date-time)';

/** The sum of every `maxItems` in a schema, at any depth. */
function sumMaxItems(v) {
  if (Array.isArray(v)) return v.reduce((n, x) => n + sumMaxItems(x), 0);
  if (v === null || typeof v !== 'object') return 0;
  let n = 0;
  for (const [k, x] of Object.entries(v)) n += k === 'maxItems' && typeof x === 'number' ? x : sumMaxItems(x);
  return n;
}

/**
 * Unknown fields and wrong JSON types in a generateContent body (or a countTokens body, `countTokens`), checked
 * before the model is looked up, as Gemini's JSON decoding comes first: the 400 for them, or null.
 */
export function decodingError(json, countTokens = false) {
  const violations = [];
  walk(countTokens ? 'countTokensRequest' : 'generateRequest', json, '', violations);
  return violations.length ? badRequestPayload(violations) : null;
}

/**
 * Full validation of a generateContent / streamGenerateContent body.
 * Returns { ok: true, req } or { ok: false, status, body }.
 */
export function validateGenerateRequest(json, model, modelId, { boundedObjectArrays = 0 } = {}) {
  const violations = [];
  const req = walk('generateRequest', json, '', violations);
  if (violations.length) return { ok: false, status: 400, body: badRequestPayload(violations) };
  const err = validateGenerate(req, model, modelId, { boundedObjectArrays });
  if (err) return { ok: false, status: 400, body: err };
  const cacheErr = cachedContentError(req);
  if (cacheErr) return { ok: false, status: cacheErr.error.code, body: cacheErr };
  return { ok: true, req };
}

/**
 * `cachedContent` names an explicit cache, `cachedContents/{id}`. The mock creates none (it serves no
 * `cachedContents` endpoint), so every well-formed name is one Gemini does not know: 403 PERMISSION_DENIED
 * `CachedContent not found (or permission denied)`, as Gemini answers a deleted or missing cache on generateContent
 * (a public probe log of 2026-09-07; the same body is what clients retry on: GemCode's docs, an OpenClaw-style proxy,
 * Go and TypeScript gateways). With `systemInstruction`, `tools` or `toolConfig` in the request, Gemini refuses a
 * cache with a 400 (the same probe log; google-gemini/deprecated-generative-ai-python#664); the mock checks that
 * first. A name not of that form gets a 400 whose words are not sourced. An empty name is unset (proto3).
 */
function cachedContentError(req) {
  const name = req.cachedContent;
  if (name === undefined || name === '') return null;
  if (req.systemInstruction !== undefined || req.tools !== undefined || req.toolConfig !== undefined) {
    return invalidArgument('CachedContent can not be used with GenerateContent request setting system_instruction, tools or tool_config.\n\nProposed fix: move those values to CachedContent from GenerateContent request.');
  }
  if (!/^cachedContents\/[^/]+$/.test(name)) {
    return invalidArgument(`* GenerateContentRequest.cached_content: cached_content must be of the form cachedContents/{id}, got "${name}".\n`);
  }
  return googleError(403, 'CachedContent not found (or permission denied)');
}

/** Validation of a countTokens body; returns { ok, req } where req is a GenerateContentRequest. */
export function validateCountTokensRequest(json, model, modelId) {
  const violations = [];
  const ct = walk('countTokensRequest', json, '', violations);
  if (violations.length) return { ok: false, status: 400, body: badRequestPayload(violations) };
  if (ct.contents && ct.generateContentRequest) {
    return { ok: false, status: 400, body: invalidArgument('* CountTokensRequest: only one of contents and generate_content_request can be set.\n') };
  }
  // A wrapped request names its model again (googleapis/python-genai#432; SDKs had to start sending it).
  if (ct.generateContentRequest && !ct.generateContentRequest.model) {
    return { ok: false, status: 400, body: invalidArgument('* CountTokensRequest.generate_content_request.model: model is not specified\n') };
  }
  const req = ct.generateContentRequest || { contents: ct.contents || [] };
  const prefix = ct.generateContentRequest ? 'CountTokensRequest.generate_content_request' : 'CountTokensRequest';
  const err = validateGenerate(req, model, modelId, { forCountTokens: true, prefix });
  if (err) return { ok: false, status: 400, body: err };
  return { ok: true, req };
}

/** Text of all parts (no thoughts) of a Content. */
export function contentText(c) {
  return (c && c.parts ? c.parts : []).filter((p) => typeof p.text === 'string' && !p.thought).map((p) => p.text).join('');
}

/** Concatenated prompt text used for token counting: systemInstruction + every turn + the response schema. */
export function promptChars(req) {
  let s = '';
  if (req.systemInstruction) s += contentText(req.systemInstruction);
  for (const c of req.contents || []) s += contentText(c);
  return s + schemaText(requestSchema(req.generationConfig));
}

/**
 * A response schema as the prompt text it is charged as: Gemini counts the schema against the input tokens (and
 * bills it) on every request that sends it. Its JSON text stands for it here, so a bigger schema costs more.
 */
export function schemaText(schema) {
  return schema == null ? '' : JSON.stringify(schema);
}
