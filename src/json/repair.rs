//! The repair engine behind [`repair_json`]: one left-to-right pass over bytes with an explicit
//! container stack (no recursion), writing into one buffer of coalesced input slices.

use super::{Repair, RepairError, Repaired};

/// Full fallback pipeline on model output: strips markdown fences and surrounding prose, takes
/// the first top-level value, repairs it and returns valid JSON text.
///
/// * Already-valid JSON (after trimming) comes back byte-identical with no repairs; there is no
///   separate validation pass, the repair pass itself writes nothing but one final copy then.
/// * Truncation (`truncated == true`: the text ended inside the value): open strings are closed
///   keeping their partial text (as jsonrepair does; a cut-off title is more useful than none),
///   open arrays/objects are closed innermost first, a member cut off before its value
///   (`{"a":1,"b"` / `{"a":1,"b":`) is dropped, a trailing comma is dropped, half-written
///   literals are completed (`tru` → `true`) and numbers trimmed to what is valid (`1.`, `1e-`
///   → `1`, `-` → `0`).
/// * Structural damage never fails: stray or mismatched brackets, colons and commas are fixed
///   or skipped. An error is returned only when there is no JSON value at all (empty text,
///   prose, a bare word), with the byte offset where a value was expected.
/// * O(n) time and memory for any input: candidate end quotes are judged from bounded context
///   and cached per quote style (see `decide`), so no stretch of text is rescanned repeatedly.
pub fn repair_json(text: &str) -> Result<Repaired, RepairError> {
    let mut p = Parser::new(text);
    p.locate()?;
    p.run()?;
    p.trailing();
    Ok(p.finish(text))
}

/// Output buffer that defers copying: a pending input range grows while emitted slices are
/// contiguous, so unchanged stretches become a single `memcpy`.
struct Out<'a> {
    src: &'a [u8],
    buf: Vec<u8>,
    a: usize,
    b: usize,
}

impl Out<'_> {
    fn copy(&mut self, a: usize, b: usize) {
        if a != self.b || self.a == self.b {
            self.flush();
            self.a = a;
        }
        self.b = b;
    }
    fn flush(&mut self) {
        if self.b > self.a {
            if self.buf.capacity() == 0 {
                // One allocation for the whole output in the common case.
                self.buf.reserve(self.src.len() + 64);
            }
            self.buf.extend_from_slice(&self.src[self.a..self.b]);
        }
        self.a = self.b;
    }
    fn push(&mut self, s: &[u8]) {
        self.flush();
        self.buf.extend_from_slice(s);
    }
    fn len(&self) -> usize {
        self.buf.len() + (self.b - self.a)
    }
    fn truncate(&mut self, n: usize) {
        if n >= self.buf.len() {
            self.b = self.a + (n - self.buf.len());
        } else {
            self.buf.truncate(n);
            self.a = self.b;
        }
    }
}

#[derive(Clone, Copy)]
struct Frame {
    obj: bool,
    /// A `name(` wrapper (JSONP `callback(...)`, MongoDB `ObjectId(...)`): writes nothing.
    call: bool,
    members: bool,
    /// Output length before the current member (its comma included), to drop it if cut off.
    mark: usize,
    /// `members` before the current member, restored when it is dropped.
    prev: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum St {
    Value,
    After,
    Key,
    Colon,
}

/// Where a string ends, decided before any of it is written.
enum End {
    /// At this end quote (position, byte length).
    Quote(usize, usize),
    /// Just before this comma: `"b,c,"d"` → `"b,c"`, `"d"`.
    Before(usize),
    /// At the first delimiter or end quote (missing end quote).
    Stop,
    /// At the end of the text (truncated).
    Eof,
}

/// Verdict on a candidate end quote.
enum Judge {
    Accept,
    Content,
    Before(usize),
    Stop,
}

struct Parser<'a> {
    text: &'a str,
    b: &'a [u8],
    /// End of the region being parsed (text end, or a closing code fence).
    end: usize,
    i: usize,
    out: Out<'a>,
    /// Pending whitespace `b[wa..wb]`: written only before the next token, so inserted
    /// commas/closers land before it and trailing whitespace can be dropped.
    wa: usize,
    wb: usize,
    stack: Vec<Frame>,
    /// Position of a comma read but not yet written (written only if another member follows).
    comma: Option<usize>,
    reps: Vec<Repair>,
    seen: u32,
    /// Per quote style: strings starting before this position end in `End::Stop` (see `decide`).
    memo: [usize; 5],
    /// The text ends with `]`/`}`: running into the end inside a string then means a missing
    /// end quote (`["abc]`) rather than truncation.
    last_closer: bool,
    truncated: bool,
    /// No regex literal can start before this position (a scan already found no closing `/`).
    no_regex: usize,
}

fn is_ws(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r')
}

/// `s` without JSON whitespace at either end. By bytes: `trim_matches` with a `char` predicate brings core's
/// UTF-8 searchers, in both directions.
fn trim_ws(s: &str) -> &str {
    let b = s.as_bytes();
    let start = b.iter().position(|&c| !is_ws(c)).unwrap_or(b.len());
    let end = b.iter().rposition(|&c| !is_ws(c)).map_or(start, |e| e + 1);
    crate::text::slice(s, start..end)
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'$'
}

fn hex(c: u8) -> Option<u32> {
    (c as char).to_digit(16)
}

/// Whether `b` holds a line break. A plain loop: `<[u8]>::contains` brings core's word-at-a-time `memchr`, too much
/// code for the short gaps searched here.
#[allow(clippy::manual_contains)]
fn has_newline(b: &[u8]) -> bool {
    b.iter().any(|&c| c == b'\n')
}

fn err(position: usize, message: &str) -> RepairError {
    RepairError {
        position,
        message: message.to_string(),
    }
}

/// Index of the first `"`, `\\` or control character in `b[j..end]` (or `end`), 8 bytes at a time.
fn scan_plain(b: &[u8], mut j: usize, end: usize) -> usize {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    while j + 8 <= end {
        let mut w = [0u8; 8];
        w.copy_from_slice(&b[j..j + 8]);
        let x = u64::from_le_bytes(w);
        let (q, s) = (x ^ (LO * b'"' as u64), x ^ (LO * b'\\' as u64));
        // Classic "has zero byte" / "has byte < n" bit tricks.
        if ((q.wrapping_sub(LO) & !q)
            | (s.wrapping_sub(LO) & !s)
            | (x.wrapping_sub(LO * 0x20) & !x))
            & HI
            != 0
        {
            break;
        }
        j += 8;
    }
    while j < end && !matches!(b[j], b'"' | b'\\' | 0..=0x1f) {
        j += 1;
    }
    j
}

