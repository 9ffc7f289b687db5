// What the seeded chaos tests share (chat-chaos.test.mjs, roadmap-chaos.test.mjs): their randomness, and the API
// keys of their cases.

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
