//! Numbers as text and back. Whole numbers are handled here; in the browser, other floats go through
//! the engine's own `Number`/`String` (Rust's float formatting and parsing tables cost ~25 KB of wasm).

/// `n` as a `u64` when it is a non-negative whole number that a double holds exactly (at most 2^53).
pub fn whole(n: f64) -> Option<u64> {
    ((0.0..=9_007_199_254_740_992.0).contains(&n) && n == (n as u64) as f64).then_some(n as u64)
}

/// Leading digits first, by recursion (at most 20 deep): no digit buffer, so no index checks nor UTF-8 check.
pub fn write_u64(out: &mut String, n: u64) {
    if n >= 10 {
        write_u64(out, n / 10);
    }
    out.push(char::from(b'0' + (n % 10) as u8));
}

pub fn u64_to_string(n: u64) -> String {
    let mut s = String::new();
    write_u64(&mut s, n);
    s
}

/// A finite number as JSON text (shortest round-trip form); NaN and infinities as `null`, as
/// `JSON.stringify` writes them.
pub fn write_f64(out: &mut String, n: f64) {
    if !n.is_finite() {
        out.push_str("null");
    } else if let Some(w) = whole(n.abs()) {
        if n < 0.0 && w != 0 {
            out.push('-');
        }
        write_u64(out, w);
    } else {
        out.push_str(&float_text(n));
    }
}

pub fn f64_to_string(n: f64) -> String {
    let mut s = String::new();
    write_f64(&mut s, n);
    s
}

/// `ms` as seconds with one decimal ("1.5"), rounding half up.
pub fn seconds_1dp(ms: u64) -> String {
    let tenths = ms / 100 + u64::from(ms % 100 >= 50);
    let mut s = u64_to_string(tenths / 10);
    s.push('.');
    s.push((b'0' + (tenths % 10) as u8) as char);
    s
}

/// A decimal number: optional sign, digits with an optional fraction (`5`, `5.`, `.5`), optional
/// exponent. Anything else (`inf`, `0x10`, empty text) is `None`. May be infinite when out of range.
pub fn parse_f64(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    let (mut digits, mut plain) = (0, true);
    let mut int_value: u64 = 0;
    while let Some(d @ b'0'..=b'9') = b.get(i).copied() {
        int_value = int_value.wrapping_mul(10).wrapping_add(u64::from(d - b'0'));
        digits += 1;
        i += 1;
    }
    if b.get(i) == Some(&b'.') {
        plain = false;
        i += 1;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            digits += 1;
            i += 1;
        }
    }
    if digits == 0 {
        return None;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        plain = false;
        i += 1;
        i += usize::from(matches!(b.get(i), Some(b'+' | b'-')));
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return None;
        }
    }
    if i != b.len() {
        return None;
    }
    if plain && digits <= 15 {
        let v = int_value as f64;
        return Some(if b[0] == b'-' { -v } else { v });
    }
    Some(float_value(s))
}

#[cfg(target_arch = "wasm32")]
mod engine {
    use wasm_bindgen::prelude::wasm_bindgen;

    #[wasm_bindgen]
    extern "C" {
        #[wasm_bindgen(js_name = String)]
        pub fn number_to_string(n: f64) -> String;
        #[wasm_bindgen(js_name = Number)]
        pub fn string_to_number(s: &str) -> f64;
    }
}

#[cfg(target_arch = "wasm32")]
fn float_text(n: f64) -> String {
    engine::number_to_string(n)
}

#[cfg(target_arch = "wasm32")]
fn float_value(s: &str) -> f64 {
    engine::string_to_number(s)
}

/// Like JavaScript: plain decimals from 1e-7 to 1e21, exponent form outside (`1e-7`, `1.5e+300` is `1.5e300` here).
#[cfg(not(target_arch = "wasm32"))]
fn float_text(n: f64) -> String {
    if n != 0.0 && !(1e-7..1e21).contains(&n.abs()) {
        format!("{n:e}")
    } else {
        n.to_string()
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn float_value(s: &str) -> f64 {
    s.parse().unwrap_or(f64::NAN)
}