/// Quote style starting at `b[j]`: 0 `"`, 1 `'`, 2 single-like (‘ ’ ` ´), 3 double-like (“ ”),
/// 4 escaped `\"` (JSON that was stringified and lost its outer quotes: `{\"a\": 1}`).
fn quote_at(b: &[u8], j: usize, end: usize) -> Option<(usize, usize)> {
    match b[j] {
        b'\\' if j + 1 < end && b[j + 1] == b'"' => Some((4, 2)),
        b'"' => Some((0, 1)),
        b'\'' => Some((1, 1)),
        b'`' => Some((2, 1)),
        0xE2 if j + 2 < end && b[j + 1] == 0x80 => match b[j + 2] {
            0x98 | 0x99 => Some((2, 3)),
            0x9C | 0x9D => Some((3, 3)),
            _ => None,
        },
        0xC2 if j + 1 < end && b[j + 1] == 0xB4 => Some((2, 2)),
        _ => None,
    }
}

/// Byte length of an end quote for style `cls` at `b[j]`, or 0.
fn end_quote(b: &[u8], j: usize, end: usize, cls: usize) -> usize {
    match b[j] {
        b'"' if cls == 0 || cls >= 3 => 1,
        b'\\' if cls == 4 && j + 1 < end && b[j + 1] == b'"' => 2,
        b'\'' if cls == 1 || cls == 2 => 1,
        b'`' if cls == 2 => 1,
        0xE2 | 0xC2 if cls == 2 || cls == 3 => match quote_at(b, j, end) {
            Some((c, l)) if c == cls => l,
            _ => 0,
        },
        _ => 0,
    }
}

impl<'a> Parser<'a> {
    fn new(text: &'a str) -> Self {
        let b = text.as_bytes();
        Parser {
            text,
            b,
            end: b.len(),
            i: 0,
            out: Out {
                src: b,
                buf: Vec::new(),
                a: 0,
                b: 0,
            },
            wa: 0,
            wb: 0,
            stack: Vec::new(),
            comma: None,
            reps: Vec::new(),
            seen: 0,
            memo: [0; 5],
            last_closer: false,
            truncated: false,
            no_regex: 0,
        }
    }

    fn rep(&mut self, r: Repair) {
        let bit = 1u32 << (r as u32);
        if self.seen & bit == 0 {
            self.seen |= bit;
            self.reps.push(r);
        }
    }

    fn at(&self, j: usize) -> u8 {
        if j < self.end {
            self.b[j]
        } else {
            0
        }
    }

    fn fence_at(&self, j: usize) -> bool {
        self.at(j) == b'`' && self.at(j + 1) == b'`' && self.at(j + 2) == b'`'
    }

    fn unexpected(&self, pos: usize) -> RepairError {
        match self.text.get(pos..).and_then(|s| s.chars().next()) {
            Some(c) => {
                // Pushed, not formatted: a `char` argument would link core's `char` formatter for this one message.
                let mut m = String::from("Unexpected character '");
                m.push(c);
                m.push('\'');
                RepairError { position: pos, message: m }
            }
            None => err(pos, "Unexpected end of JSON text"),
        }
    }

    // ---- locating the value -------------------------------------------------------------

    /// Sets the region to parse: skips an opening code fence and leading prose.
    fn locate(&mut self) -> Result<(), RepairError> {
        let (b, n) = (self.b, self.b.len());
        let mut from = 0;
        // A fenced block that holds no JSON (a `bash` example first) is passed over, a few times at most: each pass
        // looks at the rest of the text.
        for _ in 0..8 {
            // An opening fence counts only before the JSON starts (backticks may occur inside it). A bracket within
            // a line of prose (`[1]`, `weeks[0]`) does not start it: a fence on a line of its own before the first
            // bracket that starts a line counts too.
            let string = b[from..].iter().find(|&&c| !is_ws(c)) == Some(&b'"');
            let first = if string {
                from
            } else {
                self.container(from, n).unwrap_or(n)
            };
            let inline = (from..first.min(n.saturating_sub(2))).find(|&k| &b[k..k + 3] == b"```");
            let Some(f) = inline.or_else(|| if string { None } else { self.fence_line(first) }) else { break };
            let mut k = f + 3;
            while k < n
                && (b[k].is_ascii_alphanumeric() || matches!(b[k], b'_' | b'-' | b'+' | b'.'))
            {
                k += 1;
            }
            self.rep(Repair::StrippedFence);
            if b[..f].iter().any(|&c| !is_ws(c)) {
                self.rep(Repair::StrippedProse);
            }
            self.i = k;
            let close = self.closing_fence(k);
            self.end = close.unwrap_or(n);
            match close {
                Some(c) if !self.holds_value(k, c) && b[c + 3..].iter().any(|&x| !is_ws(x)) => {
                    (from, self.i, self.end) = (c + 3, c + 3, n);
                    self.rep(Repair::StrippedProse);
                }
                _ => break,
            }
        }
        let mut k = self.end;
        while k > self.i && is_ws(b[k - 1]) {
            k -= 1;
        }
        self.last_closer = k > self.i && matches!(b[k - 1], b']' | b'}');
        self.skip_ws();
        self.wa = self.wb;
        let s = self.i;
        if s >= self.end {
            return Err(err(s, "No JSON value found"));
        }
        let c = b[s];
        if c != b'{' && c != b'[' && quote_at(b, s, self.end).is_none() {
            if let Some(p) = self.container(s, self.end) {
                self.rep(Repair::StrippedProse);
                self.i = p;
            }
        }
        Ok(())
    }

