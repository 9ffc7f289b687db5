// Per-minute quotas as Gemini enforces them per project and model (here: per API key and model): requests per
// minute and input tokens per minute, over a sliding window. Off unless configured (`rpm`, `tpm`).

/** The quota window, one minute of the mock's clock (every delay is multiplied by the time scale). */
export const QUOTA_WINDOW_MS = 60_000;

export class RateLimiter {
  constructor() {
    /** "key\nmodel" -> admitted requests still in the window, oldest first: [{at, tokens}] */
    this.admitted = new Map();
  }

  /** Forgets what `key` used, on every model. */
  forget(key) {
    for (const id of [...this.admitted.keys()]) if (id.startsWith(`${key}\n`)) this.admitted.delete(id);
  }

  /**
   * Admits a request (and counts it) or refuses it. A refused request is not counted, so a client that waits
   * out the refusal gets in. `tokens` are the request's input tokens.
   * @returns {null | {quota: 'requests'|'tokens', limit: number, waitMs: number}} waitMs: until it would fit
   */
  admit({ key, model, tokens, rpm, tpm, now, windowMs }) {
    const id = `${key}\n${model}`;
    const live = (this.admitted.get(id) || []).filter((u) => now - u.at < windowMs);
    this.admitted.set(id, live);
    const expiry = (u) => Math.max(0, u.at + windowMs - now);
    if (rpm > 0 && live.length >= rpm) {
      return { quota: 'requests', limit: rpm, waitMs: expiry(live[live.length - rpm]) };
    }
    if (tpm > 0) {
      let used = live.reduce((sum, u) => sum + u.tokens, 0);
      if (used + tokens > tpm) {
        // A request larger than the whole quota never fits: Gemini still names a wait, the full window.
        if (tokens > tpm) return { quota: 'tokens', limit: tpm, waitMs: windowMs };
        let i = 0;
        while (used + tokens > tpm) used -= live[i++].tokens;
        return { quota: 'tokens', limit: tpm, waitMs: expiry(live[i - 1]) };
      }
    }
    live.push({ at: now, tokens });
    return null;
  }
}
