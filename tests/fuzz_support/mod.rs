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

/// Whether the crate's own JSON value means the same as serde_json's: numbers compared as doubles
/// (the crate keeps every number as an `f64`, as JavaScript does), objects by key with the last
/// duplicate winning.
pub fn same_value(ours: &gemini_roadmap::json::Value, theirs: &serde_json::Value) -> bool {
    use gemini_roadmap::json::Value as O;
    use serde_json::Value as T;
    match (ours, theirs) {
        (O::Null, T::Null) => true,
        (O::Bool(a), T::Bool(b)) => a == b,
        (O::Number(a), T::Number(b)) => b.as_f64() == Some(*a),
        (O::String(a), T::String(b)) => a == b,
        (O::Array(a), T::Array(b)) => a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same_value(x, y)),
        // serde_json (without preserve_order) keeps one member per key, sorted; compare by key, last wins.
        (O::Object(a), T::Object(b)) => {
            let mut keys: Vec<&String> = a.0.iter().map(|(k, _)| k).collect();
            keys.sort();
            keys.dedup();
            keys.len() == b.len() && keys.iter().all(|k| b.get(*k).is_some_and(|y| same_value(a.get(k).unwrap(), y)))
        }
        _ => false,
    }
}

/// Where two values differ first, for a readable failure message.
pub fn first_difference(ours: &gemini_roadmap::json::Value, theirs: &serde_json::Value, path: &str) -> Option<String> {
    use gemini_roadmap::json::Value as O;
    use serde_json::Value as T;
    match (ours, theirs) {
        (O::Array(a), T::Array(b)) if a.len() == b.len() => {
            a.iter().zip(b).enumerate().find_map(|(i, (x, y))| first_difference(x, y, &format!("{path}[{i}]")))
        }
        (O::Object(a), T::Object(b)) => b.iter().find_map(|(k, y)| match a.get(k) {
            Some(x) => first_difference(x, y, &format!("{path}.{k}")),
            None => Some(format!("{path}.{k}: missing")),
        }),
        _ if same_value(ours, theirs) => None,
        _ => Some(format!("{path}: ours {ours:?}, serde {theirs}")),
    }
}