    /// The opening fence (```` ``` ````, a tag, then the end of its line) on a line of its own after the line of
    /// `first`, before any line that starts with a bracket that plausibly starts JSON.
    fn fence_line(&self, first: usize) -> Option<usize> {
        let (b, n) = (self.b, self.b.len());
        let line_start = |k: usize| {
            let mut j = k;
            while j > 0 && matches!(b[j - 1], b' ' | b'\t') {
                j -= 1;
            }
            j == 0 || b[j - 1] == b'\n'
        };
        if first >= n || line_start(first) {
            return None;
        }
        let mut k = first;
        loop {
            k += b[k..].iter().position(|&c| c == b'\n')? + 1;
            while k < n && matches!(b[k], b' ' | b'\t') {
                k += 1;
            }
            if b[k..].starts_with(b"```") {
                let mut j = k + 3;
                while j < n && (b[j].is_ascii_alphanumeric() || matches!(b[j], b'_' | b'-' | b'+' | b'.' | b' ' | b'\t' | b'\r')) {
                    j += 1;
                }
                if j < n && b[j] == b'\n' {
                    return Some(k);
                }
            } else if k < n && self.opens_container(k, n) {
                return None;
            }
        }
    }

    /// Whether a fenced block `b[from..to]` holds JSON (or what repair makes of it): not a shell example.
    fn holds_value(&self, from: usize, to: usize) -> bool {
        let b = self.b;
        let Some(s) = (from..to).find(|&k| !is_ws(b[k])) else { return false };
        let rest = &b[s..to];
        matches!(b[s], b'{' | b'[' | b'"' | b'\'' | b'-' | b'0'..=b'9')
            || [&b"true"[..], b"false", b"null", b"True", b"False", b"None"].iter().any(|w| rest.starts_with(w))
            || self.container(s, to).is_some()
    }

    /// First `{`/`[` in `b[from..to]` that plausibly starts JSON (not `{name}` or `[v2]` in prose).
    fn container(&self, from: usize, to: usize) -> Option<usize> {
        (from..to).find(|&k| self.opens_container(k, to))
    }

    /// Whether the `{`/`[` at `k` plausibly starts JSON: what follows it (after blanks and a short comment) is a key,
    /// a value or its close.
    fn opens_container(&self, k: usize, to: usize) -> bool {
        let b = self.b;
        let c = b[k];
        if c != b'{' && c != b'[' {
            return false;
        }
        let mut j = k + 1;
        // Three comments at most, each of up to 200 bytes: this runs for every bracket of the text. Not `#`: a
        // citation in prose (`[#12]`) would pass for one.
        for _ in 0..3 {
            while j < to && is_ws(b[j]) {
                j += 1;
            }
            let rest = &b[j..to];
            let (open, close): (usize, &[u8]) = if rest.starts_with(b"/*") {
                (2, b"*/")
            } else if rest.starts_with(b"//") {
                (2, b"\n")
            } else {
                break;
            };
            let after = &rest[open..rest.len().min(200)];
            match after.windows(close.len()).position(|w| w == close) {
                Some(p) => j += open + p + close.len(),
                None => break,
            }
        }
        if j >= to {
            return false;
        }
        let d = b[j];
        if d != b'`' && quote_at(b, j, to).is_some() || d == b'}' && c == b'{' {
            return true;
        }
        let w = j;
        while j < to && is_ident(b[j]) {
            j += 1;
        }
        if c == b'{' {
            while j < to && matches!(b[j], b' ' | b'\t') {
                j += 1;
            }
            j > w && !b[w].is_ascii_digit() && j < to && b[j] == b':'
        } else {
            matches!(d, b'{' | b'[' | b']' | b'-' | b'0'..=b'9')
                || matches!(&b[w..j], b"true" | b"false" | b"null")
        }
    }

    /// A closing fence: "```" at the start of a line, or followed by the end of its line. At the start of a line
    /// with more text after it (`\n```", "n": 1}`: a line inside a string), only on the text's last line.
    fn closing_fence(&self, from: usize) -> Option<usize> {
        let b = self.b;
        let n = b.len();
        let last_line = b.iter().rposition(|&c| c == b'\n').map_or(0, |p| p + 1);
        (from..n.saturating_sub(2)).find(|&k| {
            if &b[k..k + 3] != b"```" {
                return false;
            }
            let mut j = k;
            while j > from && matches!(b[j - 1], b' ' | b'\t') {
                j -= 1;
            }
            let line_start = j == from || b[j - 1] == b'\n';
            let mut j = k + 3;
            while j < n && matches!(b[j], b' ' | b'\t' | b'\r') {
                j += 1;
            }
            j >= n || b[j] == b'\n' || line_start && k >= last_line
        })
    }

    // ---- whitespace and comments --------------------------------------------------------

    /// Skips whitespace (kept pending) and comments / non-ASCII spaces (dropped).
    fn skip_ws(&mut self) {
        let (b, end) = (self.b, self.end);
        loop {
            let s = self.i;
            while self.i < end && is_ws(b[self.i]) {
                self.i += 1;
            }
            if self.i > s {
                if s != self.wb || self.wa == self.wb {
                    self.wa = s;
                }
                self.wb = self.i;
            }
            let i = self.i;
            if i >= end || !matches!(b[i], b'/' | b'#' | 0xC2 | 0xE1..=0xE3 | 0xEF) {
                return;
            }
            let (c1, c2) = (self.at(i + 1), self.at(i + 2));
            let skip = match b[i] {
                b'/' if c1 == b'*' => {
                    let mut j = i + 2;
                    while j < end && !(b[j] == b'*' && self.at(j + 1) == b'/') {
                        j += 1;
                    }
                    (j + 2).min(end)
                }
                b'/' if c1 == b'/' => {
                    let mut j = i;
                    while j < end && b[j] != b'\n' {
                        j += 1;
                    }
                    j
                }
                b'#' => {
                    let mut j = i;
                    while j < end && b[j] != b'\n' {
                        j += 1;
                    }
                    j
                }
                // U+00A0, U+1680, U+180E, U+2000..U+200B, U+202F, U+205F, U+3000, U+FEFF
                0xC2 if c1 == 0xA0 => i + 2,
                0xE1 if (c1 == 0x9A && c2 == 0x80) || (c1 == 0xA0 && c2 == 0x8E) => i + 3,
                0xE2 if c1 == 0x80 && matches!(c2, 0x80..=0x8B | 0xAF)
                    || c1 == 0x81 && c2 == 0x9F =>
                {
                    i + 3
                }
                0xE3 if c1 == 0x80 && c2 == 0x80 => i + 3,
                0xEF if c1 == 0xBB && c2 == 0xBF => i + 3,
                _ => return,
            };
            self.rep(if b[i] == b'/' || b[i] == b'#' {
                Repair::Comment
            } else {
                Repair::SpecialWhitespace
            });
            self.i = skip;
            self.wa = self.wb; // whitespace before a comment is dropped with it
        }
    }

