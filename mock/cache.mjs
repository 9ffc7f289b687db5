// Implicit caching, on by default for Gemini 2.5 and newer: a request whose prompt begins like the prompt of a
// recent request (same key and model) gets that shared prefix from the cache, reported as cachedContentTokenCount.

import { forgetKey } from './limits.mjs';
import { ALIASES } from './models.mjs';

/** Minimum cacheable prefix, in tokens, by model family (ai.google.dev/gemini-api/docs/caching, Oct. 2026); an
 * alias (`gemini-flash-latest`) caches as the model it points at. */
export function implicitCacheMin(id) {
  const modelId = Object.hasOwn(ALIASES, id) ? ALIASES[id].target : id;
  if (modelId.startsWith('gemini-2.5-')) return 2048;
  if (/^gemini-[3-9]/.test(modelId)) return 4096;
  return null; // 2.0 models had none (they are shut down: every served model caches)
}

/** How long a prompt stays cached, on the mock's clock. */
export const CACHE_TTL_MS = 5 * 60_000;

export class ImplicitCache {
  constructor() {
    /** "key\nmodel" -> recent prompts, oldest first: [{at, text}] */
    this.recent = new Map();
  }

  /**
   * The tokens of `text` served from the cache: the longest prefix it shares with a recent prompt, counted like
   * the prompt (ceil(code points / 4), never more than the prompt), when that reaches `minTokens`; else 0. Every
   * hit is taken: Gemini's hits are likely, not certain, so this is the most favourable case for resent prompts.
   * Then remembers `text`.
   */
  lookup({ key, model, text, minTokens, now, ttlMs }) {
    const id = `${key}\n${model}`;
    const live = (this.recent.get(id) || []).filter((p) => now - p.at < ttlMs);
    let shared = 0;
    for (const p of live) {
      const max = Math.min(p.text.length, text.length);
      let i = 0;
      while (i < max && p.text.charCodeAt(i) === text.charCodeAt(i)) i++;
      shared = Math.max(shared, i);
    }
    live.push({ at: now, text });
    this.recent.set(id, live.slice(-20));
    // whole code points only (a surrogate pair split by the compare does not count)
    const prefix = text.slice(0, shared);
    const codePoints = [...prefix].length - (/[\uD800-\uDBFF]$/.test(prefix) ? 1 : 0);
    const tokens = Math.floor(codePoints / 4);
    return minTokens != null && tokens >= minTokens ? tokens : 0;
  }

  forget(key) {
    forgetKey(this.recent, key);
  }
}
