// Model table and thinking rules of the mock Gemini v1beta API.

const COMMON_METHODS = ['generateContent', 'countTokens', 'createCachedContent', 'batchGenerateContent'];

/**
 * thinking (every served model thinks; the 2.0 models, which could not, are shut down):
 *   { kind: 'budget', min, max, allowZero, default: 'dynamic'|'off', dynamicBase }
 *   { kind: 'level', levels: {low, high}, default: 'high', min, max }  (3.x; budget accepted too)
 */
/** The thinking rules every 3.x Flash-Lite shares: levels from `minimal` (no thinking, the default) up. */
const FLASH_LITE_3_THINKING = {
  kind: 'level', levels: { minimal: 0, low: 150, medium: 500, high: 1500 }, default: 'minimal', min: 512, max: 24576, allowZero: false, dynamicBase: 400,
};

export const MODELS = {
  'gemini-2.5-flash': {
    version: '001', displayName: 'Gemini 2.5 Flash',
    description: 'Stable version of Gemini 2.5 Flash, our mid-size multimodal model that supports up to 1 million tokens, released in June of 2025.',
    outputTokenLimit: 65536, topK: 64,
    thinking: { kind: 'budget', min: 0, max: 24576, allowZero: true, default: 'dynamic', dynamicBase: 600 },
  },
  'gemini-2.5-flash-lite': {
    version: '001', displayName: 'Gemini 2.5 Flash-Lite',
    description: 'Stable version of Gemini 2.5 Flash-Lite, released in July of 2025',
    outputTokenLimit: 65536, topK: 64,
    thinking: { kind: 'budget', min: 512, max: 24576, allowZero: true, default: 'off', dynamicBase: 400 },
  },
  'gemini-2.5-pro': {
    version: '2.5', displayName: 'Gemini 2.5 Pro',
    description: 'Stable release (June 17th, 2025) of Gemini 2.5 Pro',
    outputTokenLimit: 65536, topK: 64,
    thinking: { kind: 'budget', min: 128, max: 32768, allowZero: false, default: 'dynamic', dynamicBase: 1200 },
  },
  // The current generation (November 2026). Thinking is set by level; the Flash and Flash-Lite models take no
  // budget of 0 (`minimal` is the lowest a Flash-Lite goes, `low` a Flash or Pro).
  'gemini-3.8-flash': {
    version: '3.8', displayName: 'Gemini 3.8 Flash',
    description: 'Gemini 3.8 Flash, our most intelligent workhorse model',
    outputTokenLimit: 65536, topK: 64,
    thinking: { kind: 'level', levels: { low: 250, medium: 900, high: 2400 }, default: 'medium', min: 128, max: 32768, allowZero: false, dynamicBase: 900 },
  },
  'gemini-3.7-flash': {
    version: '3.7', displayName: 'Gemini 3.7 Flash',
    description: 'Gemini 3.7 Flash',
    outputTokenLimit: 65536, topK: 64,
    thinking: { kind: 'level', levels: { low: 200, medium: 700, high: 2000 }, default: 'medium', min: 128, max: 32768, allowZero: false, dynamicBase: 700 },
  },
  'gemini-3.5-flash-lite': {
    version: '3.5-flash-lite', displayName: 'Gemini 3.5 Flash-Lite',
    description: 'Gemini 3.5 Flash-Lite, our most cost-efficient model',
    outputTokenLimit: 65536, topK: 64,
    thinking: FLASH_LITE_3_THINKING,
  },
  'gemini-3.1-flash-lite': {
    version: '3.1-flash-lite', displayName: 'Gemini 3.1 Flash-Lite',
    description: 'Gemini 3.1 Flash-Lite',
    outputTokenLimit: 65536, topK: 64,
    thinking: FLASH_LITE_3_THINKING,
  },
  'gemini-3.1-pro-preview': {
    version: '3.1-pro-preview', displayName: 'Gemini 3.1 Pro Preview',
    description: 'Gemini 3.1 Pro Preview',
    outputTokenLimit: 65536, topK: 64,
    thinking: { kind: 'level', levels: { low: 300, medium: 1000, high: 2000 }, default: 'high', min: 128, max: 32768, allowZero: false, dynamicBase: 2000 },
  },
};

/**
 * Google's moving aliases, served like the model each points at now (its limits and thinking rules), under their own
 * name: `GET models/gemini-flash-latest` names itself, with the version, display name and description ListModels
 * shows for it ("Gemini Flash Latest", "Latest release of Gemini Flash"). A client that keys its settings on a
 * model's name must know them: `gemini-flash-latest` thinks at a Gemini 3 Flash's default level unless told less.
 */