    fn flush_ws(&mut self) {
        if self.wb > self.wa {
            self.out.copy(self.wa, self.wb);
        }
        self.wa = self.wb;
    }

    // ---- the state machine --------------------------------------------------------------

    fn run(&mut self) -> Result<(), RepairError> {
        let mut st = St::Value;
        loop {
            self.skip_ws();
            if self.fence_at(self.i) {
                // A closing fence ends the region: whatever is open gets closed.
                self.end = self.i;
                self.rep(Repair::StrippedFence);
            }
            if st == St::After && self.stack.is_empty() {
                return Ok(());
            }
            let i = self.i;
            if i >= self.end {
                return self.eof(st);
            }
            let c = self.b[i];
            st = match st {
                St::Value => self.value(c)?,
                St::After => self.after(c)?,
                St::Key => self.key(c)?,
                St::Colon => self.colon(c)?,
            };
        }
    }

    /// The text ended with containers open: drop a dangling member and close them all.
    fn eof(&mut self, st: St) -> Result<(), RepairError> {
        let Some(top) = self.stack.last().copied() else {
            return Err(err(self.i, "Unexpected end of JSON text"));
        };
        if top.obj && (st == St::Value || st == St::Colon) {
            self.drop_member();
        }
        if top.call && st == St::Value {
            self.out.push(b"null");
        }
        if self.comma.take().is_some() {
            self.rep(Repair::TrailingComma);
        }
        self.wa = self.wb;
        while let Some(f) = self.stack.pop() {
            if !f.call {
                self.out.push(if f.obj { b"}" } else { b"]" });
            }
        }
        self.rep(Repair::ClosedContainer);
        self.truncated = true;
        Ok(())
    }

    /// Writes the separator before a new array element (objects do it in `begin_member`).
    fn begin_value(&mut self) {
        let comma = self.comma.take();
        if let Some(f) = self.stack.last_mut().filter(|f| !f.obj && !f.call) {
            let members = f.members;
            f.members = true;
            if members {
                self.separate(comma);
            }
        }
        self.flush_ws();
    }

    fn separate(&mut self, comma: Option<usize>) {
        match comma {
            Some(k) => self.out.copy(k, k + 1),
            None => {
                self.out.push(b",");
                self.rep(Repair::MissingComma);
            }
        }
    }

    fn begin_member(&mut self) {
        let len = self.out.len();
        let comma = self.comma.take();
        let Some(f) = self.stack.last_mut() else {
            return;
        };
        f.mark = len;
        let members = f.members;
        f.prev = members;
        f.members = true;
        if members {
            self.separate(comma);
        }
        self.flush_ws();
    }

    /// Removes the member being written (key, colon, its comma) from the output.
    fn drop_member(&mut self) {
        if let Some(f) = self.stack.last_mut() {
            f.members = f.prev;
            let mark = f.mark;
            self.out.truncate(mark);
        }
        self.wa = self.wb;
        self.rep(Repair::DroppedDanglingMember);
    }

    fn push_frame(&mut self, obj: bool) -> St {
        self.out.copy(self.i, self.i + 1);
        self.i += 1;
        self.stack.push(Frame {
            obj,
            call: false,
            members: false,
            mark: 0,
            prev: false,
        });
        if obj {
            St::Key
        } else {
            St::Value
        }
    }

    /// Closes the innermost container at a closing bracket `c` (any bracket closes it).
    fn close(&mut self, c: u8) -> St {
        if let Some(f) = self.stack.pop() {
            if self.comma.take().is_some() {
                self.rep(Repair::TrailingComma);
            }
            self.flush_ws();
            let want = if f.obj { b'}' } else { b']' };
            if c == want {
                self.out.copy(self.i, self.i + 1);
            } else {
                self.out.push(&[want]);
                self.rep(Repair::MismatchedBracket);
            }
        }
        self.i += 1;
        St::After
    }

    /// Closes the innermost object without consuming anything (`{"a":1{` / `{"a":1,[`).
    fn close_missing(&mut self) -> St {
        if self.stack.pop().is_some() {
            self.comma = None;
            self.out.push(b"}");
            self.rep(Repair::ClosedContainer);
        }
        St::After
    }

    fn is_ellipsis(&self) -> bool {
        self.at(self.i) == b'.' && self.at(self.i + 1) == b'.' && self.at(self.i + 2) == b'.'
    }

    fn value(&mut self, c: u8) -> Result<St, RepairError> {
        let top = self.stack.last().map(|f| f.obj || f.call);
        match c {
            b'{' | b'[' => {
                self.begin_value();
                Ok(self.push_frame(c == b'{'))
            }
            b']' | b'}' | b',' | b')' if top == Some(true) => {
                // `{"a":}` / `{"a":,"b":1}` / `ObjectId()`
                self.flush_ws();
                self.out.push(b"null");
                self.rep(Repair::MissingValue);
                Ok(St::After)
            }
            b']' | b'}' if top == Some(false) => Ok(self.close(c)),
            b',' if top == Some(false) => {
                // `[,1]`, `[1,,2]`
                self.i += 1;
                self.rep(Repair::TrailingComma);
                Ok(St::Value)
            }
            b':' if top.is_some() => {
                self.i += 1;
                Ok(St::Value)
            }
            b']' | b'}' | b',' | b':' => Err(self.unexpected(self.i)),
            b'.' if self.is_ellipsis() => {
                self.i += 3;
                self.rep(Repair::Ellipsis);
                Ok(St::Value)
            }
            _ if quote_at(self.b, self.i, self.end).is_some() => {
                self.begin_value();
                if !self.string(true) {
                    self.concat();
                }
                Ok(St::After)
            }
            b'-' | b'.' | b'0'..=b'9' => {
                self.begin_value();
                self.number();
                Ok(St::After)
            }
            _ => {
                self.begin_value();
                if self.call() {
                    return Ok(St::Value);
                }
                if c != b'/' || !self.regex() {
                    self.word()?;
                }
                Ok(St::After)
            }
        }
    }

    /// A JavaScript regex literal `/[a-z]+/` becomes a string.
    fn regex(&mut self) -> bool {
        let (b, s) = (self.b, self.i);
        if s < self.no_regex {
            return false;
        }
        let mut j = s + 1;
        while j < self.end && !matches!(b[j], b'/' | b'\n') {
            j += 1 + (b[j] == b'\\') as usize;
        }
        let k = j + 1;
        if j >= self.end || b[j] != b'/' {
            self.no_regex = j;
            return false;
        }
        if k < self.end && !is_ws(b[k]) && !matches!(b[k], b',' | b']' | b'}') {
            return false;
        }
        self.out.push(b"\"");
        self.escaped(s, k);
        self.out.push(b"\"");
        self.rep(Repair::UnquotedString);
        self.i = k;
        true
    }

