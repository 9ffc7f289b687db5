//! Finds each complete week object inside a streaming `{"weeks":[...]}` answer as soon as its closing
//! `}` arrives. One pass over the bytes (string- and escape-aware): O(total length).

use std::ops::Range;

#[derive(Debug, Clone, Copy)]
enum Frame {
    Object,
    /// An array; `weeks` when it is the value of a `"weeks"` key or the top-level value.
    Array {
        weeks: bool,
    },
    /// An element of a weeks array, starting at this byte.
    Week(usize),
}

#[derive(Debug, Default)]
pub struct WeekDetector {
    text: String,
    scanned: usize,
    in_string: bool,
    escaped: bool,
    string_start: usize,
    /// The last string that ended: the key when a `[` follows.
    last_string: Range<usize>,
    stack: Vec<Frame>,
    found: usize,
}

impl WeekDetector {
    pub fn new() -> Self {
        Self::default()
    }

    /// Everything pushed so far.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// How many complete week objects have been seen.
    pub fn complete(&self) -> usize {
        self.found
    }

    /// Adds a delta; returns `(index in the weeks array, byte range in text())` of each week it completed.
    pub fn push(&mut self, delta: &str) -> Vec<(usize, Range<usize>)> {
        self.text.push_str(delta);
        let mut out = Vec::new();
        let bytes = self.text.as_bytes();
        let from = self.scanned;
        for (i, &b) in bytes[from..].iter().enumerate() {
            let i = from + i;
            if self.in_string {
                if self.escaped {
                    self.escaped = false;
                } else if b == b'\\' {
                    self.escaped = true;
                } else if b == b'"' {
                    self.in_string = false;
                    self.last_string = self.string_start..i;
                }
                continue;
            }
            match b {
                b'"' => {
                    self.in_string = true;
                    self.string_start = i + 1;
                }
                b'{' => self.stack.push(match self.stack.last() {
                    Some(Frame::Array { weeks: true }) => Frame::Week(i),
                    _ => Frame::Object,
                }),
                b'[' => {
                    let weeks = match self.stack.last() {
                        None => true,
                        Some(Frame::Array { .. }) => false,
                        Some(_) => &bytes[self.last_string.clone()] == b"weeks",
                    };
                    self.stack.push(Frame::Array { weeks });
                }
                b'}' | b']' => {
                    if let Some(Frame::Week(start)) = self.stack.pop() {
                        out.push((self.found, start..i + 1));
                        self.found += 1;
                    }
                }
                _ => {}
            }
        }
        self.scanned = bytes.len();
        out
    }
}
