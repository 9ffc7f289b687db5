// Small Node-side helpers for driving the mock from tests (Node 20, global fetch).
// Not needed by the server itself.
//
//   import { startMock } from './gemini-mock.mjs';
//   import { script, requests, reset, generate, parseSSE } from './control.mjs';

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Starts the mock's CLI in a child process with `args`; resolves with `{ child, url, stdout }` once it prints
 * its listening line (`stdout()` is everything it printed so far). Rejects if it exits first or takes 5 s.
 */
export function spawnMock(args) {
  const script = fileURLToPath(new URL('./gemini-mock.mjs', import.meta.url));
  const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.setEncoding('utf8');
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('mock did not start')), 5000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/^MOCK_GEMINI_LISTENING (http:\/\/127\.0\.0\.1:\d+)\n/);
      if (m) { clearTimeout(t); resolve({ child, url: m[1], stdout: () => out }); }
    });
    child.on('exit', (code) => reject(new Error(`exited early with ${code}`)));
  });
}

async function jsonFetch(url, init) {
  const res = await fetch(url, init);
  const text = await res.text();
  let body;
  try { body = JSON.parse(text); } catch { body = text; }
  if (!res.ok) throw new Error(`${init && init.method || 'GET'} ${url} -> ${res.status}: ${text}`);
  return body;
}

const post = (url, body) => jsonFetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

/** Queue scripted steps for an API key ("*" = any key without its own queue). */
export function script(base, key, steps, { replace = false } = {}) {
  return post(`${base}/__mock/script`, { key, steps, replace });
}

/** Request log, optionally only for one key and/or after a sequence number. */
export async function requests(base, { key, since } = {}) {
  const q = new URLSearchParams();
  if (key) q.set('key', key);
  if (since) q.set('since', String(since));
  const body = await jsonFetch(`${base}/__mock/requests${q.size ? '?' + q : ''}`);
  return body.requests;
}

export function reset(base, key) {
  return post(`${base}/__mock/reset`, key ? { key } : {});
}

export function setConfig(base, cfg) {
  return post(`${base}/__mock/config`, cfg);
}

/** Build a minimal GenerateContentRequest body for one user turn. */
export function userRequest(text, generationConfig, extra = {}) {
  const body = { contents: [{ role: 'user', parts: [{ text }] }], ...extra };
  if (generationConfig) body.generationConfig = generationConfig;
  return body;
}

/** Roadmap prompt following the mock's prompt contract. */
export function roadmapPrompt({ role = 'DevOps Engineer', totalWeeks = 12, task = 'OUTLINE' } = {}) {
  return `You are an expert curriculum designer.\nRole: ${role}\nTotal weeks: ${totalWeeks}\nTASK: ${task}\nAnswer with JSON only.`;
}

/**
 * POST to generateContent / streamGenerateContent (or `method`, e.g. countTokens).
 * opts: { model (default gemini-3.1-flash-lite, the package's default model), key, body (object or raw string), stream,
 *   sse (default true when stream), headers, keyInUrl, signal }
 * Returns { status, headers, text, json? }
 */
export async function generate(base, opts = {}) {
  const model = opts.model || 'gemini-3.1-flash-lite';
  const method = opts.method || (opts.stream ? 'streamGenerateContent' : 'generateContent');
  const q = new URLSearchParams();
  if (opts.stream && opts.sse !== false) q.set('alt', 'sse');
  if (opts.keyInUrl) q.set('key', opts.key);
  const headers = { 'content-type': 'application/json', ...(opts.headers || {}) };
  if (opts.key && !opts.keyInUrl) headers['x-goog-api-key'] = opts.key;
  const res = await fetch(`${base}/v1beta/models/${model}:${method}${q.size ? '?' + q : ''}`, {
    method: 'POST',
    headers,
    body: typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body ?? {}),
    signal: opts.signal,
  });
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, headers: res.headers, text, json };
}

/** Split an SSE body into events; throws if the framing is not `data: <json>\r\n\r\n`. */
export function parseSSE(raw) {
  if (raw === '') return [];
  if (!raw.endsWith('\r\n\r\n')) throw new Error('SSE body does not end with \\r\\n\\r\\n');
  return raw.slice(0, -4).split('\r\n\r\n').map((ev) => {
    if (!ev.startsWith('data: ')) throw new Error(`SSE event without "data: " prefix: ${ev.slice(0, 80)}`);
    return JSON.parse(ev.slice(6));
  });
}

/** Visible (non-thought) text of a GenerateContentResponse. */
export function responseText(resp) {
  const parts = resp && resp.candidates && resp.candidates[0] && resp.candidates[0].content && resp.candidates[0].content.parts;
  return (parts || []).filter((p) => !p.thought && typeof p.text === 'string').map((p) => p.text).join('');
}