    /// `callback(` / `ObjectId(`: unwrap the call, keeping only its argument.
    fn call(&mut self) -> bool {
        let (b, s) = (self.b, self.i);
        let mut j = s;
        while j < self.end && is_ident(b[j]) {
            j += 1;
        }
        let name = j;
        while j < self.end && matches!(b[j], b' ' | b'\t') {
            j += 1;
        }
        if name == s
            || b[s].is_ascii_digit()
            || self.at(j) != b'('
            || self.stack.last().is_some_and(|f| f.call)
        {
            return false;
        }
        self.i = j + 1;
        self.rep(Repair::FunctionCall);
        self.stack.push(Frame {
            obj: false,
            call: true,
            members: false,
            mark: 0,
            prev: false,
        });
        true
    }

    fn after(&mut self, c: u8) -> Result<St, RepairError> {
        if self.stack.last().is_some_and(|f| f.call) {
            // End of a `name(...)` wrapper: skip `)` and a JSONP `;`.
            self.stack.pop();
            if c == b')' {
                self.i += 1;
                self.skip_ws();
                if self.at(self.i) == b';' {
                    self.i += 1;
                }
            }
            return Ok(St::After);
        }
        let obj = self.stack.last().is_some_and(|f| f.obj);
        match c {
            b',' => {
                self.flush_ws();
                self.comma = Some(self.i);
                self.i += 1;
                Ok(if obj { St::Key } else { St::Value })
            }
            b']' | b'}' => Ok(self.close(c)),
            b':' => {
                // Stray colon (`[1:2]`): skip it.
                self.i += 1;
                Ok(St::After)
            }
            b'{' | b'[' if obj => Ok(self.close_missing()),
            // Missing comma: the next member starts right here.
            _ => Ok(if obj { St::Key } else { St::Value }),
        }
    }

    fn key(&mut self, c: u8) -> Result<St, RepairError> {
        match c {
            b'}' | b']' => Ok(self.close(c)),
            b'{' | b'[' => Ok(self.close_missing()),
            b',' => {
                self.i += 1;
                self.rep(Repair::TrailingComma);
                Ok(St::Key)
            }
            b':' => {
                // `{:1}`: no key; skip the colon and read on.
                self.i += 1;
                Ok(St::Key)
            }
            b'.' if self.is_ellipsis() => {
                self.i += 3;
                self.rep(Repair::Ellipsis);
                Ok(St::Key)
            }
            _ => {
                self.begin_member();
                let cut = if quote_at(self.b, self.i, self.end).is_some() {
                    self.string(true)
                } else {
                    self.unquoted(true)
                };
                if cut {
                    // `{"a":1,"b` — a key cut off by truncation: drop it.
                    self.drop_member();
                    return Ok(St::Key);
                }
                Ok(St::Colon)
            }
        }
    }

    fn colon(&mut self, c: u8) -> Result<St, RepairError> {
        match c {
            b':' | b'=' => {
                self.flush_ws();
                if c == b':' {
                    self.out.copy(self.i, self.i + 1);
                } else {
                    self.out.push(b":");
                    self.rep(Repair::MissingColon);
                }
                self.i += 1;
            }
            b',' | b'}' | b']' => {
                // `{"a", "b": 1}`: a key without value; drop it.
                self.drop_member();
                return Ok(St::Key);
            }
            _ => {
                self.out.push(b":");
                self.rep(Repair::MissingColon);
            }
        }
        Ok(St::Value)
    }

    // ---- scalars ------------------------------------------------------------------------

    /// Number, or a number-like token that is really a string (`0.0.1`, `2024-10-18`, `007`).
    fn number(&mut self) {
        let (b, s) = (self.b, self.i);
        let digits = |mut j: usize| {
            while j < self.end && b[j].is_ascii_digit() {
                j += 1;
            }
            j
        };
        let neg = b[s] == b'-';
        let ia = s + neg as usize;
        let ib = digits(ia);
        let (mut fa, mut fb, mut dot) = (ib, ib, false);
        if self.at(ib) == b'.' {
            dot = true;
            fa = ib + 1;
            fb = digits(fa);
        }
        let (mut ea, mut eb, mut e) = (fb, fb, false);
        if matches!(self.at(fb), b'e' | b'E') && (ib > ia || fb > fa) {
            e = true;
            ea = fb + 1 + matches!(self.at(fb + 1), b'+' | b'-') as usize;
            eb = digits(ea);
        }
        let j = eb;
        if neg && ib == ia && !dot && self.b[ia..self.end].starts_with(b"Infinity") {
            self.out.push(b"null");
            self.rep(Repair::JsLiteral);
            self.i = ia + 8;
            return;
        }
        if j < self.end
            && !is_ws(b[j])
            && !matches!(
                b[j],
                b',' | b']' | b'}' | b'[' | b'{' | b':' | b'(' | b')' | b'/' | b'"'
            )
        {
            self.unquoted(false);
            return;
        }
        self.i = j;
        let exp = b[ea..eb]
            .iter()
            .fold(0i64, |v, &d| (v * 10 + (d - b'0') as i64).min(1 << 40));
        let exp = if b[ea - 1] == b'-' { -exp } else { exp };
        // `Value::parse` (like serde_json) rejects numbers beyond f64 (`1e999`): those become strings too. The value is
        // below 10^mag; at mag 309 compare the digits with f64::MAX (no float parsing: its
        // tables would cost kilobytes of wasm).
        let mag = (ib - ia) as i64 - (&b[ia..ib] == b"0") as i64 + exp;
        let mut huge = mag > 309;
        if mag == 309 {
            let mut max = b"17976931348623157".iter();
            for &d in b[ia..ib]
                .iter()
                .chain(&b[fa..fb])
                .skip_while(|&&d| d == b'0')
            {
                match max.next() {
                    Some(&m) if d == m => {}
                    Some(&m) => {
                        huge = d > m;
                        break;
                    }
                    None if d > b'0' => {
                        huge = true;
                        break;
                    }
                    None => {}
                }
            }
        }
        if ib - ia > 1 && b[ia] == b'0' || huge {
            // Leading zeros may carry meaning (zip codes, ids): keep the text as a string.
            self.out.push(b"\"");
            self.out.copy(s, j);
            self.out.push(b"\"");
            self.rep(Repair::InvalidNumber);
            return;
        }
        if ib > ia && (!dot || fb > fa) && (!e || eb > ea) {
            self.out.copy(s, j);
            return;
        }
        // `2.` `.5` `-` `1e` `1e+`: cut off or sloppy; keep what carries a value.
        self.rep(Repair::InvalidNumber);
        if j >= self.end {
            self.truncated = true;
        }
        if ib == ia && fb == fa {
            self.out.push(b"0");
            return;
        }
        if neg {
            self.out.push(b"-");
        }
        if ib > ia {
            self.out.copy(ia, ib);
        } else {
            self.out.push(b"0");
        }
        if fb > fa {
            self.out.copy(fa - 1, fb);
        }
        if e && eb > ea {
            self.out.copy(fb, eb);
        }
    }

