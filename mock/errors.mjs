// Google-style error bodies (google.rpc.Status as JSON) used by the mock.

export const STATUS_NAMES = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ABORTED',
  429: 'RESOURCE_EXHAUSTED',
  499: 'CANCELLED',
  500: 'INTERNAL',
  501: 'NOT_IMPLEMENTED',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

const DEFAULT_MESSAGES = {
  400: 'Request contains an invalid argument.',
  401: 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.',
  403: 'The caller does not have permission',
  404: 'Requested entity was not found.',
  409: 'The operation was aborted.',
  429: 'Resource has been exhausted (e.g. check quota).',
  499: 'The operation was cancelled.',
  500: 'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting',
  501: 'Operation is not implemented, or supported, or enabled.',
  503: 'This model is currently experiencing high demand. Spikes in demand are usually temporary. Please try again later.',
  504: 'Deadline expired before operation could complete.',
};

export function googleError(code, message, details) {
  const err = { code, message: message ?? DEFAULT_MESSAGES[code] ?? 'Unknown error.', status: STATUS_NAMES[code] ?? 'UNKNOWN' };
  if (details && details.length) err.details = details;
  return { error: err };
}

export function invalidArgument(message, details) {
  return googleError(400, message, details);
}

/** `Invalid JSON payload received. ...` errors carry a BadRequest detail. */
export function badRequestPayload(violations) {
  const message = violations.map((v) => v.description).join('\n');
  return googleError(400, message, [{
    '@type': 'type.googleapis.com/google.rpc.BadRequest',
    fieldViolations: violations.map((v) => (v.field ? { field: v.field, description: v.description } : { description: v.description })),
  }]);
}

export const MISSING_KEY = () => googleError(403,
  'Method doesn\'t allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.');

export const INVALID_KEY = () => googleError(400, 'API key not valid. Please pass a valid API key.', [
  {
    '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
    reason: 'API_KEY_INVALID',
    domain: 'googleapis.com',
    metadata: { service: 'generativelanguage.googleapis.com' },
  },
  {
    '@type': 'type.googleapis.com/google.rpc.LocalizedMessage',
    locale: 'en-US',
    message: 'API key not valid. Please pass a valid API key.',
  },
]);

/**
 * A key Gemini does not take (2026: an `AQ.` auth key on an account whose keys it refuses, by header and by `?key=`
 * alike): 401 `UNAUTHENTICATED`, `ACCESS_TOKEN_TYPE_UNSUPPORTED` (xalgorix/xalgorix#2, Kilo-Org/kilocode#11763).
 */
export const TOKEN_TYPE_UNSUPPORTED = (method) => googleError(401, DEFAULT_MESSAGES[401], [{
  '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
  reason: 'ACCESS_TOKEN_TYPE_UNSUPPORTED',
  metadata: {
    method: `google.ai.generativelanguage.v1beta.${method === 'GetModel' || method === 'ListModels' ? 'ModelService' : 'GenerativeService'}.${method}`,
    service: 'generativelanguage.googleapis.com',
  },
}]);

/** A key Google found published (GitHub, a web page): refused on every call, with no details. */
export const LEAKED_KEY = () => googleError(403, 'Your API key was reported as leaked. Please use another API key.');

/**
 * A key whose API restrictions leave out the Generative Language API (e.g. restricted to "Gemini for Google Cloud
 * API"): `method` is the refused RPC, `GenerateContent`, `StreamGenerateContent`, `CountTokens`, `GetModel`, ...
 */
export const SERVICE_BLOCKED = (method) => {
  const methodName = `google.ai.generativelanguage.v1beta.${method === 'GetModel' || method === 'ListModels' ? 'ModelService' : 'GenerativeService'}.${method}`;
  const message = `Requests to this API generativelanguage.googleapis.com method ${methodName} are blocked.`;
  return googleError(403, message, [
    {
      '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
      reason: 'API_KEY_SERVICE_BLOCKED',
      domain: 'googleapis.com',
      metadata: { consumer: 'projects/123456789012', service: 'generativelanguage.googleapis.com', apiName: 'generativelanguage.googleapis.com', methodName },
    },
    { '@type': 'type.googleapis.com/google.rpc.LocalizedMessage', locale: 'en-US', message },
  ]);
};

/** A caller outside the API's available regions (or behind a proxy that is): 400, but no argument is wrong. */
export const LOCATION_UNSUPPORTED = () => ({
  error: { code: 400, message: 'User location is not supported for the API use.', status: 'FAILED_PRECONDITION' },
});