export const ALIASES = {
  'gemini-flash-latest': { target: 'gemini-3.8-flash', displayName: 'Gemini Flash Latest', description: 'Latest release of Gemini Flash' },
  'gemini-flash-lite-latest': { target: 'gemini-3.5-flash-lite', displayName: 'Gemini Flash-Lite Latest', description: 'Latest release of Gemini Flash-Lite' },
  'gemini-pro-latest': { target: 'gemini-3.1-pro-preview', displayName: 'Gemini Pro Latest', description: 'Latest release of Gemini Pro' },
};
for (const [id, { target, displayName, description }] of Object.entries(ALIASES)) {
  MODELS[id] = { ...MODELS[target], version: displayName, displayName, description };
}

/**
 * Models Google has shut down: Gemini answers 404 for them, on every method, exactly as for a name it never had
 * (`MODEL_NOT_FOUND`), and ListModels leaves them out. The mock does not serve them either; this table is for the
 * README and the tests. `replacement` is Google's recommended successor, or, where that is shut down too
 * (gemini-1.5-flash's was gemini-2.0-flash), the successor's: always a served model, so that
 * `--route <id>=<replacement>` is accepted.
 */
export const SHUT_DOWN = {
  'gemini-1.5-flash': { shutDown: '2025-09-24', replacement: 'gemini-2.5-flash' },
  'gemini-1.5-pro': { shutDown: '2025-09-24', replacement: 'gemini-2.5-pro' },
  'gemini-2.0-flash': { shutDown: '2026-06-01', replacement: 'gemini-2.5-flash' },
  'gemini-2.0-flash-001': { shutDown: '2026-06-01', replacement: 'gemini-2.5-flash' },
  'gemini-2.0-flash-lite': { shutDown: '2026-06-01', replacement: 'gemini-2.5-flash-lite' },
  'gemini-2.0-flash-lite-001': { shutDown: '2026-06-01', replacement: 'gemini-2.5-flash-lite' },
  'gemini-3-pro-preview': { shutDown: '2026-03-09', replacement: 'gemini-3.1-pro-preview' },
};

export const INPUT_TOKEN_LIMIT = 1048576;

/** The most prompt tokens `model` takes (its `inputTokenLimit`): longer prompts get a 400. */
export function inputTokenLimit(model) {
  return model.inputTokenLimit ?? INPUT_TOKEN_LIMIT;
}

/** Normalise "models/x", "models%2Fx" or "x" to "x". */
export function normalizeModelId(raw) {
  let id = String(raw || '');
  try { id = decodeURIComponent(id); } catch { /* keep raw */ }
  if (id.startsWith('models/')) id = id.slice('models/'.length);
  return id;
}

export function getModel(id) {
  return Object.prototype.hasOwnProperty.call(MODELS, id) ? MODELS[id] : null;
}

/** The public GET /v1beta/models/{id} representation (false booleans omitted, like proto3 JSON). */
export function modelResource(id) {
  const m = MODELS[id];
  const out = {
    name: `models/${id}`,
    version: m.version,
    displayName: m.displayName,
    description: m.description,
    inputTokenLimit: inputTokenLimit(m),
    outputTokenLimit: m.outputTokenLimit,
    supportedGenerationMethods: COMMON_METHODS,
    temperature: 1,
    topP: 0.95,
    topK: m.topK,
    maxTemperature: 2,
  };
  if (m.thinking) out.thinking = true;
  return out;
}

/** Dynamic thinking size: deterministic, grows with the prompt, capped at 8192. */
export function dynamicThinking(model, promptTokens) {
  const base = model.thinking ? model.thinking.dynamicBase : 600;
  return Math.min(8192, base + Math.floor(promptTokens / 4));
}

/**
 * Thinking tokens the model spends for this (validated) request, before the
 * maxOutputTokens cap is applied.
 */
export function plannedThinking(model, thinkingConfig, promptTokens) {
  const t = model.thinking;
  if (!t) return 0;
  const tc = thinkingConfig || {};
  const budget = tc.thinkingBudget != null ? Number(tc.thinkingBudget) : null;
  const level = tc.thinkingLevel != null ? String(tc.thinkingLevel).toLowerCase() : null;
  if (t.kind === 'level' && level) return t.levels[level];
  if (budget === 0) return 0;
  if (budget === -1) return dynamicThinking(model, promptTokens);
  if (budget != null) return Math.min(budget, dynamicThinking(model, promptTokens));
  if (t.kind === 'level') return t.levels[t.default];
  return t.default === 'off' ? 0 : dynamicThinking(model, promptTokens);
}