    /// Keyword (`true`, Python `None`, JS `undefined`) or an unquoted string value.
    fn word(&mut self) -> Result<(), RepairError> {
        let (b, s) = (self.b, self.i);
        let mut j = s;
        while j < self.end && is_ident(b[j]) {
            j += 1;
        }
        let w = &b[s..j];
        let bounded = j >= self.end
            || is_ws(b[j])
            || matches!(b[j], b',' | b']' | b'}' | b':' | b'/' | b')' | b'"');
        if bounded && !w.is_empty() {
            let lit: Option<(&[u8], Option<Repair>)> = match w {
                b"true" | b"false" | b"null" => Some((w, None)),
                b"True" => Some((b"true", Some(Repair::PythonLiteral))),
                b"False" => Some((b"false", Some(Repair::PythonLiteral))),
                b"None" => Some((b"null", Some(Repair::PythonLiteral))),
                b"undefined" | b"NaN" | b"Infinity" => Some((b"null", Some(Repair::JsLiteral))),
                _ if j >= self.end && !self.stack.iter().rev().all(|f| f.call) => {
                    [&b"true"[..], b"false", b"null"]
                        .into_iter()
                        .find(|k| k.starts_with(w))
                        .map(|k| (k, Some(Repair::CompletedLiteral)))
                }
                _ => None,
            };
            if let Some((lit, r)) = lit {
                match r {
                    None => self.out.copy(s, j),
                    Some(r) => {
                        self.out.push(lit);
                        self.rep(r);
                        if r == Repair::CompletedLiteral {
                            self.truncated = true;
                        }
                    }
                }
                self.i = j;
                return Ok(());
            }
        }
        if self.stack.iter().rev().all(|f| f.call) {
            // A bare word outside any object/array is prose, not JSON.
            return Err(err(s, "No JSON value found"));
        }
        self.unquoted(false);
        Ok(())
    }

    /// Quotes an unquoted key or value; returns true if it ran into the end of the text.
    fn unquoted(&mut self, key: bool) -> bool {
        let (b, s, end) = (self.b, self.i, self.end);
        let mut j = s + 1;
        while j < end {
            let c = b[j];
            if matches!(c, b',' | b'[' | b']' | b'{' | b'}' | b'\n' | b'"')
                || key && (c == b':' || c == b'=' || quote_at(b, j, end).is_some())
                || c == b'/'
                    && (self.at(j + 1) == b'*' || self.at(j + 1) == b'/' && b[j - 1] != b':')
            {
                break;
            }
            j += 1;
        }
        let j = j.min(end);
        let mut t = j;
        while t > s && is_ws(b[t - 1]) {
            t -= 1;
        }
        self.out.push(b"\"");
        self.escaped(s, t);
        self.out.push(b"\"");
        self.rep(if key {
            Repair::UnquotedKey
        } else {
            Repair::UnquotedString
        });
        self.wa = t;
        self.wb = j;
        self.i = j;
        if t == j && self.at(j) == b'"' {
            // `{a":1}`: the start quote was missing, this is the end quote.
            self.i += 1;
        }
        j >= end
    }

    /// Writes `b[a..t]` as JSON string content, escaping `\`, `"` and control characters.
    fn escaped(&mut self, a: usize, t: usize) {
        let mut run = a;
        for j in a..t {
            let c = self.b[j];
            if c == b'\\' || c == b'"' || c < 0x20 {
                self.out.copy(run, j);
                self.escape(c);
                run = j + 1;
            }
        }
        self.out.copy(run, t);
    }

