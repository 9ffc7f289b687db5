//! JSON for the whole crate: lenient repair of model output (fences, prose, quotes, commas, truncation)
//! into valid text, and the strict [`Value`] parser/writer with typed [`FromJson`]/[`ToJson`] mapping.

pub mod codec;
pub mod num;
mod repair;
pub mod value;

pub use codec::{decode, DecodeError, Fields, FromJson, Obj, ReadJson, ToJson};
pub use repair::repair_json;
pub use value::{quote, Map, ParseError, Value};

/// What was changed to make the text parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repair {
    /// A markdown code fence (```` ``` ```` / ```` ```json ````) was removed.
    StrippedFence,
    /// Text before or after the JSON value was removed.
    StrippedProse,
    /// A comma before `]`/`}` (or at the end of the value) was removed.
    TrailingComma,
    /// A comma between two members/elements was inserted.
    MissingComma,
    /// A `//`, `/* */` or `#` comment was removed.
    Comment,
    /// A string in single, back or curly quotes was re-quoted with `"`.
    SingleQuotes,
    /// An object key without quotes was quoted.
    UnquotedKey,
    /// `True`/`False`/`None` became `true`/`false`/`null`.
    PythonLiteral,
    /// A raw control character (newline, tab, ...) inside a string was escaped.
    EscapedControlChar,
    /// A string with a missing end quote (or cut off by truncation) was closed.
    ClosedString,
    /// An object/array left open at the end of the text was closed.
    ClosedContainer,
    /// A member cut off by truncation (`"key"` or `"key":` without value) was dropped.
    DroppedDanglingMember,
    /// A colon between key and value was inserted.
    MissingColon,
    /// A missing value (`{"a":}`) became `null`.
    MissingValue,
    /// An invalid escape (`\a`, `\'`, bad `\u`, lone surrogate) was fixed.
    InvalidEscape,
    /// An unescaped `"` inside a string was escaped.
    UnescapedQuote,
    /// A malformed or cut-off number (`.5`, `2.`, `1e`, `-`, `007`) was fixed or quoted.
    InvalidNumber,
    /// A half-written literal at the end of the text (`tru`) was completed.
    CompletedLiteral,
    /// JavaScript `undefined`/`NaN`/`Infinity` became `null`.
    JsLiteral,
    /// An unquoted string value was quoted.
    UnquotedString,
    /// A mismatched or redundant closing bracket was replaced or ignored.
    MismatchedBracket,
    /// Non-ASCII whitespace (NBSP, BOM, ...) outside strings was removed.
    SpecialWhitespace,
    /// A `...` placeholder was removed.
    Ellipsis,
    /// `"a" + "b"` was joined into one string.
    Concatenation,
    /// A `name(...)` wrapper (JSONP, MongoDB) was removed.
    FunctionCall,
}

impl Repair {
    /// Stable kebab-case name, for logs and the JS side.
    pub fn as_str(&self) -> &'static str {
        match self {
            Repair::StrippedFence => "fence",
            Repair::StrippedProse => "prose",
            Repair::TrailingComma => "trailing-comma",
            Repair::MissingComma => "missing-comma",
            Repair::Comment => "comment",
            Repair::SingleQuotes => "single-quotes",
            Repair::UnquotedKey => "unquoted-key",
            Repair::PythonLiteral => "python-literal",
            Repair::EscapedControlChar => "escaped-control-char",
            Repair::ClosedString => "closed-string",
            Repair::ClosedContainer => "closed-container",
            Repair::DroppedDanglingMember => "dropped-dangling-member",
            Repair::MissingColon => "missing-colon",
            Repair::MissingValue => "missing-value",
            Repair::InvalidEscape => "invalid-escape",
            Repair::UnescapedQuote => "unescaped-quote",
            Repair::InvalidNumber => "invalid-number",
            Repair::CompletedLiteral => "completed-literal",
            Repair::JsLiteral => "js-literal",
            Repair::UnquotedString => "unquoted-string",
            Repair::MismatchedBracket => "mismatched-bracket",
            Repair::SpecialWhitespace => "special-whitespace",
            Repair::Ellipsis => "ellipsis",
            Repair::Concatenation => "concatenation",
            Repair::FunctionCall => "function-call",
        }
    }
}

impl std::fmt::Display for Repair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Valid JSON text plus what had to be done to get it.
#[derive(Debug, Clone, PartialEq)]
pub struct Repaired {
    /// Valid JSON text (for already-valid input: the trimmed input, byte for byte).
    pub json: String,
    /// Repairs applied, deduplicated, in first-seen order. Empty means the input was valid JSON.
    pub repairs: Vec<Repair>,
    /// The input ended before the top-level value was closed (the model hit its token limit).
    pub truncated: bool,
}

/// The text could not be turned into JSON (no JSON value in it, or hopeless structure).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepairError {
    /// Byte offset in the input.
    pub position: usize,
    pub message: String,
}

impl std::fmt::Display for RepairError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text())
    }
}

impl RepairError {
    /// The message (what `Display` prints), built without `core::fmt`.
    pub fn text(&self) -> String {
        cat!(&self.message, " at position ", self.position)
    }

    /// The same error positioned in UTF-16 code units of `text` (the input), as JavaScript counts a string.
    pub fn in_utf16(self, text: &str) -> RepairError {
        let position = crate::text::utf16_offset(text, self.position);
        RepairError { position, ..self }
    }
}

impl std::error::Error for RepairError {}
