// What the seeded chaos tests share (chat-chaos.test.mjs, roadmap-chaos.test.mjs): their randomness, the API keys
// of their cases, the fetch hook that ties each request to its case, and the runner of the cases.
import assert from 'node:assert/strict';

/** mulberry32: a small, fast PRNG with a 32-bit state; numbers in [0, 1). */
function mulberry32(a) {
  return () => {
    a |= 0; a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The randomness of case `idx` of a run seeded `seed`: the same on every run. */
export function rng(seed, idx) {
  const r = mulberry32((seed * 1_000_003) ^ (idx * 2_654_435_761));
  for (let i = 0; i < 4; i++) r();
  return {
    f: r,
    int: (lo, hi) => lo + Math.floor(r() * (hi - lo + 1)),
    pick: (xs) => xs[Math.floor(r() * xs.length)],
    chance: (p) => r() < p,
    weighted: (table) => {
      const total = table.reduce((s, [w]) => s + w, 0);
      let x = r() * total;
      for (const [w, v] of table) if ((x -= w) < 0) return v;
      return table[table.length - 1][1];
    },
  };
}

/** A case's own API key: half of them shaped like Google's (`AIza` + 35), so that hiding a real-looking key is tested. */
export function caseKey(R, prefix, seed, idx) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-';
  return R.chance(0.5)
    ? `AIza${Array.from({ length: 35 }, () => R.pick([...alphabet])).join('')}`
    : `${prefix}-${seed}-${idx}-${R.int(1e5, 1e6)}`;
}

/**
 * Hooks `fetch`: every request to the mock's API whose key `live` knows goes to that case (`ctx.onRequest(request,
 * tag)`, which returns the case's record of it) and on with one more header, `x-chaos-seq: tag`, that the mock logs,
 * tying each log entry to its request (an aborted request may reach the mock after the next one, or never).
 * Its response is also read on a branch of its own (tee), while the package reads the other, and the record gets:
 * `sentAt`, `lastByteAt` (when it last received a byte: its headers, then each chunk), `received` (the body's text so
 * far), and once it ended on the wire (`ended`, a promise) `endedAt` and `cut` (the fetch failed or the body broke
 * off). A request with a key no case knows is noted in `stray`. `restore()` puts `fetch` back.
 */
export function hookFetch(mockUrl, live) {
  const realFetch = globalThis.fetch;
  const stray = [];
  let seq = 0;
  globalThis.fetch = function hookedFetch(input, init) {
    if (input instanceof Request && input.url.startsWith(`${mockUrl}/v1beta/`)) {
      const ctx = live.get(input.headers.get('x-goog-api-key'));
      if (!ctx) stray.push(`${input.url} (key ${input.headers.get('x-goog-api-key')})`);
      else {
        const tag = String(++seq);
        const record = ctx.onRequest(input, tag);
        const headers = new Headers(input.headers);
        headers.set('x-chaos-seq', tag);
        record.sentAt = Date.now();
        // fetch(request, { headers }), not fetch(new Request(request, ...)): undici follows the signal of an
        // intermediate Request only weakly, and once it is collected the package's abort would not reach the fetch
        return timed(realFetch.call(this, input, { ...init, headers }), record);
      }
    }
    return realFetch.call(this, input, init);
  };
  return { stray, restore: () => { globalThis.fetch = realFetch; } };
}

/** The response `w` is sent, its body tee'd: one branch for the package, one read here (see hookFetch). */
function timed(response, w) {
  let end;
  w.ended = new Promise((ok) => { end = (cut) => { w.endedAt = Date.now(); w.cut = cut; ok(); }; });
  return response.then((res) => {
    w.lastByteAt = Date.now();
    if (!res.body) { end(false); return res; }
    const [mine, theirs] = res.body.tee();
    drain(theirs, w).then(end);
    return new Response(mine, { status: res.status, statusText: res.statusText, headers: res.headers });
  }, (e) => { end(true); throw e; });
}

/** Reads a body to its end into `w.received`, noting when each chunk came: whether it was cut (errored) on the way. */
async function drain(stream, w) {
  const reader = stream.getReader();
  const dec = new TextDecoder();
  w.received = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return false;
      w.lastByteAt = Date.now();
      w.received += dec.decode(value, { stream: true });
    }
  } catch { return true; }
}

/**
 * Whether request `w` (a record of hookFetch) was cut short on the wire after going `timeoutMs` without a byte: a
 * TIMEOUT, whatever held it up (a scripted hang or stall, or a loaded machine); the timeout is an idle timer, not a
 * deadline. The two branches of a tee'd body see a chunk a moment apart: 20 % is left for that, and a timer that
 * ran from the request's start instead of its last byte still fails.
 */
export function cutByTimeout(w, timeoutMs) {
  return timeoutMs !== undefined && w.cut === true && w.endedAt - (w.lastByteAt ?? w.sentAt) >= timeoutMs * 0.8;
}

/** Once every request of `wire` (records of hookFetch) ended on the wire, or after `capMs` (one may hang still). */
export async function wireEnded(wire, capMs) {
  let cap;
  await Promise.race([Promise.all(wire.map((w) => w.ended)), new Promise((r) => { cap = setTimeout(r, capMs); })]);
  clearTimeout(cap);
}

/**
 * Runs the cases a few at a time (`pool`; one when `only` names some) and fails with every case that found a
 * problem. `env` is the prefix of the test's variables (`${env}_SEED`, `_ONLY`, `_VERBOSE`); `summary(results, ms)`
 * says what ran; `describe(plan)` prints a plan; `stray` are requests no case knew (see `hookFetch`); `stats`, how
 * often each situation came up, is printed with the traces.
 */
export async function runCases({ env, seed, cases, only, pool, planCase, runCase, describe, summary, stray, stats }) {
  const indices = only !== undefined ? only.split(',').map(Number) : Array.from({ length: cases }, (_, i) => i);
  const results = [];
  let next = 0;
  const worker = async () => {
    while (next < indices.length) {
      const plan = planCase(indices[next++]);
      results.push(await runCase(plan));
    }
  };
  const t0 = Date.now();
  await Promise.all(Array.from({ length: only ? 1 : pool }, worker));
  const failed = results.filter((r) => r.problems.length);
  const said = summary(results, Date.now() - t0);
  if (process.env[`${env}_VERBOSE`] || only) {
    console.error(said, JSON.stringify(stats));
    for (const r of results.sort((a, b) => a.plan.idx - b.plan.idx)) console.error(`case ${r.plan.idx} (${r.ms} ms): ${describe(r.plan)}\n  ${r.trace.join('\n  ')}\n  problems: ${r.problems.join('\n    ') || 'none'}`);
  }
  if (stray.length) assert.fail(`requests with a key no case knows: ${stray.slice(0, 3)}`);
  assert.equal(failed.length, 0, `${failed.length} of ${said} failed (rerun one with ${env}_SEED=${seed} ${env}_ONLY=i):\n${failed
    .sort((a, b) => a.plan.idx - b.plan.idx)
    .map((r) => `case ${r.plan.idx}: ${r.problems.join('\n    ')}\n  plan: ${describe(r.plan)}`).join('\n')}`);
}
