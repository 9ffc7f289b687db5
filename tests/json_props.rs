//! Properties of `repair_json`: valid JSON passes through byte-identical, every prefix of a
//! valid document (a truncated model answer) repairs to valid JSON, and no input panics.
#![cfg(not(target_arch = "wasm32"))]

use gemini_roadmap::json::repair_json;
use proptest::prelude::*;
use serde_json::{Map, Number, Value};

/// Characters that exercise the repair paths (quotes, escapes, brackets, fences, control chars).
const NASTY: &[char] = &[
    '"',
    '\'',
    '\\',
    '`',
    '{',
    '}',
    '[',
    ']',
    ':',
    ',',
    '\n',
    '\t',
    '\u{0}',
    '\u{1f}',
    '/',
    '*',
    '#',
    '+',
    '.',
    '-',
    ' ',
    'e',
    'u',
    'a',
    '0',
    '9',
    '\u{201c}',
    '\u{201d}',
    '\u{2018}',
    '\u{2019}',
    '\u{b4}',
    '\u{a0}',
    '\u{feff}',
    '\u{1F600}',
    '\u{e9}',
];

fn text(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![any::<char>(), prop::sample::select(NASTY)],
        0..max,
    )
    .prop_map(|cs| cs.into_iter().collect())
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |f| Number::from_f64(f).map(Value::Number)),
        text(12).prop_map(Value::String),
        // Strings that look like broken JSON, fences or comments must pass through untouched.
        prop::collection::vec(prop::sample::select(TOKENS), 0..6)
            .prop_map(|t| Value::String(t.concat())),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((text(8), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn container() -> impl Strategy<Value = Value> {
    json_value().prop_map(|v| match v {
        Value::Array(_) | Value::Object(_) => v,
        other => Value::Array(vec![other]),
    })
}

/// Tokens that look like (broken) model output, for structured garbage.
const TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "\"",
    "'",
    "\"a\"",
    "\"b c\"",
    "1",
    "-2.5e3",
    "true",
    "None",
    "tru",
    "key",
    "\n",
    " ",
    "//c\n",
    "/*c*/",
    "#c\n",
    "```json\n",
    "```",
    "\\",
    "\\u12",
    "\\n",
    "...",
    "“",
    "”",
    "0.0.1",
    "+",
    "(",
    ")",
    "Here is the JSON: ",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn valid_json_is_returned_unchanged(v in json_value()) {
        for s in [serde_json::to_string(&v).unwrap(), serde_json::to_string_pretty(&v).unwrap()] {
            let r = repair_json(&s).unwrap();
            prop_assert_eq!(&r.json, &s);
            prop_assert!(r.repairs.is_empty(), "repairs {:?} for {}", r.repairs, s);
            prop_assert!(!r.truncated);
        }
    }

    #[test]
    fn every_prefix_repairs_to_valid_json(v in container(), pretty in any::<bool>()) {
        let doc = if pretty { serde_json::to_string_pretty(&v).unwrap() } else { serde_json::to_string(&v).unwrap() };
        for (cut, _) in doc.char_indices().skip(1) {
            let prefix = &doc[..cut];
            let r = repair_json(prefix).map_err(|e| TestCaseError::fail(format!("{prefix:?}: {e}")))?;
            let parsed = serde_json::from_str::<Value>(&r.json);
            prop_assert!(parsed.is_ok(), "prefix {:?} -> invalid {:?}", prefix, r.json);
            prop_assert!(r.truncated, "prefix {:?} not reported truncated", prefix);
        }
        // Cutting off only the final bracket loses nothing.
        let r = repair_json(&doc[..doc.len() - 1]).unwrap();
        prop_assert_eq!(serde_json::from_str::<Value>(&r.json).unwrap(), serde_json::from_str::<Value>(&doc).unwrap());
        prop_assert_eq!(repair_json(&doc).unwrap().json, doc);
    }

    #[test]
    fn arbitrary_text_never_panics_and_ok_means_valid(s in text(64)) {
        if let Ok(r) = repair_json(&s) {
            prop_assert!(serde_json::from_str::<Value>(&r.json).is_ok(), "{:?} -> invalid {:?}", s, r.json);
        }
    }

    #[test]
    fn broken_json_like_text_repairs_to_valid_json(parts in prop::collection::vec(prop::sample::select(TOKENS), 0..40)) {
        let s: String = parts.concat();
        if let Ok(r) = repair_json(&s) {
            prop_assert!(serde_json::from_str::<Value>(&r.json).is_ok(), "{:?} -> invalid {:?}", s, r.json);
        }
    }
}
