//! What the three fuzz tests share: a deterministic generator and the `FUZZ_SEED` / `FUZZ_ITERATIONS`
//! knobs (a longer run: `FUZZ_ITERATIONS=50000000 cargo test --release --test fuzz_json -- --nocapture`).
#![allow(dead_code)]

/// xorshift64*: fast, deterministic, good enough to pick mutations.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// `FUZZ_SEED` picks another deterministic sequence of inputs (the default is fixed, so runs repeat).
pub fn seed(default: u64) -> u64 {
    std::env::var("FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .map_or(default, |s| s.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
}

/// `FUZZ_ITERATIONS`, or the test's own default.
pub fn iterations(default: u64) -> u64 {
    std::env::var("FUZZ_ITERATIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}