    fn escape(&mut self, c: u8) {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        match c {
            b'\n' => self.out.push(b"\\n"),
            b'\r' => self.out.push(b"\\r"),
            b'\t' => self.out.push(b"\\t"),
            8 => self.out.push(b"\\b"),
            12 => self.out.push(b"\\f"),
            b'"' | b'\\' => self.out.push(&[b'\\', c]),
            _ => self.out.push(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[(c >> 4) as usize],
                HEX[(c & 15) as usize],
            ]),
        }
        if c < 0x20 {
            self.rep(Repair::EscapedControlChar);
        }
    }

    // ---- strings ------------------------------------------------------------------------

    /// Parses a quoted string at `self.i`; returns true if it was cut off by the end of the text.
    fn string(&mut self, open: bool) -> bool {
        let (b, s, end) = (self.b, self.i, self.end);
        let Some((cls, ql)) = quote_at(b, s, end) else {
            return false;
        };
        if cls != 0 {
            self.rep(if cls == 4 {
                Repair::InvalidEscape
            } else {
                Repair::SingleQuotes
            });
        }
        let from = s + ql;
        if cls == 0 && open && s >= self.memo[0] {
            // Fast path for a well-formed string: find its end quote, copy it whole.
            let mut j = from;
            loop {
                j = scan_plain(b, j, end);
                if j >= end {
                    break;
                }
                match b[j] {
                    b'"' => {
                        if let Judge::Accept = self.judge(j, 1, from, 0) {
                            self.out.copy(s, j + 1);
                            self.i = j + 1;
                            return false;
                        }
                        break;
                    }
                    b'\\' => match self.at(j + 1) {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => j += 2,
                        b'u' if (j + 2..j + 6).all(|k| k < end && hex(b[k]).is_some())
                            && !matches!(b[j + 2], b'd' | b'D') =>
                        {
                            j += 6
                        }
                        _ => break,
                    },
                    _ => break,
                }
            }
        }
        let trim = |mut t: usize| {
            while t > from && is_ws(b[t - 1]) {
                t -= 1;
            }
            t
        };
        let (t, resume, quote, cut) = match self.decide(s, from, cls) {
            End::Quote(q, l) => (q, q + l, Some(q), false),
            End::Before(p) => (trim(p), p, None, false),
            End::Stop => {
                let j = self.stop_scan(from, cls);
                if j >= end {
                    (trim(end), end, None, true)
                } else {
                    match end_quote(b, j, end, cls) {
                        0 => (trim(j), j, None, false),
                        l => (j, j + l, Some(j), false),
                    }
                }
            }
            End::Eof => (trim(end), end, None, true),
        };
        if open {
            if cls == 0 {
                self.out.copy(s, s + 1);
            } else {
                self.out.push(b"\"");
            }
        }
        self.content(from, t, cls);
        match quote {
            Some(q) if b[q] == b'"' => self.out.copy(q, q + 1),
            _ => self.out.push(b"\""),
        }
        if quote.is_none() {
            self.rep(Repair::ClosedString);
            self.wa = t;
            self.wb = resume;
        }
        if cut {
            self.truncated = true;
        }
        self.i = resume;
        cut
    }

    /// `"a" + "b"` → `"ab"`; a `+` not followed by a string is dropped.
    fn concat(&mut self) {
        loop {
            self.skip_ws();
            if self.at(self.i) != b'+' {
                return;
            }
            self.i += 1;
            self.rep(Repair::Concatenation);
            self.skip_ws();
            if self.i >= self.end || quote_at(self.b, self.i, self.end).is_none() {
                return;
            }
            self.wa = self.wb;
            let n = self.out.len();
            self.out.truncate(n - 1);
            if self.string(false) {
                return;
            }
        }
    }

    /// Decides where the string opened at `s` ends, without writing anything.
    ///
    /// A candidate end quote is judged only from the text around it (`judge`), so the result
    /// for any later string of the same quote style that starts inside an already-scanned stretch
    /// is known; `memo` records the one outcome that can make the parser re-enter such a stretch
    /// (`Stop`), which keeps pathological inputs linear.
    fn decide(&mut self, s: usize, from: usize, cls: usize) -> End {
        if s < self.memo[cls] {
            return End::Stop;
        }
        let (b, end) = (self.b, self.end);
        let mut j = from;
        while j < end {
            let c = b[j];
            let l = if c == b'\\' {
                if cls != 4 {
                    j += 2;
                    continue;
                }
                let k = self.backslashes(j);
                if k - j != 1 || self.at(k) != b'"' {
                    j = k + (self.at(k) == b'"') as usize;
                    continue;
                }
                2
            } else {
                end_quote(b, j, end, cls)
            };
            if l > 0 {
                match self.judge(j, l, from, cls) {
                    Judge::Accept => return End::Quote(j, l),
                    Judge::Content => {}
                    Judge::Before(p) => return End::Before(p),
                    Judge::Stop => {
                        self.memo[cls] = j;
                        return End::Stop;
                    }
                }
                j += l;
                continue;
            }
            j += 1;
        }
        // The text ends inside this string: cut off, or (`["abc]`) just missing its end quote. Not the latter
        // when the string would stop at an opening bracket: `"title":"Terraform: {locals}` was cut, and reading
        // its `{locals}` as JSON would invent structure from the model's text.
        self.truncated = true;
        let stop = self.stop_scan(from, cls);
        if self.last_closer && !(stop < end && matches!(b[stop], b'{' | b'[')) {
            self.memo[cls] = end;
            End::Stop
        } else {
            End::Eof
        }
    }

    /// Is the quote at `q` the end of the string, an unescaped quote inside it, or a sign
    /// that the real end quote is missing?
    fn judge(&self, q: usize, l: usize, from: usize, cls: usize) -> Judge {
        let (b, end) = (self.b, self.end);
        let n = q + l;
        let mut k = n;
        while k < end && is_ws(b[k]) {
            k += 1;
        }
        if k >= end {
            return Judge::Accept;
        }
        let c = b[k];
        if cls == 0 {
            // `"(5'3")"`, `"72""`, `"Learn "Rust", then Go"`: a quote followed by a bracket, a
            // quote, or a comma plus a bare word, and then a quote that does look like the end.
            let scan = match b[n] {
                b')' | b']' | b'}' => Some(n + 1),
                b'"' => Some(n),
                _ if c == b',' => {
                    let mut w = k + 1;
                    while w < end && matches!(b[w], b' ' | b'\t') {
                        w += 1;
                    }
                    (w < end && b[w].is_ascii_alphabetic()).then_some(k + 1)
                }
                _ => None,
            };
            if let Some(mut m) = scan {
                while m < end
                    && !matches!(b[m], b'"' | b',' | b':' | b'[' | b']' | b'{' | b'}' | b'\n')
                {
                    m += 1;
                }
                if m < end && b[m] == b'"' {
                    let mut k2 = m + 1;
                    while k2 < end && is_ws(b[k2]) {
                        k2 += 1;
                    }
                    if k2 >= end || matches!(b[k2], b',' | b']' | b'}') {
                        return Judge::Content;
                    }
                }
            }
        }
        if matches!(
            c,
            b',' | b':' | b'[' | b']' | b'{' | b'}' | b'(' | b')' | b'+' | b'/'
        ) || c.is_ascii_digit()
            || has_newline(&b[n..k])
            || quote_at(b, k, end).is_some()
        {
            return Judge::Accept;
        }
        let mut p = q;
        while p > from && is_ws(b[p - 1]) {
            p -= 1;
        }
        match b[p - 1] {
            b',' if p > from => Judge::Before(p - 1),
            b':' | b'[' | b']' | b'{' | b'}' | b'(' | b')' | b'+' | b'/' if p > from => Judge::Stop,
            _ => Judge::Content,
        }
    }

    /// With the end quote missing: the string ends at the first delimiter or end quote.
    fn stop_scan(&self, from: usize, cls: usize) -> usize {
        let (b, end) = (self.b, self.end);
        let mut j = from;
        while j < end {
            let c = b[j];
            if c == b'\\' {
                if cls != 4 {
                    j += 2;
                    continue;
                }
                let k = self.backslashes(j);
                if k - j == 1 && self.at(k) == b'"' {
                    return j;
                }
                j = k + (self.at(k) == b'"') as usize;
                continue;
            }
            if end_quote(b, j, end, cls) > 0
                || matches!(c, b',' | b'[' | b']' | b'{' | b'}' | b'\n' | b'+')
                || c == b'/'
                    && (self.at(j + 1) == b'*' || self.at(j + 1) == b'/' && b[j - 1] != b':')
            {
                return j;
            }
            j += 1;
        }
        end
    }

    /// End of the run of backslashes starting at `j`.
    fn backslashes(&self, mut j: usize) -> usize {
        while j < self.end && self.b[j] == b'\\' {
            j += 1;
        }
        j
    }

    /// Writes string content `b[from..t]`, fixing escapes, raw control characters and quotes.
    fn content(&mut self, from: usize, t: usize, cls: usize) {
        let b = self.b;
        let (mut j, mut run) = (from, from);
        while j < t {
            let c = b[j];
            if c == b'\\' && cls == 4 {
                // Remove one level of escaping: `\"` → `"`, `\\\\"` → `\"`, `\\n` → `\n`, `\,` → `,`.
                let k = self.backslashes(j).min(t);
                let x = if k < t { b[k] } else { 0 };
                self.out.copy(run, j);
                if x == b'"' {
                    self.out.push(b"\\\"");
                    j = k + 1;
                } else {
                    let inner = (k - j) / 2;
                    for _ in 0..inner / 2 {
                        self.out.push(b"\\\\");
                    }
                    if inner % 2 == 1 && matches!(x, b'/' | b'b' | b'f' | b'n' | b'r' | b't') {
                        self.out.push(b"\\");
                    }
                    j = k;
                }
                run = j;
                continue;
            }
            if c == b'\\' {
                let n = if j + 1 < t { b[j + 1] } else { 0 };
                match n {
                    b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => {
                        j += 2;
                        continue;
                    }
                    b'u' => {
                        let h = (j + 2..(j + 6).min(t))
                            .take_while(|&k| hex(b[k]).is_some())
                            .count();
                        if h == 4 {
                            let v = (j + 2..j + 6).fold(0, |v, k| v * 16 + hex(b[k]).unwrap_or(0));
                            let low = |k: usize| {
                                k + 6 <= t
                                    && b[k] == b'\\'
                                    && b[k + 1] == b'u'
                                    && (k + 2..k + 6).all(|x| hex(b[x]).is_some())
                                    && matches!(b[k + 2], b'd' | b'D')
                                    && matches!(b[k + 3], b'c'..=b'f' | b'C'..=b'F')
                            };
                            if (0xD800..0xDC00).contains(&v) && low(j + 6) {
                                j += 12;
                                continue;
                            }
                            if !(0xD800..0xE000).contains(&v) {
                                j += 6;
                                continue;
                            }
                            // A pair cut after its high half (`\ud83d`, `\ud83d\ude0`) at the end: dropped, as a cut `\u26` is.
                            let cut_pair = v < 0xDC00
                                && t == self.end
                                && b[j + 6..t].len() < 6
                                && b[j + 6..t].iter().zip(b"\\ud").all(|(&c, &w)| c.eq_ignore_ascii_case(&w))
                                && b[j + 6..t].get(3).is_none_or(|c| matches!(c, b'c'..=b'f' | b'C'..=b'F'))
                                && b[(j + 10).min(t)..t].iter().all(|&c| hex(c).is_some());
                            self.out.copy(run, j);
                            if cut_pair {
                                j = t;
                                run = j;
                                continue;
                            }
                            // A lone surrogate is rejected by serde_json and cannot live in a Rust string.
                            self.out.push(b"\\ufffd");
                            self.rep(Repair::InvalidEscape);
                            j += 6;
                            run = j;
                            continue;
                        }
                        self.out.copy(run, j);
                        if j + 2 + h >= t && t == self.end {
                            // `"\u26` cut off at the end: drop the partial escape.
                            j = t;
                        } else {
                            self.rep(Repair::InvalidEscape);
                            j += 1;
                        }
                        run = j;
                        continue;
                    }
                    _ => {
                        // `\a`, `\'`, a backslash before a raw newline: drop the backslash.
                        self.out.copy(run, j);
                        if n != 0 {
                            self.rep(Repair::InvalidEscape);
                        }
                        j += 1;
                        run = j;
                        continue;
                    }
                }
            }
            if c == b'"' || c < 0x20 {
                self.out.copy(run, j);
                self.escape(c);
                if c == b'"' {
                    self.rep(Repair::UnescapedQuote);
                }
                run = j + 1;
            }
            j += 1;
        }
        self.out.copy(run, t.max(run));
    }

    // ---- after the value ----------------------------------------------------------------

    /// Notes what follows the top-level value (it is not part of the output).
    fn trailing(&mut self) {
        let (b, n) = (self.b, self.b.len());
        self.skip_ws();
        let mut k = self.i;
        while k < self.end {
            match b[k] {
                b',' => self.rep(Repair::TrailingComma),
                b']' | b'}' => self.rep(Repair::MismatchedBracket),
                c if is_ws(c) => {}
                _ => break,
            }
            k += 1;
        }
        let fence = if k < self.end && b[k..].starts_with(b"```") {
            Some(k)
        } else if k >= self.end && self.end < n {
            Some(self.end)
        } else {
            None
        };
        match fence {
            Some(f) => {
                self.rep(Repair::StrippedFence);
                if b[(f + 3).min(n)..].iter().any(|&c| !is_ws(c)) {
                    self.rep(Repair::StrippedProse);
                }
            }
            None if k < self.end => self.rep(Repair::StrippedProse),
            None => {}
        }
    }

    fn finish(mut self, text: &str) -> Repaired {
        self.wa = self.wb;
        let out = &mut self.out;
        // Whitespace kept before a top-level value (after `...` or inside `name( ... )`) is not part of it.
        let json = if out.buf.is_empty() {
            trim_ws(text.get(out.a..out.b).unwrap_or_default()).to_string()
        } else {
            out.flush();
            let buf = std::mem::take(&mut out.buf);
            let json = String::from_utf8(buf)
                .unwrap_or_else(|e| crate::text::lossy(e.as_bytes()));
            let trimmed = trim_ws(&json);
            if trimmed.len() < json.len() {
                trimmed.to_string()
            } else {
                json
            }
        };
        Repaired {
            json,
            repairs: self.reps,
            truncated: self.truncated,
        }
    }
}
