//! Substring search and replace for the few short texts that need it (error bodies, keys, templates).
//! `str::find(&str)` brings core's two-way searcher (~2.5 KB of wasm); these texts are far too short to need it.

/// Byte offset of the first `needle` in `hay`.
pub fn find(hay: &str, needle: &str) -> Option<usize> {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    if n.is_empty() {
        return Some(0);
    }
    (0..h.len().saturating_sub(n.len() - 1)).find(|&i| h[i..].starts_with(n))
}

/// `hay` with every non-overlapping `from` replaced by `to`, left to right.
pub fn replace(hay: &str, from: &str, to: &str) -> String {
    if from.is_empty() {
        return hay.to_string();
    }
    let mut out = String::with_capacity(hay.len());
    let mut rest = hay;
    while let Some(i) = find(rest, from) {
        out.push_str(slice(rest, ..i));
        out.push_str(to);
        rest = slice(rest, i + from.len()..);
    }
    out.push_str(rest);
    out
}

/// `hay` with `to` in place of every stretch covered by runs that match the start of one of `keys` for at least
/// `min` bytes: a whole key, and one cut short where a message was shortened (an HTML page's title, say) after it
/// quoted the key. Runs are looked for at every byte, inside others too (`AIzaSy` + a key that starts again with
/// it). The keys must be ASCII, so that every run ends on a char boundary.
pub fn hide_key_runs(hay: &str, keys: &[&str], min: usize, to: &str) -> String {
    let h = hay.as_bytes();
    let mut out = String::with_capacity(hay.len());
    // Copied up to `copied`; hidden up to `end`.
    let (mut copied, mut end) = (0, 0);
    for i in 0..h.len() {
        for k in keys {
            let run = h[i..].iter().zip(k.as_bytes()).take_while(|(a, b)| a == b).count();
            if run == 0 || run < min.min(k.len()) {
                continue;
            }
            if i >= end {
                out.push_str(slice(hay, copied..i));
                out.push_str(to);
            }
            end = end.max(i + run);
            copied = end;
        }
    }
    out.push_str(slice(hay, copied..));
    out
}

/// The items with `sep` between them (`[String]::join` brings a ~1 KB copy routine per element type).
pub fn join<'a>(items: impl IntoIterator<Item = &'a str>, sep: &str) -> String {
    let mut out = String::new();
    for (i, s) in items.into_iter().enumerate() {
        if i > 0 {
            out.push_str(sep);
        }
        out.push_str(s);
    }
    out
}

/// `s[range]` for a range the caller knows lies on char boundaries. Indexing a `str` links core's
/// slicing panic, whose message formats chars with `Debug` and pulls ~4 KB of Unicode tables into the wasm.
pub fn slice<R: std::slice::SliceIndex<str, Output = str> + Clone>(s: &str, range: R) -> &str {
    debug_assert!(s.get(range.clone()).is_some(), "not a char boundary");
    s.get(range).unwrap_or("")
}

/// The number of `char`s in `s` (what `s.chars().count()` returns, without core's vectorised counter).
pub fn char_count(s: &str) -> usize {
    s.bytes().filter(|b| b & 0xC0 != 0x80).count()
}

/// How many UTF-16 code units (JavaScript's `length`) the first `byte` bytes of `s` hold: the position a
/// JavaScript caller can index with. A `byte` inside a char counts the chars that start before it.
pub fn utf16_offset(s: &str, byte: usize) -> usize {
    let head = s.as_bytes().get(..byte).unwrap_or(s.as_bytes());
    head.iter().map(|&b| usize::from(b & 0xC0 != 0x80) + usize::from(b >= 0xF0)).sum()
}

/// `String::from_utf8_lossy(bytes).into_owned()`: each invalid sequence becomes one U+FFFD, cut where
/// `Utf8Error::error_len` cuts it (the maximal subparts `from_utf8_lossy` replaces too), built on `str::from_utf8`,
/// which the wasm holds anyway, instead of `Utf8Chunks` (~1 KB of wasm).
pub fn lossy(mut bytes: &[u8]) -> String {
    let mut out = String::new();
    loop {
        match std::str::from_utf8(bytes) {
            Ok(s) => {
                out.push_str(s);
                return out;
            }
            Err(e) => {
                let (valid, rest) = bytes.split_at(e.valid_up_to());
                out.push_str(std::str::from_utf8(valid).unwrap_or_default());
                out.push('\u{FFFD}');
                match e.error_len() {
                    Some(n) => bytes = rest.get(n..).unwrap_or_default(),
                    None => return out,
                }
            }
        }
    }
}

/// A piece of text `cat!` and `put!` append: strings, chars and unsigned integers
/// (in decimal). Messages are built from these instead of `format!`: `core::fmt` (its argument loop, padding,
/// integer formatters and `Formatter`) costs ~4 KB of wasm.
pub trait Piece {
    fn put(self, out: &mut String);
}

impl Piece for &str {
    fn put(self, out: &mut String) {
        out.push_str(self);
    }
}

impl Piece for &String {
    fn put(self, out: &mut String) {
        out.push_str(self);
    }
}

impl Piece for String {
    fn put(self, out: &mut String) {
        out.push_str(&self);
    }
}

impl Piece for char {
    fn put(self, out: &mut String) {
        out.push(self);
    }
}

macro_rules! piece_uint {
    ($($t:ty),*) => {$(
        impl Piece for $t {
            fn put(self, out: &mut String) {
                crate::json::num::write_u64(out, self as u64);
            }
        }
        impl Piece for &$t {
            fn put(self, out: &mut String) {
                crate::json::num::write_u64(out, *self as u64);
            }
        }
    )*};
}
piece_uint!(u16, u32, u64, usize);

/// What `put!` appends to: a `String` or a `&mut String` alike (method calls reborrow either).
pub trait Target {
    fn target(&mut self) -> &mut String;
}

impl Target for String {
    fn target(&mut self) -> &mut String {
        self
    }
}

/// The pieces one after another in a new `String`: `cat!("week ", n, ": ", title)`.
macro_rules! cat {
    ($($p:expr),* $(,)?) => {{
        let mut s = ::std::string::String::new();
        $($crate::text::Piece::put($p, &mut s);)*
        s
    }};
}

/// The pieces appended to a `String`: `put!(s, "Day ", d.day, '\n')`.
macro_rules! put {
    ($s:expr, $($p:expr),* $(,)?) => {{
        use $crate::text::Target as _;
        let s = $s.target();
        $($crate::text::Piece::put($p, s);)*
    }};
}