/**
 * A key whose application restrictions allow only some websites (HTTP referrers), called with no `Referer` or one
 * they do not match: `referer` is the header as sent (null or "" when there was none, shown as `<empty>`).
 */
export const REFERRER_BLOCKED = (referer) => {
  const httpReferrer = referer ? String(referer) : '<empty>';
  return googleError(403, `Requests from referer ${httpReferrer} are blocked.`, [{
    '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
    reason: 'API_KEY_HTTP_REFERRER_BLOCKED',
    domain: 'googleapis.com',
    metadata: { httpReferrer, consumer: 'projects/123456789012', service: 'generativelanguage.googleapis.com' },
  }]);
};

// The websites a `site-…` key is restricted to, as they would be entered in the key's settings:
// `http://127.0.0.1:*/*` and `http://localhost:*/*`, i.e. any page of any origin on those two hosts (any port, or none).
const SITE_KEY_REFERRERS = [/^http:\/\/127\.0\.0\.1(?::\d+)?\//, /^http:\/\/localhost(?::\d+)?\//];

/** Does a `site-…` key accept a request with this `Referer` header? */
export function siteKeyAllows(referer) {
  return typeof referer === 'string' && SITE_KEY_REFERRERS.some((re) => re.test(referer));
}

/**
 * The state of a key, read from its prefix: `missing`, `invalid` (`bad…` or under 8 characters), `leaked`
 * (`leaked-…`), `blocked` (`blocked-…`: restricted to other APIs), `region` (`region-…`: used from an unsupported
 * location), `site` (`site-…`: restricted to websites, see `siteKeyAllows`), `unsupported` (`unsupported-…`: a key
 * type Gemini refuses), or null for a usable key.
 */
export function keyState(key) {
  if (!key) return 'missing';
  if (key.startsWith('bad') || key.length < 8) return 'invalid';
  for (const s of PREFIXED_KEY_STATES) if (key.startsWith(`${s}-`)) return s;
  return null;
}

/** The states a key's prefix names (`leaked-…`, ...). */
const PREFIXED_KEY_STATES = ['leaked', 'blocked', 'region', 'site', 'unsupported'];
/** Every state `keyRefusalFor` answers: also what a scripted `{"fault":"key","as":...}` may name. */
export const KEY_STATES = ['missing', 'invalid', ...PREFIXED_KEY_STATES];

/**
 * What Gemini answers a key in `state` (see `keyState`) before anything else, for the RPC `method` and the request's
 * `Referer` header `referer`. A `site` key is refused only when `referer` is not one of its websites; `force` refuses
 * it whatever the referrer (the scripted `{"fault":"key","as":"site"}`: a key restricted to other websites).
 */
export function keyRefusalFor(state, method, { referer = null, force = false } = {}) {
  switch (state) {
    case 'missing': return { status: 403, body: MISSING_KEY() };
    case 'invalid': return { status: 400, body: INVALID_KEY() };
    case 'leaked': return { status: 403, body: LEAKED_KEY() };
    case 'blocked': return { status: 403, body: SERVICE_BLOCKED(method) };
    case 'region': return { status: 400, body: LOCATION_UNSUPPORTED() };
    case 'site': return !force && siteKeyAllows(referer) ? null : { status: 403, body: REFERRER_BLOCKED(referer) };
    case 'unsupported': return { status: 401, body: TOKEN_TYPE_UNSUPPORTED(method) };
    default: return null;
  }
}

/** `keyRefusalFor(keyState(key), method, {referer})`: null for a usable key. */
export const keyRefusal = (key, method, referer = null) => keyRefusalFor(keyState(key), method, { referer });

/**
 * A prompt longer than the model's inputTokenLimit (generateContent and streamGenerateContent; countTokens still
 * counts it), in the form reported in 2026 (google-gemini/gemini-cli#22609). Earlier reports show `The input token
 * count (N) exceeds the maximum number of tokens allowed (LIMIT).` and, late in 2025, `... allowed (LIMIT).`: a
 * client should not parse the numbers out of the message.
 */
export const INPUT_TOO_LONG = (limit) => invalidArgument(`The input token count exceeds the maximum number of tokens allowed ${limit}.`);

export const MODEL_NOT_FOUND = (id, method = 'generateContent') => googleError(404,
  `models/${id} is not found for API version v1beta, or is not supported for ${method}. Call ListModels to see the list of available models and their supported methods.`);

/**
 * Go's `time.Duration` text, in which Gemini writes the wait into a quota message: `22.362138795s`, under a second
 * `393.337641ms`, from a minute `1m0.5s`, from an hour `9h37m19.9s` (a per-day quota's wait for its reset).
 */
export function goDuration(seconds) {
  const ns = Math.round(seconds * 1e9);
  if (ns === 0) return '0s';
  if (ns < 1e3) return `${ns}ns`;
  if (ns < 1e6) return `${ns / 1e3}µs`;
  if (ns < 1e9) return `${ns / 1e6}ms`;
  const h = Math.floor(ns / 3.6e12);
  const m = Math.floor((ns % 3.6e12) / 6e10);
  return `${h ? `${h}h` : ''}${h || m ? `${m}m` : ''}${(ns % 6e10) / 1e9}s`;
}

function parseDelaySeconds(retryDelay) {
  const m = String(retryDelay).match(/^(\d+(?:\.\d+)?)s$/);
  return m ? Number(m[1]) : null;
}

const QUOTAS = {
  minute: {
    metric: 'generativelanguage.googleapis.com/generate_content_free_tier_requests',
    id: 'GenerateRequestsPerMinutePerProjectPerModel-FreeTier',
    // gemini-2.5-flash's free tier since December 2025 (10 before)
    value: 5,
  },
  day: {
    metric: 'generativelanguage.googleapis.com/generate_content_free_tier_requests',
    id: 'GenerateRequestsPerDayPerProjectPerModel-FreeTier',
    value: 20,
  },
  tokens: {
    metric: 'generativelanguage.googleapis.com/generate_content_free_tier_input_token_count',
    id: 'GenerateContentInputTokensPerModelPerMinute-FreeTier',
    value: 250000,
  },
  // named only in the bodies of a model outside the key's tier (ZERO_QUOTA_ORDERS)
  tokensDay: {
    metric: 'generativelanguage.googleapis.com/generate_content_free_tier_input_token_count',
    id: 'GenerateContentInputTokensPerModelPerDay-FreeTier',
    value: null,
  },
};

/**
 * A model outside the key's tier (a free-tier quota of 0) is refused on every count at once: Gemini's body names the
 * four free-tier quotas, requests per day and per minute, input tokens per minute and per day, each `limit: 0` in the
 * message and a violation with no `quotaValue`. Captures list them in more than one order (gemini-2.5-pro: requests
 * per day first; gemini-3-pro: input tokens per minute first; google-gemini/gemini-cli#22486 has the message's
 * lines tokens, requests, requests, tokens): the mock takes these two in turn, so that a client which reads only the
 * first violation meets both.
 */
const ZERO_QUOTA_ORDERS = [
  ['day', 'minute', 'tokens', 'tokensDay'],
  ['tokens', 'minute', 'day', 'tokensDay'],
];
let zeroQuotaBodies = 0;

/**
 * Gemini's 429 for exhausted quotas: the message names each (`limit:` its value) and ends with the wait, then
 * Help, QuotaFailure (one violation per quota; `quotaValue` only where `value` is given) and optional RetryInfo.
 * `retryIn` is the exact wait the message names, in seconds (Gemini writes it there, e.g. `22.362138795s`, `1m0.5s`,
 * and only whole seconds in RetryInfo); without it, the seconds of `retryDelay`.
 */
function quotaBody(model, violations, { retryDelay = null, retryIn = null, message = null } = {}) {
  const secs = retryIn ?? (retryDelay != null ? parseDelaySeconds(retryDelay) : null);
  const msg = message ||
    'You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits. To monitor your current usage, head to: https://ai.dev/rate-limit. \n' +
      violations.map(({ quota, value, limit }) => `* Quota exceeded for metric: ${quota.metric}, limit: ${limit ?? value ?? quota.value}, model: ${model}`).join('\n') +
      (secs != null ? `\nPlease retry in ${goDuration(secs)}.` : '');
  // In the order Gemini sends them since 2026: Help first.
  const details = [
    {
      '@type': 'type.googleapis.com/google.rpc.Help',
      links: [{ description: 'Learn more about Gemini API quotas', url: 'https://ai.google.dev/gemini-api/docs/rate-limits' }],
    },
    {
      '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
      violations: violations.map(({ quota, value }) => ({
        quotaMetric: quota.metric,
        quotaId: quota.id,
        quotaDimensions: { location: 'global', model },
        ...(value != null ? { quotaValue: value } : {}),
      })),
    },
  ];
  if (retryDelay != null) details.push({ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: String(retryDelay) });
  return googleError(429, msg, details);
}

/**
 * 429 free-tier quota error: requests per minute (default), per day (`perDay`) or input tokens per minute
 * (`tokens`). `limit` overrides the quota's value. See `quotaBody` for `retryDelay` and `retryIn`.
 */
export function quotaError(model, { perDay = false, tokens = false, limit = null, retryDelay = null, retryIn = null, message = null } = {}) {
  if (limit != null && Number(limit) === 0) return zeroQuotaError(model, { retryDelay, retryIn, message });
  const quota = tokens ? QUOTAS.tokens : perDay ? QUOTAS.day : QUOTAS.minute;
  return quotaBody(model, [{ quota, value: String(limit ?? quota.value) }], { retryDelay, retryIn, message });
}

/** The 429 of a model outside the key's tier (see ZERO_QUOTA_ORDERS): four quotas of 0, no `quotaValue`. */
function zeroQuotaError(model, { retryDelay, retryIn, message }) {
  const order = ZERO_QUOTA_ORDERS[zeroQuotaBodies++ % ZERO_QUOTA_ORDERS.length];
  const violations = order.map((k) => ({ quota: QUOTAS[k], value: null, limit: 0 }));
  return quotaBody(model, violations, { retryDelay, retryIn, message });
}

/**
 * A 429 naming several exhausted quotas at once (`kinds`: "minute", "day", "tokens"), each violation without a
 * `quotaValue`, as Gemini sends when a project's free tier is used up on every count.
 */
function severalQuotasError(model, kinds, retryDelay) {
  return quotaBody(model, kinds.map((k) => ({ quota: QUOTAS[k] || QUOTAS.minute, value: null })), { retryDelay });
}

export function statusFaultBody(status, model, step) {
  // A bare 429: Gemini's generic body, no details at all.
  if (status === 429 && step.bare === true) return googleError(429, step.message ?? undefined);
  if (status === 429 && Array.isArray(step.quotas)) return severalQuotasError(model, step.quotas, step.retryDelay ?? null);
  if (status === 429) return quotaError(model, { retryDelay: step.retryDelay ?? null, limit: step.limit ?? null, message: step.message ?? null });
  return googleError(status, step.message ?? undefined);
}

/** Google front-end style HTML error pages (502, 404, ...). */
export function htmlErrorPage(code, { path = '/' } = {}) {
  const titles = { 404: 'Not Found', 502: 'Server Error', 500: 'Server Error', 503: 'Service Unavailable' };
  const text = code === 404
    ? `<p>The requested URL <code>${escapeHtml(path)}</code> was not found on this server.  <ins>That\u2019s all we know.</ins>`
    : code === 502
      ? '<p>The server encountered a temporary error and could not complete your request.<p>Please try again in 30 seconds.  <ins>That\u2019s all we know.</ins>'
      : '<p>The server encountered an error and could not complete your request.<p>Please try again later.  <ins>That\u2019s all we know.</ins>';
  return `<!DOCTYPE html>
<html lang=en>
  <meta charset=utf-8>
  <meta name=viewport content="initial-scale=1, minimum-scale=1, width=device-width">
  <title>Error ${code} (${titles[code] || 'Error'})!!1</title>
  <style>
    *{margin:0;padding:0}html,code{font:15px/22px arial,sans-serif}html{background:#fff;color:#222;padding:15px}body{margin:7% auto 0;max-width:390px;min-height:180px;padding:30px 0 15px}* > body{background:url(//www.google.com/images/errors/robot.png) 100% 5px no-repeat;padding-right:205px}p{margin:11px 0 22px;overflow:hidden}ins{color:#777;text-decoration:none}a img{border:0}
  </style>
  <a href=//www.google.com/><span id=logo aria-label=Google></span></a>
  <p><b>${code}.</b> <ins>That\u2019s an error.</ins>
  ${text}
`;
}

function escapeHtml(s) {
  return String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]));
}

export const SAFETY_RATINGS_BLOCKED = (blockedCategory = 'HARM_CATEGORY_DANGEROUS_CONTENT') => [
  'HARM_CATEGORY_SEXUALLY_EXPLICIT', 'HARM_CATEGORY_HATE_SPEECH', 'HARM_CATEGORY_HARASSMENT', 'HARM_CATEGORY_DANGEROUS_CONTENT',
].map((category) => (category === blockedCategory
  ? { category, probability: 'HIGH', blocked: true }
  : { category, probability: 'NEGLIGIBLE' }));
