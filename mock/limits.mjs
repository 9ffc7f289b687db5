// Quotas as Gemini enforces them per project and model (here: per API key and model): requests per minute and
// input tokens per minute over a sliding window, requests per day over days that end at midnight Pacific.
// Off unless configured (`rpm`, `tpm`, `rpd`).

/** The quota window, one minute of the mock's clock (every delay is multiplied by the time scale). */
export const QUOTA_WINDOW_MS = 60_000;

/** A day of the mock's clock. */
export const QUOTA_DAY_MS = 86_400_000;

/** Daily quotas reset at midnight Pacific time: 08:00 UTC (standard time; daylight saving is not modelled). */
export const QUOTA_DAY_STARTS_MS = 8 * 3_600_000;

/** Deletes from `map` (keyed "key\nmodel") every entry of `key`, on every model. */
export function forgetKey(map, key) {
  for (const id of [...map.keys()]) if (id.startsWith(`${key}\n`)) map.delete(id);
}

export class RateLimiter {
  constructor() {
    /** "key\nmodel" -> admitted requests still in the window, oldest first: [{at, tokens}] */
    this.admitted = new Map();
    /** "key\nmodel" -> {day, count}: requests admitted on the day numbered `day` */
    this.daily = new Map();
  }

  /** Forgets what `key` used, on every model. */
  forget(key) {
    forgetKey(this.admitted, key);
    forgetKey(this.daily, key);
  }

  /**
   * Admits a request (and counts it) or refuses it. A refused request is not counted, so a client that waits
   * out the refusal gets in. `tokens` are the request's input tokens. `dayMs` is a day of the mock's clock
   * (`QUOTA_DAY_MS` times the time scale); days begin `QUOTA_DAY_STARTS_MS` (scaled alike) after a multiple of it.
   * @returns {null | {quota: 'day'|'requests'|'tokens', limit: number, waitMs: number}} waitMs: until it would fit
   */
  admit({ key, model, tokens, rpm, tpm, rpd = 0, now, windowMs, dayMs = QUOTA_DAY_MS * (windowMs / QUOTA_WINDOW_MS) }) {
    const id = `${key}\n${model}`;
    const shift = QUOTA_DAY_STARTS_MS * (dayMs / QUOTA_DAY_MS);
    const day = Math.floor((now - shift) / dayMs);
    let today = this.daily.get(id);
    if (!today || today.day !== day) today = { day, count: 0 };
    if (rpd > 0 && today.count >= rpd) {
      return { quota: 'day', limit: rpd, waitMs: Math.max(1, (day + 1) * dayMs + shift - now) };
    }
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
    today.count++;
    this.daily.set(id, today);
    return null;
  }
}
